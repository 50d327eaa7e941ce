package incident

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"time"
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

// wordsPlan is how a list looks for its words.
type wordsPlan int

const (
	// readMatches reads the matches in scope and sorts them: for words
	// in few events (fewWords at most).
	readMatches wordsPlan = iota
	// walkList walks the list in its order, keeping the events that hold
	// the words (walkWords): for words in many events, whose first page
	// is among the first few dozen of the list.
	walkList
	// keepMatches gathers the matches in scope once, then walks the list
	// keeping them: what walkWords falls back to when the words turn out
	// rarer than their count suggested.
	keepMatches
)

// fewWords is how many matches a search by words may have for its page to
// be read from the matches (readMatches): past it, the list is walked
// (see planWords).
const fewWords = 2000

// few is fewWords, or what a test set instead.
func (s *Service) few() int {
	if s.fewWords > 0 {
		return s.fewWords
	}
	return fewWords
}

// planWords chooses how f's words are looked for, from how many events
// in scope hold them, counted from the search index alone up to limit
// (at least few()+1, which the choice needs), and returns that count; -1
// when f has no words. The first page of a word in half the events is
// among the first few dozen of the list; reading the matches and sorting
// them would read every one. A rare word is the other way round: walking
// the list could pass every event of the organisation to find it.
func (s *Service) planWords(ctx context.Context, scope Scope, f *Filter, limit int) (int, error) {
	if len(f.Words) == 0 {
		return -1, nil
	}
	text, args := wordsCountQuery(f.dialect, scope, f.Words, limit)
	var n int
	if err := s.db.QueryRowContext(ctx, text, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("incident: count matches: %w", err)
	}
	f.plan = readMatches
	if n > s.few() {
		f.plan = walkList
	}
	return n, nil
}

// firstStretch is how many events of the list walkWords reads first, at
// least; each stretch after that is four times the one before.
const firstStretch = 256

// walkBudget is about how long walkWords spends asking about stretches
// (by db.Dialect.TextHoldsCost) before it gathers every match in scope
// instead (keepMatches), which costs less for words in a few per cent of
// events or fewer.
const walkBudget = 25 * time.Millisecond

// walkWords reads up to n events of a search by words that matches many
// events, past at, in the order of at. It walks the list without its
// words a stretch at a time, by the list's index, and checks only the
// stretch's events against the search index (db.Dialect.TextHolds; on
// SQLite, by the run of ids between the stretch's lowest and highest:
// events are numbered as they arrive, so a stretch of the newest events
// covers a short run). Gathering every match first would read all of
// them, a hundred thousand for a common word in a large organisation. A
// stretch that finds fewer than n leads to the next, larger one, so a
// word whose matches lie far down the list costs a few stretches, not
// many; and the walk stops at walkBudget.
func (s *Service) walkWords(ctx context.Context, scope Scope, f Filter, at Cursor, n int) ([]Summary, error) {
	plain := f
	plain.Words, plain.plan = nil, readMatches
	var list []Summary
	budget := s.walkBudget
	if budget == 0 {
		budget = walkBudget
	}
	for size := max(firstStretch, 4*n); ; size *= 4 {
		count, ids, end, err := s.stretch(ctx, scope, plain, at, size)
		if err != nil || count == 0 {
			return list, err
		}
		if budget -= f.dialect.TextHoldsCost(count, ids[0], ids[1]); budget < 0 {
			// The words are rarer here than the count suggested, or (on
			// SQLite) the list's order is far from the order events
			// arrived in, such as by when they happened for events
			// reported long after: gather every match in scope instead.
			g := f
			g.plan = keepMatches
			found, err := s.readPage(ctx, scope, g, at, Cursor{}, n-len(list))
			return append(list, found...), err
		}
		g := f
		g.wordIDs = ids
		found, err := s.readPage(ctx, scope, g, at, end, n-len(list))
		if err != nil {
			return nil, err
		}
		list = append(list, found...)
		if len(list) >= n || count < size {
			return list, nil
		}
		end.Backward = at.Backward
		at = end
	}
}

// stretch reads how many of the next size events f chooses past at there
// are, the lowest and highest of their ids, and, when there are size, the
// place of the last of them (the stretch's end).
func (s *Service) stretch(ctx context.Context, scope Scope, f Filter, at Cursor, size int) (int, [2]int64, Cursor, error) {
	col, dir, _, _ := walkOrder(f, at)
	order := ` ORDER BY ` + col + ` ` + dir + `, e.id ` + dir
	q := walkQuery(scope, f, at, Cursor{})
	var count int
	var ids [2]int64
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MIN(id), 0), COALESCE(MAX(id), 0) FROM (SELECT e.id FROM events e`+
		q.clause()+order+` LIMIT `+q.arg(size)+`) x`, q.args...).Scan(&count, &ids[0], &ids[1])
	if err != nil {
		return 0, ids, Cursor{}, fmt.Errorf("incident: read the list: %w", err)
	}
	if count < size {
		return count, ids, Cursor{}, nil
	}
	q = walkQuery(scope, f, at, Cursor{})
	end := Cursor{Sort: f.Sort}
	err = s.db.QueryRowContext(ctx, `SELECT `+col+`, e.id FROM events e`+q.clause()+order+` LIMIT 1 OFFSET `+q.arg(size-1),
		q.args...).Scan(&end.Time, &end.ID)
	if err != nil {
		return 0, ids, Cursor{}, fmt.Errorf("incident: read the list: %w", err)
	}
	end.Time = end.Time.UTC()
	return count, ids, end, nil
}

// addWords adds the condition that events hold every word. The matches
// are within the scope's organisations when the scope is only
// organisations, so the index alone narrows to them; reading a stretch of
// the list (f.wordIDs set), the search index is asked only about the
// stretch's run of ids, whose events are already in scope. Gathering
// matches for a walk, the event's id is written as an expression (+e.id),
// which both engines accept and which keeps SQLite from reading the page
// from the matches by their ids and sorting them all.
func (q *sqlQuery) addWords(scope Scope, f Filter) {
	if len(f.Words) == 0 {
		return
	}
	switch {
	case f.plan == readMatches:
		q.add("e.id IN (" + f.dialect.TextMatch(searchTable, searchQuery(scope, f.Words), q.arg) + ")")
	case f.plan == keepMatches:
		q.add("+e.id IN (" + f.dialect.TextMatch(searchTable, searchQuery(scope, f.Words), q.arg) + ")")
	case f.wordIDs[1] != 0:
		q.add(f.dialect.TextHolds(searchTable, "e.id", db.TextQuery{Words: f.Words, From: f.wordIDs[0], To: f.wordIDs[1]}, q.arg))
	default:
		q.add(f.dialect.TextHolds(searchTable, "e.id", searchQuery(scope, f.Words), q.arg))
	}
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
	g.Words, g.Sort, g.dialect, g.plan, g.wordIDs = nil, "", db.Dialect{}, readMatches, [2]int64{}
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
	g.SafetyChallenge, g.Agent, g.Sort, g.dialect, g.plan, g.wordIDs = "", "", "", db.Dialect{}, readMatches, [2]int64{}
	return reflect.DeepEqual(g, Filter{})
}
