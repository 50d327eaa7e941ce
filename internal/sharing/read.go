package sharing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// querier is a database or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const agreementColumns = `a.id, a.reference, a.recipient, a.purpose, a.legal_basis, a.special_basis, a.starts_on, a.ends_on,
	a.fields, a.all_orgs, a.approver_name, a.approver_role, a.approved_on, a.document_name, a.document_size, a.document_sha256,
	a.document_uploaded_at, a.revoked_at, a.revoke_reason, a.created_at, a.updated_at,
	(SELECT COUNT(*) FROM sharing_exports x WHERE x.agreement_id = a.id)`

func scanAgreement(row interface{ Scan(...any) error }) (Agreement, error) {
	var a Agreement
	var fields string
	var uploaded, revoked sql.NullTime
	err := row.Scan(&a.ID, &a.Reference, &a.Recipient, &a.Purpose, &a.LegalBasis, &a.SpecialBasis, &a.StartsOn, &a.EndsOn,
		&fields, &a.AllOrgs, &a.ApproverName, &a.ApproverRole, &a.ApprovedOn, &a.Document.Name, &a.Document.Size,
		&a.Document.SHA256, &uploaded, &revoked, &a.RevokeReason, &a.CreatedAt, &a.UpdatedAt, &a.Exports)
	if err != nil {
		return Agreement{}, err
	}
	a.StartsOn, a.EndsOn, a.ApprovedOn = a.StartsOn.UTC(), a.EndsOn.UTC(), a.ApprovedOn.UTC()
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	if uploaded.Valid {
		a.Document.UploadedAt = uploaded.Time.UTC()
	}
	if revoked.Valid {
		a.RevokedAt = revoked.Time.UTC()
	}
	if fields != "" {
		a.Fields = strings.Split(fields, ",")
	}
	return a, nil
}

// Get returns agreement id with its organisations and recipients. Errors:
// NotFound.
func (s *Service) Get(ctx context.Context, id int64) (Agreement, error) {
	return s.get(ctx, s.db, id)
}

func (s *Service) get(ctx context.Context, q querier, id int64) (Agreement, error) {
	a, err := scanAgreement(q.QueryRowContext(ctx, `SELECT `+agreementColumns+` FROM sharing_agreements a WHERE a.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Agreement{}, notFound()
	}
	if err != nil {
		return Agreement{}, fmt.Errorf("sharing: get %d: %w", id, err)
	}
	list := []Agreement{a}
	if err := loadLists(ctx, q, list, `WHERE a.id = $1`, id); err != nil {
		return Agreement{}, err
	}
	return list[0], nil
}

// List returns every agreement, newest first, with its organisations and
// recipients.
func (s *Service) List(ctx context.Context) ([]Agreement, error) {
	return s.list(ctx, ``)
}

func (s *Service) list(ctx context.Context, where string, args ...any) ([]Agreement, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+agreementColumns+` FROM sharing_agreements a `+where+` ORDER BY a.id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("sharing: list: %w", err)
	}
	defer rows.Close()
	var out []Agreement
	for rows.Next() {
		a, err := scanAgreement(rows)
		if err != nil {
			return nil, fmt.Errorf("sharing: list: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sharing: list: %w", err)
	}
	return out, loadLists(ctx, s.db, out, where, args...)
}

// loadLists fills in the organisations and recipients of list, the
// agreements a (in sharing_agreements a) that where with args selects:
// two queries, however many agreements there are.
func loadLists(ctx context.Context, q querier, list []Agreement, where string, args ...any) error {
	byID := make(map[int64]*Agreement, len(list))
	for i := range list {
		byID[list[i].ID] = &list[i]
	}
	read := func(what, query string, add func(a *Agreement, rows *sql.Rows) error) error {
		rows, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("sharing: %s: %w", what, err)
		}
		defer rows.Close()
		for rows.Next() {
			var a Agreement
			if err := add(&a, rows); err != nil {
				return fmt.Errorf("sharing: %s: %w", what, err)
			}
			if into := byID[a.ID]; into != nil {
				into.Orgs = append(into.Orgs, a.Orgs...)
				into.Recipients = append(into.Recipients, a.Recipients...)
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sharing: %s: %w", what, err)
		}
		return nil
	}
	err := read("organisations", `SELECT a.id, o.org_ods FROM sharing_agreements a
		JOIN sharing_agreement_orgs o ON o.agreement_id = a.id `+where+` ORDER BY a.id, o.org_ods`,
		func(a *Agreement, rows *sql.Rows) error {
			var o string
			err := rows.Scan(&a.ID, &o)
			a.Orgs = []string{o}
			return err
		})
	if err != nil {
		return err
	}
	return read("recipients", `SELECT a.id, u.id, u.email, u.name FROM sharing_agreements a
		JOIN sharing_agreement_recipients r ON r.agreement_id = a.id JOIN users u ON u.id = r.user_id `+where+` ORDER BY a.id, u.email`,
		func(a *Agreement, rows *sql.Rows) error {
			var r Recipient
			err := rows.Scan(&a.ID, &r.UserID, &r.Email, &r.Name)
			a.Recipients = []Recipient{r}
			return err
		})
}

// Now is the database clock, by which agreements come into force and
// expire.
func (s *Service) Now() time.Time { return s.db.Now() }

// Usable lists the agreements in force now (by the database clock) that
// cover an export of all organisations (all) or of orgs and, unless
// national (a national admin exports), name userID as a recipient.
func (s *Service) Usable(ctx context.Context, userID int64, national, all bool, orgs []string) ([]Agreement, error) {
	today := day(s.db.Now())
	list, err := s.list(ctx, `WHERE a.revoked_at IS NULL AND a.starts_on <= $1 AND a.ends_on >= $1`, today)
	if err != nil {
		return nil, err
	}
	var out []Agreement
	for _, a := range list {
		if a.Covers(all, orgs) && (national || a.Names(userID)) {
			out = append(out, a)
		}
	}
	return out, nil
}

// ForRecipient lists the agreements naming userID as a recipient, newest
// first, whatever their status.
func (s *Service) ForRecipient(ctx context.Context, userID int64) ([]Agreement, error) {
	return s.list(ctx, `WHERE a.id IN (SELECT agreement_id FROM sharing_agreement_recipients WHERE user_id = $1)`, userID)
}

// InForceFor counts the agreements in force now (by the database clock)
// that name userID as a recipient, for the home page's link to them.
func (s *Service) InForceFor(ctx context.Context, userID int64) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sharing_agreements a
		JOIN sharing_agreement_recipients r ON r.agreement_id = a.id
		WHERE r.user_id = $1 AND a.revoked_at IS NULL AND a.starts_on <= $2 AND a.ends_on >= $2`, userID, day(s.db.Now())).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sharing: agreements naming %d: %w", userID, err)
	}
	return n, nil
}

// ExportRecord is one extract made under an agreement.
type ExportRecord struct {
	UserID     int64 // 0 for an account since deleted
	Email      string
	At         time.Time
	Rows       int
	Scope      string // "all", or the ODS codes, space separated, with any period
	Fields     []string
	Incomplete bool
}

// Exports lists the extracts made under agreement id, newest first, at
// most limit.
func (s *Service) Exports(ctx context.Context, id int64, limit int) ([]ExportRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT COALESCE(x.user_id, 0), COALESCE(u.email, ''), x.exported_at, x.row_count, x.scope,
		x.fields, x.complete FROM sharing_exports x LEFT JOIN users u ON u.id = x.user_id
		WHERE x.agreement_id = $1 ORDER BY x.id DESC LIMIT $2`, id, limit)
	if err != nil {
		return nil, fmt.Errorf("sharing: exports of %d: %w", id, err)
	}
	defer rows.Close()
	var out []ExportRecord
	for rows.Next() {
		var e ExportRecord
		var fields string
		var complete bool
		if err := rows.Scan(&e.UserID, &e.Email, &e.At, &e.Rows, &e.Scope, &fields, &complete); err != nil {
			return nil, fmt.Errorf("sharing: exports of %d: %w", id, err)
		}
		e.At, e.Incomplete = e.At.UTC(), !complete
		if fields != "" {
			e.Fields = strings.Split(fields, ",")
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sharing: exports of %d: %w", id, err)
	}
	return out, nil
}
