package terms

import (
	"context"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
)

// Status is where a user stands with the documents they must accept.
type Status struct {
	// MustAccept lists the kinds whose latest material version the user
	// has not accepted: until they do, they may use nothing but the review
	// page (T1, T2, P16).
	MustAccept []Kind
	// Updated lists the kinds with a newer version, not material, that the
	// user has not accepted: a notice invites them to read what changed.
	Updated []Kind
}

// Blocked reports whether the user must accept something first.
func (st Status) Blocked() bool { return len(st.MustAccept) > 0 }

// Status works out, in one query, which documents the user must accept or
// may want to read again. It runs on every signed-in request.
func (s *Service) Status(ctx context.Context, userID int64) (Status, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT k.kind,
		COALESCE((SELECT MAX(d.version) FROM documents d WHERE d.kind = k.kind), 0),
		COALESCE((SELECT MAX(d.version) FROM documents d WHERE d.kind = k.kind AND d.material), 0),
		COALESCE((SELECT MAX(a.version) FROM acceptances a WHERE a.user_id = $1 AND a.kind = k.kind), 0)
		FROM (SELECT 'terms' AS kind UNION ALL SELECT 'privacy') k`, userID)
	if err != nil {
		return Status{}, fmt.Errorf("terms: status: %w", err)
	}
	defer rows.Close()
	var st Status
	for rows.Next() {
		var kind Kind
		var latest, material, accepted int
		if err := rows.Scan(&kind, &latest, &material, &accepted); err != nil {
			return Status{}, fmt.Errorf("terms: scan status: %w", err)
		}
		switch {
		case accepted < material:
			st.MustAccept = append(st.MustAccept, kind)
		case accepted < latest:
			st.Updated = append(st.Updated, kind)
		}
	}
	return st, rows.Err()
}

// Review is what a user reads before accepting the current version of a
// kind: the text, the summaries of every version since the one they last
// accepted, and what changed in the text.
type Review struct {
	Current Document
	// Previous is the version the user last accepted; Version 0 when none.
	Previous Document
	// Since lists the versions after Previous up to Current, oldest first,
	// without their text.
	Since []Document
	// Changes is the block-by-block difference from Previous to Current,
	// in the words the reader sees (DiffText); empty when the user has
	// accepted no earlier version.
	Changes Blocks
}

// Review returns what userID should read before accepting the current
// version of kind. Errors: NotFound when nothing is published.
func (s *Service) Review(ctx context.Context, userID int64, kind Kind) (Review, error) {
	cur, err := s.Current(ctx, kind)
	if err != nil {
		return Review{}, err
	}
	r := Review{Current: cur}
	var last int
	err = s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM acceptances
		WHERE user_id = $1 AND kind = $2`, userID, kind).Scan(&last)
	if err != nil {
		return Review{}, fmt.Errorf("terms: last accepted %s: %w", kind, err)
	}
	if last > 0 {
		if r.Previous, err = s.Version(ctx, kind, last); err != nil {
			return Review{}, err
		}
		if last < cur.Version {
			r.Changes = DiffText(r.Previous.Body, cur.Body)
		}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+listColumns+` FROM documents
		WHERE kind = $1 AND version > $2 ORDER BY version`, kind, last)
	if err != nil {
		return Review{}, fmt.Errorf("terms: versions since %d: %w", last, err)
	}
	defer rows.Close()
	for rows.Next() {
		d, err := scanDocument(rows)
		if err != nil {
			return Review{}, fmt.Errorf("terms: scan version: %w", err)
		}
		r.Since = append(r.Since, d)
	}
	return r, rows.Err()
}

// Accept records that userID accepted the given version of each kind. Each
// version must still be the current one, so nobody accepts a text they
// have not been shown. Errors: Invalid for a kind that is not accepted,
// Conflict when a newer version was published meanwhile.
func (s *Service) Accept(ctx context.Context, userID int64, c Client, versions map[Kind]int) error {
	if len(versions) == 0 {
		return apperr.New(apperr.Invalid, "There is nothing to accept.")
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		for _, kind := range AcceptedKinds() {
			v, ok := versions[kind]
			if !ok {
				continue
			}
			var cur int
			err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM documents WHERE kind = $1`, kind).Scan(&cur)
			if err != nil {
				return fmt.Errorf("terms: current %s: %w", kind, err)
			}
			if v != cur {
				return apperr.New(apperr.Conflict, "A newer version of the "+kind.Label()+" was published while you were reading. Read it before you accept.")
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO acceptances (user_id, kind, version, accepted_at, ip, user_agent)
				VALUES ($1, $2, $3, $4, $5, $6)`, userID, kind, v, tx.Now, c.IP, truncate(c.UserAgent, 500))
			if err != nil {
				return fmt.Errorf("terms: record acceptance: %w", err)
			}
			err = audit.Record(ctx, tx, audit.Entry{ActorID: userID, Action: "document.accept", SubjectType: "document",
				SubjectID: string(kind) + "/" + strconv.Itoa(v), IP: c.IP,
				Details: map[string]string{"kind": string(kind), "version": strconv.Itoa(v)}})
			if err != nil {
				return err
			}
			delete(versions, kind)
		}
		if len(versions) > 0 {
			return apperr.New(apperr.Invalid, "Only the terms of use and the privacy policy are accepted.")
		}
		return nil
	})
}

// Decline records in the audit log that userID declined the current
// versions of kinds. The caller signs them out: the service cannot be used
// without accepting.
func (s *Service) Decline(ctx context.Context, userID int64, c Client, versions map[Kind]int) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		for _, kind := range AcceptedKinds() {
			v, ok := versions[kind]
			if !ok {
				continue
			}
			err := audit.Record(ctx, tx, audit.Entry{ActorID: userID, Action: "document.decline", SubjectType: "document",
				SubjectID: string(kind) + "/" + strconv.Itoa(v), IP: c.IP,
				Details: map[string]string{"kind": string(kind), "version": strconv.Itoa(v)}})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// Acceptance is one row of the ledger.
type Acceptance struct {
	Kind       Kind
	Version    int
	AcceptedAt time.Time
	IP         string
	UserAgent  string
}

// Ledger returns every acceptance by userID, newest first.
func (s *Service) Ledger(ctx context.Context, userID int64) ([]Acceptance, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT kind, version, accepted_at, ip, user_agent FROM acceptances
		WHERE user_id = $1 ORDER BY id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("terms: ledger: %w", err)
	}
	defer rows.Close()
	var list []Acceptance
	for rows.Next() {
		var a Acceptance
		if err := rows.Scan(&a.Kind, &a.Version, &a.AcceptedAt, &a.IP, &a.UserAgent); err != nil {
			return nil, fmt.Errorf("terms: scan acceptance: %w", err)
		}
		a.AcceptedAt = a.AcceptedAt.UTC()
		list = append(list, a)
	}
	return list, rows.Err()
}

// Outstanding is an active user who has not accepted a version, nor any
// later one.
type Outstanding struct {
	UserID  int64
	Name    string
	Email   string
	OrgCode string
}

// VersionStats is how far acceptance of one version has gone.
type VersionStats struct {
	Accepted    int // people who accepted this very version
	Active      int // active users
	Outstanding int // active users who accepted neither it nor a later version
	// Page is one page of the outstanding users, by name.
	Page []Outstanding
}

// VersionStats counts acceptances of one version and lists, a page at a
// time, the active users who have not accepted it or a later one.
func (s *Service) VersionStats(ctx context.Context, kind Kind, version, limit, offset int) (VersionStats, error) {
	var st VersionStats
	err := s.db.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(DISTINCT user_id) FROM acceptances WHERE kind = $1 AND version = $2),
		(SELECT COUNT(*) FROM users WHERE status = 'active'),
		(SELECT COUNT(*) FROM users u WHERE u.status = 'active' AND NOT EXISTS
			(SELECT 1 FROM acceptances a WHERE a.user_id = u.id AND a.kind = $1 AND a.version >= $2))`,
		kind, version).Scan(&st.Accepted, &st.Active, &st.Outstanding)
	if err != nil {
		return VersionStats{}, fmt.Errorf("terms: version counts: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT u.id, u.name, u.email, u.org_ods FROM users u
		WHERE u.status = 'active' AND NOT EXISTS
			(SELECT 1 FROM acceptances a WHERE a.user_id = u.id AND a.kind = $1 AND a.version >= $2)
		ORDER BY u.name, u.id LIMIT $3 OFFSET $4`, kind, version, limit, offset)
	if err != nil {
		return VersionStats{}, fmt.Errorf("terms: outstanding users: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var o Outstanding
		if err := rows.Scan(&o.UserID, &o.Name, &o.Email, &o.OrgCode); err != nil {
			return VersionStats{}, fmt.Errorf("terms: scan outstanding user: %w", err)
		}
		st.Page = append(st.Page, o)
	}
	return st, rows.Err()
}

// truncate shortens s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
