package incident

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/db"
)

// This file is searching events: by reference number, which names one
// event, and by words in the free text answers, kept in a full-text index
// (table event_search, migration 0012) written in the same transaction as
// the answers it holds. A search by words is a filter like the others: it
// narrows a list within the viewer's scope and combines with every other
// filter.

// searchTable is the full-text index of events' free text.
const searchTable = "event_search"

// Limits on a search, so a typed search cannot build a huge query.
const (
	MaxSearchRunes = 200
	MaxSearchWords = 10
)

// Search is what was typed in a search box: a reference number, or words
// that every event found holds. The zero Search searches nothing.
type Search struct {
	Reference Reference
	Words     []string
}

// IsZero reports whether nothing was searched for.
func (s Search) IsZero() bool { return s.Reference == "" && len(s.Words) == 0 }

// ParseSearch reads a search as people type it. Text that begins with
// "PSE" and has a reference number's length (in any case, with or without
// spaces and hyphens) is a reference number; anything else is words,
// split at every character that is not a letter or a digit. Empty text is
// the zero Search. Errors: Invalid, with a message to show by the search
// box, when the text is too long, has no letters or digits, has too many
// words, or is a reference number mistyped.
func ParseSearch(text string) (Search, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return Search{}, nil
	}
	if !utf8.ValidString(text) {
		return Search{}, apperr.New(apperr.Invalid, "Search using letters and numbers")
	}
	if utf8.RuneCountInString(text) > MaxSearchRunes {
		return Search{}, apperr.New(apperr.Invalid, fmt.Sprintf("Search must be %d characters or fewer", MaxSearchRunes))
	}
	if looksLikeReference(text) {
		ref, err := ParseReference(text)
		if err != nil {
			return Search{}, apperr.New(apperr.Invalid, "Enter a reference number like PSE-7K2M-9QXH, or search for words")
		}
		return Search{Reference: ref}, nil
	}
	words, err := ParseWords(text)
	if err != nil {
		return Search{}, err
	}
	return Search{Words: words}, nil
}

// looksLikeReference reports whether text is meant as a reference number:
// "PSE" and eight more letters and digits, ignoring case, spaces and
// hyphens.
func looksLikeReference(text string) bool {
	n := 0
	var prefix []rune
	for _, r := range strings.ToUpper(text) {
		switch {
		case r == ' ' || r == '-':
			continue
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			return false
		}
		if len(prefix) < 3 {
			prefix = append(prefix, r)
		}
		n++
	}
	return string(prefix) == "PSE" && n == 3+referenceRandom+1
}

// ParseWords splits text into the words a search looks for: runs of
// letters and digits, each once, in lower case. Errors: Invalid when there
// are none, or more than MaxSearchWords.
func ParseWords(text string) ([]string, error) {
	fields := strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	var words []string
	seen := map[string]bool{}
	for _, f := range fields {
		w := strings.ToLower(f)
		if !seen[w] {
			seen[w] = true
			words = append(words, w)
		}
	}
	switch {
	case len(words) == 0:
		return nil, apperr.New(apperr.Invalid, "Enter words to search for, using letters or numbers")
	case len(words) > MaxSearchWords:
		return nil, apperr.New(apperr.Invalid, fmt.Sprintf("Search for %d words or fewer", MaxSearchWords))
	}
	return words, nil
}

// checkWords refuses words ParseWords would not have made.
func checkWords(words []string) bool {
	if len(words) > MaxSearchWords {
		return false
	}
	for _, w := range words {
		if w == "" || utf8.RuneCountInString(w) > MaxSearchRunes {
			return false
		}
		for _, r := range w {
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				return false
			}
		}
	}
	return true
}

// indexText puts an event's free text in the search index, replacing what
// was there, in the transaction that stores the answers.
func indexText(ctx context.Context, tx *db.Tx, eventID int64, org, text string, replace bool) error {
	if replace {
		if _, err := tx.ExecContext(ctx, tx.Dialect.TextDelete(searchTable), eventID); err != nil {
			return fmt.Errorf("incident: clear search index: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, tx.Dialect.TextInsert(searchTable), eventID, org, text); err != nil {
		return fmt.Errorf("incident: search index: %w", err)
	}
	return nil
}

// fewWords is how many matches a search by words may have for its page to
// be read from the matches: past it, the page is read in the list's order
// by the list's index, keeping the events among the matches.
const fewWords = 2000

// wordsPlan reports whether a search by words matches many events (more
// than fewWords, counted in the search index alone, within the scope's
// organisations). Its page is then better read down the list's index,
// keeping the matches: the first page of a word in half the events is
// found after a few dozen; reading the matches and sorting them would read
// every one. A rare word is the other way round: reading down the index
// could pass every event of the organisation to find it.
func (s *Service) wordsPlan(ctx context.Context, scope Scope, f Filter) (bool, error) {
	if len(f.Words) == 0 {
		return false, nil
	}
	text, args := wordsCountQuery(f.dialect, scope, f.Words, fewWords+1)
	var n int
	if err := s.db.QueryRowContext(ctx, text, args...).Scan(&n); err != nil {
		return false, fmt.Errorf("incident: count matches: %w", err)
	}
	return n > fewWords, nil
}

// addWords adds the condition that events hold every word: within the
// scope's organisations when the scope is only organisations, so the index
// alone narrows to them. With many matches the event's id is written as an
// expression (+e.id), which both engines accept and which keeps SQLite
// from reading the page from the matches by their ids (see wordsPlan).
func (q *sqlQuery) addWords(d db.Dialect, scope Scope, words []string, many bool) {
	if len(words) == 0 {
		return
	}
	id := "e.id"
	if many {
		id = "+e.id"
	}
	q.add(id + " IN (" + d.TextMatch(searchTable, searchQuery(scope, words), q.arg) + ")")
}

// searchQuery is the full-text query for words within scope.
func searchQuery(scope Scope, words []string) db.TextQuery {
	tq := db.TextQuery{Words: words}
	if !scope.All && scope.ReporterID == 0 {
		tq.Groups = scope.Orgs
	}
	return tq
}

// wordsOnly reports whether f filters on nothing but words, so that a
// count needs only the search index (for a scope of organisations or all).
func wordsOnly(scope Scope, f Filter) bool {
	if len(f.Words) == 0 || f.Reference != "" || scope.ReporterID != 0 || (!scope.All && len(scope.Orgs) == 0) {
		return false
	}
	// Compared whole, so that a filter added later is not forgotten here.
	g := f
	g.Words, g.Sort, g.dialect, g.manyWords = nil, "", db.Dialect{}, false
	return reflect.DeepEqual(g, Filter{})
}

// wordsCountQuery counts, up to limit, the events in scope holding every
// word, from the search index alone.
func wordsCountQuery(d db.Dialect, scope Scope, words []string, limit int) (string, []any) {
	q := &sqlQuery{}
	match := d.TextMatch(searchTable, searchQuery(scope, words), q.arg)
	return `SELECT COUNT(*) FROM (` + match + ` LIMIT ` + q.arg(limit) + `) x`, q.args
}

// codeOnly reports whether f, once the code counted from event_codes is
// taken out, chooses every event of a scope of organisations or all, so
// that the count needs no other table.
func codeOnly(scope Scope, f Filter) bool {
	if scope.ReporterID != 0 || (!scope.All && len(scope.Orgs) == 0) {
		return false
	}
	g := f
	g.SafetyChallenge, g.Agent, g.Sort, g.dialect, g.manyWords = "", "", "", db.Dialect{}, false
	return reflect.DeepEqual(g, Filter{})
}
