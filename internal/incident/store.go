package incident

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
)

// Service records events and keeps their versions and drafts.
type Service struct {
	db *db.DB
	// fewWords and walkBudget, when not 0, replace the constants of those
	// names (tests make them small, to walk lists of a few hundred).
	fewWords   int
	walkBudget time.Duration
}

// NewService returns a Service on d.
func NewService(d *db.DB) *Service { return &Service{db: d} }

// Limits on what one event may hold, so a form cannot fill the database.
const (
	maxAnswerKeys   = 500
	maxValues       = 50
	maxValueRunes   = 20_000
	maxReasonRunes  = 2000
	referenceTrials = 5
)

// checkShape refuses answers too large or not valid text.
func checkShape(answers Answers) error {
	if len(answers) > maxAnswerKeys {
		return apperr.New(apperr.Invalid, "The form has too many answers.")
	}
	for k, vs := range answers {
		if k == "" || len(k) > 200 || !utf8.ValidString(k) {
			return apperr.New(apperr.Invalid, "The form has an answer to a question that does not exist.")
		}
		if len(vs) > maxValues {
			return apperr.New(apperr.Invalid, "The form has too many answers to one question.")
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return apperr.Fields{{Field: k, Message: "The answer contains characters that are not valid; type it again"}}
			}
			if utf8.RuneCountInString(v) > maxValueRunes {
				return apperr.Fields{{Field: k, Message: fmt.Sprintf("The answer must be %d characters or fewer", maxValueRunes)}}
			}
		}
	}
	return nil
}

// MaxOccurredSpan is the longest range of days an event can be said to have
// happened in: a month, when only roughly known. Lists rely on it to read
// one stretch of an index for a date filter.
const MaxOccurredSpan = 31 * 24 * time.Hour

func validOccurred(from, to time.Time) bool {
	return !from.IsZero() && !to.Before(from) && to.Sub(from) <= MaxOccurredSpan
}

func validateSubmission(sub Submission) error {
	if _, err := ParseType(string(sub.Type)); err != nil {
		return err
	}
	switch {
	case sub.Source != Staff && sub.Source != Public && sub.Source != System:
		return fmt.Errorf("incident: unknown source %q", sub.Source)
	case sub.Source == Staff && sub.ReporterID == 0:
		return fmt.Errorf("incident: a staff submission needs its reporter")
	case (sub.Source == System) != (sub.KeyID != 0):
		return fmt.Errorf("incident: a submission through the API, and only one, names its key")
	}
	if sub.OrgCode == "" {
		return apperr.Fields{{Field: "org", Message: "Choose the organisation where it happened"}}
	}
	if !validOccurred(sub.OccurredFrom, sub.OccurredTo) {
		return apperr.Fields{{Field: "when", Message: "Enter when it happened"}}
	}
	if sub.StatementVersion < 1 {
		return fmt.Errorf("incident: a submission needs the version of the recording statement shown")
	}
	if err := checkShape(sub.Answers); err != nil {
		return err
	}
	return checkAnswers(sub.Answers)
}

// Submit stores a new event as version 1 and returns it with its
// reference. Once it returns, the event is durable. Errors: Invalid, with
// field errors for answers the identifier guard refuses (T12) — nothing is
// stored then; NotFound when the draft is not the reporter's.
func (s *Service) Submit(ctx context.Context, sub Submission, c Client) (Event, error) {
	if err := validateSubmission(sub); err != nil {
		return Event{}, err
	}
	sub.validated = true
	return s.submit(ctx, func(context.Context, *db.Tx) (Submission, error) { return sub, nil }, nil, c)
}

// submit stores the submission that build makes inside the transaction
// (so that its checks use the transaction's clock), then runs then, when
// not nil, in the same transaction for work that must stand or fall with
// the event, such as queueing the reporter's receipt.
func (s *Service) submit(ctx context.Context, build func(ctx context.Context, tx *db.Tx) (Submission, error),
	then func(ctx context.Context, tx *db.Tx, ev Event) error, c Client) (Event, error) {
	var ev Event
	// Submissions share commits when many arrive at once (a group commit on
	// SQLite); each is still its own unit, and durable before Submit returns.
	err := s.db.InSharedTx(ctx, func(tx *db.Tx) error {
		sub, err := build(ctx, tx)
		if err != nil {
			return err
		}
		if !sub.validated {
			if err := validateSubmission(sub); err != nil {
				return err
			}
		}
		answers, err := json.Marshal(sub.Answers)
		if err != nil {
			return fmt.Errorf("incident: encode answers: %w", err)
		}
		ev = Event{Type: sub.Type, OrgCode: sub.OrgCode, Source: sub.Source, ReporterID: sub.ReporterID,
			OccurredFrom: sub.OccurredFrom.UTC(), OccurredTo: sub.OccurredTo.UTC(), Version: 1, Index: sub.Index,
			SharingOptOut: sub.SharingOptOut, StatementVersion: sub.StatementVersion, Answers: sub.Answers}
		ev.SubmittedAt, ev.UpdatedAt = tx.Now, tx.Now
		reporter := db.NullID(sub.ReporterID)
		for range referenceTrials {
			ev.Reference = NewReference()
			// A reference drawn twice inserts nothing and is drawn again;
			// ON CONFLICT keeps the transaction usable on both engines.
			err := tx.QueryRowContext(ctx, `INSERT INTO events (reference, event_type, org_ods, source, reporter_id,
				occurred_from, occurred_to, submitted_at, version, updated_at, physical_harm, psychological_harm,
				service_type, sharing_opt_out, statement_version)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $8, $9, $10, $11, $12, $13)
				ON CONFLICT (reference) DO NOTHING RETURNING id`,
				ev.Reference, ev.Type, ev.OrgCode, ev.Source, reporter, ev.OccurredFrom, ev.OccurredTo, ev.SubmittedAt,
				ev.Index.PhysicalHarm, ev.Index.PsychologicalHarm, ev.Index.ServiceType, ev.SharingOptOut,
				ev.StatementVersion).Scan(&ev.ID)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return fmt.Errorf("incident: insert event: %w", err)
			}
			break
		}
		if ev.ID == 0 {
			return fmt.Errorf("incident: no free reference after %d draws", referenceTrials)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO event_versions (event_id, version, author_id, created_at, reason, answers, api_key_id)
			VALUES ($1, 1, $2, $3, '', $4, $5)`, ev.ID, reporter, ev.SubmittedAt, string(answers), db.NullID(sub.KeyID)); err != nil {
			return fmt.Errorf("incident: insert version: %w", err)
		}
		if err := insertCodes(ctx, tx, ev.ID, ev.OrgCode, sub.Index.Codes); err != nil {
			return err
		}
		if err := indexText(ctx, tx, ev.ID, ev.OrgCode, sub.Index.Text, false); err != nil {
			return err
		}
		if err := countDay(ctx, tx, ev.OrgCode, ev.SubmittedAt, ev.Type, ev.Index.PhysicalHarm, 1); err != nil {
			return err
		}
		if sub.DraftID != 0 {
			res, err := tx.ExecContext(ctx, `DELETE FROM drafts WHERE id = $1 AND user_id = $2`, sub.DraftID, sub.ReporterID)
			if err != nil {
				return fmt.Errorf("incident: delete draft: %w", err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return apperr.New(apperr.NotFound, "That draft no longer exists.")
			}
		}
		if then != nil {
			if err := then(ctx, tx, ev); err != nil {
				return err
			}
		}
		details := map[string]string{"reference": string(ev.Reference), "org": ev.OrgCode, "source": string(ev.Source), "type": string(ev.Type)}
		if sub.KeyID != 0 {
			details["api_key"] = strconv.FormatInt(sub.KeyID, 10)
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: sub.ReporterID, Action: "event.submit", SubjectType: "event",
			SubjectID: strconv.FormatInt(ev.ID, 10), IP: c.IP, Details: details}); err != nil {
			return err
		}
		// Last, as nothing of this submission can fail after it: the
		// statistics of every submission sharing the commit are written
		// together (see statsOf).
		statsOf(tx).add(statEvent{org: ev.OrgCode, typ: ev.Type, harm: ev.Index.PhysicalHarm, service: ev.Index.ServiceType,
			occurred: ev.OccurredFrom, submitted: ev.SubmittedAt, codes: sub.Index.Codes}, 1)
		return nil
	})
	if err != nil {
		return Event{}, err
	}
	return ev, nil
}

// insertCodes stores an event's filter codes, with its organisation so a
// count by code within organisations reads one index.
func insertCodes(ctx context.Context, tx *db.Tx, eventID int64, org string, codes map[string][]string) error {
	for _, element := range slices.Sorted(maps.Keys(codes)) {
		seen := map[string]bool{}
		for _, code := range codes[element] {
			if seen[code] {
				continue
			}
			seen[code] = true
			if _, err := tx.ExecContext(ctx, `INSERT INTO event_codes (event_id, element, code, org_ods) VALUES ($1, $2, $3, $4)`,
				eventID, element, code, org); err != nil {
				return fmt.Errorf("incident: insert code: %w", err)
			}
		}
	}
	return nil
}

// Change is a new version of an event's answers and what follows from them.
type Change struct {
	Answers                  Answers
	Index                    Index
	OccurredFrom, OccurredTo time.Time
	SharingOptOut            bool
}

// Amend records a new version of an event's answers by authorID, with the
// reason, and makes it the current one. Earlier versions are kept as they
// were. It checks the shape of the answers and runs the identifier guard,
// but not the form's rules: pages and the API amend through
// Recorder.Amend, which does. Errors: Invalid (as Submit), NotFound.
func (s *Service) Amend(ctx context.Context, eventID, authorID int64, reason string, ch Change, c Client) (Event, error) {
	reason, body, err := checkChange(reason, ch)
	if err != nil {
		return Event{}, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		return amendTx(ctx, tx, eventID, 0, Author{UserID: authorID}, reason, body, ch, c)
	})
	if err != nil {
		return Event{}, err
	}
	return s.Get(ctx, eventID)
}

// checkReason returns the reason for a change, trimmed, or the field
// error that says what is wrong with it.
func checkReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	switch n := utf8.RuneCountInString(reason); {
	case n == 0:
		return "", apperr.Fields{{Field: "reason", Message: "Enter why you are changing the record"}}
	case n > maxReasonRunes:
		return "", apperr.Fields{{Field: "reason", Message: fmt.Sprintf("The reason must be %d characters or fewer", maxReasonRunes)}}
	}
	if err := checkAnswers(Answers{"reason": {reason}}); err != nil {
		return "", err
	}
	return reason, nil
}

// checkChange checks a change as the store requires it, returning the
// trimmed reason and the answers encoded.
func checkChange(reason string, ch Change) (string, []byte, error) {
	if !validOccurred(ch.OccurredFrom, ch.OccurredTo) {
		return "", nil, apperr.Fields{{Field: "when", Message: "Enter when it happened"}}
	}
	reason, err := checkReason(reason)
	if err != nil {
		return "", nil, err
	}
	if err := checkShape(ch.Answers); err != nil {
		return "", nil, err
	}
	if err := checkAnswers(ch.Answers); err != nil {
		return "", nil, err
	}
	body, err := json.Marshal(ch.Answers)
	if err != nil {
		return "", nil, fmt.Errorf("incident: encode answers: %w", err)
	}
	return reason, body, nil
}

// Author is who made a version: a person, or an organisation's system
// through the API with one of its keys.
type Author struct {
	UserID int64
	KeyID  int64
}

// amendTx writes a checked change in tx: the event's new current version,
// the version itself, its codes and the audit entry. When base is not 0
// the event must still be at that version, or nothing is written.
func amendTx(ctx context.Context, tx *db.Tx, eventID int64, base int, by Author, reason string, body []byte, ch Change, c Client) error {
	index := ch.Index
	// The day's counts move with the harm: read what they hold the event
	// under, with the row locked (an UPDATE that changes nothing), so that
	// two amendments at once move them one after the other.
	var before struct {
		typ       Type
		harm      string
		submitted time.Time
		service   string
		occurred  time.Time
		org       string
	}
	err := tx.QueryRowContext(ctx, `UPDATE events SET version = version WHERE id = $1
		RETURNING event_type, physical_harm, submitted_at, service_type, occurred_from, org_ods`,
		eventID).Scan(&before.typ, &before.harm, &before.submitted, &before.service, &before.occurred, &before.org)
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.New(apperr.NotFound, "There is no such event.")
	}
	if err != nil {
		return fmt.Errorf("incident: amend event: %w", err)
	}
	var version int
	var org string
	err = tx.QueryRowContext(ctx, `UPDATE events SET version = version + 1, updated_at = $1, physical_harm = $2,
		psychological_harm = $3, service_type = $4, occurred_from = $5, occurred_to = $6, sharing_opt_out = $7
		WHERE id = $8 AND ($9 = 0 OR version = $9) RETURNING version, org_ods`,
		tx.Now, index.PhysicalHarm, index.PsychologicalHarm, index.ServiceType, ch.OccurredFrom.UTC(), ch.OccurredTo.UTC(),
		ch.SharingOptOut, eventID, base).Scan(&version, &org)
	if errors.Is(err, sql.ErrNoRows) && base != 0 {
		return ErrChangedMeanwhile
	}
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.New(apperr.NotFound, "There is no such event.")
	}
	if err != nil {
		return fmt.Errorf("incident: amend event: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO event_versions (event_id, version, author_id, created_at, reason, answers, api_key_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, eventID, version, db.NullID(by.UserID), tx.Now, reason, string(body),
		db.NullID(by.KeyID)); err != nil {
		return fmt.Errorf("incident: insert version: %w", err)
	}
	// The statistics move with the harm, service type, date and codes.
	beforeCodes, err := statCodesOf(ctx, tx, eventID)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM event_codes WHERE event_id = $1`, eventID); err != nil {
		return fmt.Errorf("incident: clear codes: %w", err)
	}
	if err := insertCodes(ctx, tx, eventID, org, index.Codes); err != nil {
		return err
	}
	if err := indexText(ctx, tx, eventID, org, index.Text, true); err != nil {
		return err
	}
	if before.harm != index.PhysicalHarm {
		if err := countDay(ctx, tx, org, before.submitted, before.typ, before.harm, -1); err != nil {
			return err
		}
		if err := countDay(ctx, tx, org, before.submitted, before.typ, index.PhysicalHarm, 1); err != nil {
			return err
		}
	}
	stats := statTally{}
	stats.add(statEvent{org: before.org, typ: before.typ, harm: before.harm, service: before.service,
		occurred: before.occurred, submitted: before.submitted, codes: beforeCodes}, -1)
	stats.add(statEvent{org: org, typ: before.typ, harm: index.PhysicalHarm, service: index.ServiceType,
		occurred: ch.OccurredFrom, submitted: before.submitted, codes: index.Codes}, 1)
	if err := stats.write(ctx, tx); err != nil {
		return err
	}
	details := map[string]string{"version": strconv.Itoa(version)}
	if by.KeyID != 0 {
		details["api_key"] = strconv.FormatInt(by.KeyID, 10)
	}
	return audit.Record(ctx, tx, audit.Entry{ActorID: by.UserID, Action: "event.amend", SubjectType: "event",
		SubjectID: strconv.FormatInt(eventID, 10), IP: c.IP, Details: details})
}

const eventColumns = `e.id, e.reference, e.event_type, e.org_ods, e.source, COALESCE(e.reporter_id, 0), e.occurred_from,
	e.occurred_to, e.submitted_at, e.version, e.updated_at, e.physical_harm, e.psychological_harm, e.service_type,
	e.sharing_opt_out, e.statement_version`

func scanEvent(row interface{ Scan(...any) error }, extra ...any) (Event, error) {
	var ev Event
	dest := append([]any{&ev.ID, &ev.Reference, &ev.Type, &ev.OrgCode, &ev.Source, &ev.ReporterID, &ev.OccurredFrom,
		&ev.OccurredTo, &ev.SubmittedAt, &ev.Version, &ev.UpdatedAt, &ev.Index.PhysicalHarm, &ev.Index.PsychologicalHarm,
		&ev.Index.ServiceType, &ev.SharingOptOut, &ev.StatementVersion}, extra...)
	if err := row.Scan(dest...); err != nil {
		return Event{}, err
	}
	for _, t := range []*time.Time{&ev.OccurredFrom, &ev.OccurredTo, &ev.SubmittedAt, &ev.UpdatedAt} {
		*t = t.UTC()
	}
	return ev, nil
}

// Get returns the event with its current answers and codes. Errors:
// NotFound.
func (s *Service) Get(ctx context.Context, id int64) (Event, error) {
	return s.getWhere(ctx, `e.id = $1`, id)
}

// ByReference returns the event with the reference. Errors: NotFound.
func (s *Service) ByReference(ctx context.Context, ref Reference) (Event, error) {
	return s.getWhere(ctx, `e.reference = $1`, string(ref))
}

func (s *Service) getWhere(ctx context.Context, where string, arg any) (Event, error) {
	var answers string
	ev, err := scanEvent(s.db.QueryRowContext(ctx, `SELECT `+eventColumns+`, v.answers FROM events e
		JOIN event_versions v ON v.event_id = e.id AND v.version = e.version WHERE `+where, arg), &answers)
	if errors.Is(err, sql.ErrNoRows) {
		return Event{}, apperr.New(apperr.NotFound, "There is no such event.")
	}
	if err != nil {
		return Event{}, fmt.Errorf("incident: get event: %w", err)
	}
	if err := json.Unmarshal([]byte(answers), &ev.Answers); err != nil {
		return Event{}, fmt.Errorf("incident: decode answers of event %d: %w", ev.ID, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT element, code FROM event_codes WHERE event_id = $1 ORDER BY element, code`, ev.ID)
	if err != nil {
		return Event{}, fmt.Errorf("incident: event codes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var element, code string
		if err := rows.Scan(&element, &code); err != nil {
			return Event{}, fmt.Errorf("incident: scan code: %w", err)
		}
		if ev.Index.Codes == nil {
			ev.Index.Codes = map[string][]string{}
		}
		ev.Index.Codes[element] = append(ev.Index.Codes[element], code)
	}
	return ev, rows.Err()
}

// Versions returns every version of the event, oldest first.
func (s *Service) Versions(ctx context.Context, eventID int64) ([]Version, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT version, COALESCE(author_id, 0), COALESCE(api_key_id, 0), created_at, reason, answers
		FROM event_versions WHERE event_id = $1 ORDER BY version`, eventID)
	if err != nil {
		return nil, fmt.Errorf("incident: versions: %w", err)
	}
	defer rows.Close()
	var list []Version
	for rows.Next() {
		var v Version
		var answers string
		if err := rows.Scan(&v.Version, &v.AuthorID, &v.KeyID, &v.CreatedAt, &v.Reason, &answers); err != nil {
			return nil, fmt.Errorf("incident: scan version: %w", err)
		}
		if err := json.Unmarshal([]byte(answers), &v.Answers); err != nil {
			return nil, fmt.Errorf("incident: decode version %d: %w", v.Version, err)
		}
		v.CreatedAt = v.CreatedAt.UTC()
		list = append(list, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, apperr.New(apperr.NotFound, "There is no such event.")
	}
	return list, nil
}
