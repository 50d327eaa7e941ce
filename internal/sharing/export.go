package sharing

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/incident"
)

// TermsLine is the label every extract carries (T17).
const TermsLine = "Shared under the terms of use of PSIMS; no public statement without permission"

// Extract is an export asked for under an agreement.
type Extract struct {
	AgreementID int64
	UserID      int64
	// National is true when a national admin exports (authz decides):
	// they need not be a named recipient.
	National bool
	// All is an export of every organisation's events; otherwise Orgs
	// are the organisations in scope.
	All  bool
	Orgs []string
	// Period says what else limits the export, for the log, such as
	// "submitted 2026-04-01 to 2026-09-30"; may be empty.
	Period string
}

// scope is the extract's organisations as the log records them.
func (x Extract) scope() string {
	s := "all organisations"
	if !x.All {
		s = strings.Join(x.Orgs, " ")
	}
	if x.Period != "" {
		s += "; " + x.Period
	}
	return s
}

// refusal says why an export may not run under an agreement.
func (s *Service) refusal(a Agreement, x Extract) error {
	now := s.db.Now()
	switch a.StatusAt(now) {
	case Revoked:
		return apperr.New(apperr.Forbidden, "Agreement "+a.Reference+" has been revoked, so no data may be shared under it.")
	case Expired:
		return apperr.New(apperr.Forbidden, "Agreement "+a.Reference+" ended on "+a.EndsOn.Format("2 January 2006")+", so no data may be shared under it.")
	case NotYetInForce:
		return apperr.New(apperr.Forbidden, "Agreement "+a.Reference+" is not in force until "+a.StartsOn.Format("2 January 2006")+".")
	}
	if !x.National && !a.Names(x.UserID) {
		return apperr.New(apperr.Forbidden, "You are not a named recipient of agreement "+a.Reference+".")
	}
	if !a.Covers(x.All, x.Orgs) {
		return apperr.New(apperr.Forbidden, "Agreement "+a.Reference+" does not cover every organisation in this export. Choose organisations it covers.")
	}
	return nil
}

// Check returns the agreement of x when an export may run under it now,
// by the database clock. Errors: NotFound; Forbidden, saying why, when it
// is not in force, does not cover the organisations or does not name a
// recipient.
func (s *Service) Check(ctx context.Context, x Extract) (Agreement, error) {
	a, err := s.Get(ctx, x.AgreementID)
	if err != nil {
		return Agreement{}, err
	}
	return a, s.refusal(a, x)
}

// Options are the export options of an extract under a: its permitted
// fields, events that opted out of sharing left out (T15), the label
// lines (T17), the audit details, and the entry in the agreement's log
// written with the audit entry.
func (s *Service) Options(a Agreement, x Extract) incident.ExportOptions {
	legal := a.LegalBasisLabel()
	if a.SpecialBasis != "none" {
		legal += "; " + a.SpecialBasisLabel()
	}
	return incident.ExportOptions{
		Fields:          a.Fields,
		ExcludeOptedOut: true,
		Preamble: []string{
			"Data sharing agreement " + a.Reference,
			"Recipient: " + a.Recipient,
			"Purpose: " + a.Purpose,
			"Legal basis: " + legal,
			"In force from " + a.StartsOn.Format("2 January 2006") + " to " + a.EndsOn.Format("2 January 2006"),
			"Scope: " + x.scope(),
			TermsLine,
		},
		Details: map[string]string{"agreement": a.Reference, "agreement_id": strconv.FormatInt(a.ID, 10),
			"fields": strings.Join(a.Fields, ","), "excludes_opted_out": "yes"},
		Record: func(ctx context.Context, tx *db.Tx, rows int, complete bool) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO sharing_exports (agreement_id, user_id, exported_at, row_count, scope, fields, complete)
				VALUES ($1, $2, $3, $4, $5, $6, $7)`, a.ID, db.NullID(x.UserID), tx.Now, rows, x.scope(), strings.Join(a.Fields, ","),
				complete); err != nil {
				return fmt.Errorf("sharing: log export under %s: %w", a.Reference, err)
			}
			return nil
		},
	}
}

// Export runs run, an event export, under the agreement of x, if one may
// run now: with the options of Options, and the agreement, for the file's
// name. Errors: as Check, before run is called; then run's.
func (s *Service) Export(ctx context.Context, x Extract, run func(a Agreement, opts incident.ExportOptions) (int, error)) (int, error) {
	a, err := s.Check(ctx, x)
	if err != nil {
		return 0, err
	}
	return run(a, s.Options(a, x))
}

// FileName is the name of an extract under a made at t.
func FileName(a Agreement, t time.Time) string {
	return "psims-events-" + a.Reference + "-" + t.UTC().Format("2006-01-02") + ".csv"
}
