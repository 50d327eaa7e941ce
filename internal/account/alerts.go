package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/mail"
)

// AlertPrefs are the event alerts a reviewer or organisation admin chose to
// be emailed about, for events recorded for their organisation.
type AlertPrefs struct {
	SevereHarm   bool // severe or fatal physical harm
	NeverEvent   bool // recorded as a never event
	PublicReport bool // reported by a patient or member of the public
}

// DefaultAlertPrefs are the choices of someone who has not chosen: every
// alert, so that nothing serious goes unseen by default.
func DefaultAlertPrefs() AlertPrefs {
	return AlertPrefs{SevereHarm: true, NeverEvent: true, PublicReport: true}
}

// GetsAlerts reports whether the user's role is one that event alerts go
// to: the organisation's reviewers and admins.
func GetsAlerts(u User) bool {
	return u.Role == RoleReviewer || u.Role == RoleOrgAdmin
}

// AlertPrefs returns the user's event alert choices, the defaults when they
// have not chosen.
func (s *Service) AlertPrefs(ctx context.Context, userID int64) (AlertPrefs, error) {
	p := DefaultAlertPrefs()
	err := s.db.QueryRowContext(ctx, `SELECT severe_harm, never_event, public_report FROM notification_preferences WHERE user_id = $1`,
		userID).Scan(&p.SevereHarm, &p.NeverEvent, &p.PublicReport)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultAlertPrefs(), nil
	}
	if err != nil {
		return AlertPrefs{}, fmt.Errorf("account: alert preferences: %w", err)
	}
	return p, nil
}

// SetAlertPrefs stores the user's event alert choices, audited. Errors:
// Forbidden when the account is no longer active.
func (s *Service) SetAlertPrefs(ctx context.Context, u User, p AlertPrefs, ip string) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := activeSelf(ctx, tx, u.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO notification_preferences (user_id, severe_harm, never_event, public_report, updated_at)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (user_id) DO UPDATE SET severe_harm = excluded.severe_harm, never_event = excluded.never_event,
				public_report = excluded.public_report, updated_at = excluded.updated_at`,
			u.ID, p.SevereHarm, p.NeverEvent, p.PublicReport, tx.Now); err != nil {
			return fmt.Errorf("account: set alert preferences: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: u.ID, Action: "account.alert_preferences", SubjectType: "user",
			SubjectID: strconv.FormatInt(u.ID, 10), IP: ip, Details: map[string]string{
				"severe_harm": strconv.FormatBool(p.SevereHarm), "never_event": strconv.FormatBool(p.NeverEvent),
				"public_report": strconv.FormatBool(p.PublicReport)}})
	})
}

// AlertRecipients returns, inside the submission's transaction, who is
// emailed about an event just recorded for the organisation: its active
// reviewers and organisation admins whom the policy lets see the event now
// (so not those whose IG training is missing or out of date, nor those
// moving elsewhere), and who chose at least one of the reasons that hold;
// never the user except (the reporter; 0 for none), nor anyone who objected
// to contact or whose processing is restricted (P15). No reason, no one.
func (s *Service) AlertRecipients(ctx context.Context, tx *db.Tx, orgCode string, except int64, severeHarm, neverEvent, public bool) ([]mail.Addressee, error) {
	if !severeHarm && !neverEvent && !public {
		return nil, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT COALESCE(p.severe_harm, TRUE), COALESCE(p.never_event, TRUE), COALESCE(p.public_report, TRUE), `+userColumns+`
		FROM users u LEFT JOIN notification_preferences p ON p.user_id = u.id
		WHERE u.org_ods = $1 AND u.status = $2 AND u.role IN ($3, $4) AND u.id <> $5
			AND u.restricted_at IS NULL AND u.contact_objected_at IS NULL
		ORDER BY u.id`, orgCode, StatusActive, RoleReviewer, RoleOrgAdmin, except)
	if err != nil {
		return nil, fmt.Errorf("account: alert recipients: %w", err)
	}
	defer rows.Close()
	var out []mail.Addressee
	for rows.Next() {
		var p AlertPrefs
		u, err := scanUser(prefixScanner{rows, []any{&p.SevereHarm, &p.NeverEvent, &p.PublicReport}})
		if err != nil {
			return nil, fmt.Errorf("account: alert recipients: %w", err)
		}
		sub := authz.Subject{UserID: u.ID, Role: string(u.Role), Org: u.OrgCode,
			IGCurrent: igCurrent(u, tx.Now, s.settings.IGTrainingValidMonths), OrgMovePending: u.PendingOrgCode != ""}
		if !authz.Decide(sub, authz.ViewOrgRecords, authz.Object{Org: orgCode}).Allowed {
			continue
		}
		if (severeHarm && p.SevereHarm) || (neverEvent && p.NeverEvent) || (public && p.PublicReport) {
			out = append(out, mail.Addressee{Email: u.Email, Name: u.Name})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("account: alert recipients: %w", err)
	}
	return out, nil
}
