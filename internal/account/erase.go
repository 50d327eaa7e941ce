package account

import (
	"context"
	"fmt"
	"strconv"

	"github.com/psims/psims/internal/db"
)

// ErasedName is how an erased person is shown wherever a record they made
// is kept (events, review notes, replies): their name is gone.
const ErasedName = "Erased user"

// UserInTx returns the user with that ID as the transaction sees it.
// Errors: NotFound.
func (s *Service) UserInTx(ctx context.Context, tx *db.Tx, id int64) (User, error) {
	return userByID(ctx, tx, id)
}

// ErasePerson erases everything the account tables hold about the user,
// inside the caller's transaction (P15): sessions, one-time tokens,
// requests for roles and moves, read grants and alert preferences go, and
// the users row becomes a tombstone that keeps the id and nothing else.
//
// Why a tombstone rather than deleting the row: on SQLite the users id is
// a plain INTEGER PRIMARY KEY, which gives the highest id again when the
// highest row is deleted. The audit log, which is never rewritten, names
// actors by id; a new person given an erased person's id would inherit
// their audit trail. The tombstone keeps the id taken for ever and
// pointing at nobody (pseudonymous), and records the person made (events,
// review notes, replies) keep pointing at it and show ErasedName. Its
// email is "erased:ID", which no typed address can match (so nobody signs
// in as it) and which frees the person's address to register afresh as a
// new person; its status is StatusErased, which Authenticate refuses.
//
// It returns how many rows of each kind went, for the erasure's audit row.
func (s *Service) ErasePerson(ctx context.Context, tx *db.Tx, userID int64) (map[string]int64, error) {
	counts := map[string]int64{}
	for _, st := range []struct{ key, query string }{
		{"sessions", `DELETE FROM sessions WHERE user_id = $1`},
		{"recovery_codes", `DELETE FROM recovery_codes WHERE user_id = $1`},
		{"authenticator_apps", `DELETE FROM totp_factors WHERE user_id = $1`},
		{"passkeys", `DELETE FROM passkeys WHERE user_id = $1`},
		{"linked_sign_ins", `DELETE FROM oidc_identities WHERE user_id = $1`},
		{"oidc_logins", `DELETE FROM oidc_logins WHERE link_user_id = $1`},
		// An identity held for linking or registering carries the address
		// its provider verified, for half an hour.
		{"held_sign_ins", `DELETE FROM oidc_held_identities WHERE email = (SELECT email FROM users WHERE id = $1)`},
		{"remembered_devices", `DELETE FROM remembered_devices WHERE user_id = $1`},
		{"passkey_ceremonies", `DELETE FROM webauthn_ceremonies WHERE user_id = $1`},
		{"tokens", `DELETE FROM user_tokens WHERE user_id = $1`},
		{"access_requests", `DELETE FROM access_requests WHERE user_id = $1`},
		{"read_grants", `DELETE FROM read_grants WHERE user_id = $1`},
		{"alert_preferences", `DELETE FROM notification_preferences WHERE user_id = $1`},
		// What they decided for others stays decided, by nobody in particular.
		{"decisions_detached", `UPDATE access_requests SET decided_by = NULL WHERE decided_by = $1`},
		{"grants_detached", `UPDATE read_grants SET granted_by = NULL WHERE granted_by = $1`},
		{"exemptions_detached", `UPDATE users SET exemption_by = NULL WHERE exemption_by = $1`},
	} {
		res, err := tx.ExecContext(ctx, st.query, userID)
		if err != nil {
			return nil, fmt.Errorf("account: erase %s: %w", st.key, err)
		}
		n, _ := res.RowsAffected()
		counts[st.key] = n
	}
	res, err := tx.ExecContext(ctx, `UPDATE users SET email = $1, name = '', job_role = '', role = $2, status = $3,
		password_hash = '', email_verified_at = NULL, approved_at = NULL, failed_attempts = 0,
		failed_window_start = NULL, locked_until = NULL, last_sign_in_at = NULL, created_at = $4, updated_at = $4,
		status_reason = '', status_changed_at = $4, ig_training_at = NULL, pending_email = NULL, pending_org_ods = NULL,
		restricted_at = NULL, contact_objected_at = NULL, last_active_at = $4, dormancy_warned_at = NULL,
		dormancy_deactivate_at = NULL, exemption_reason = '', exemption_by = NULL, exemption_at = NULL
		WHERE id = $5`, "erased:"+strconv.FormatInt(userID, 10), RoleReporter, StatusErased, tx.Now, userID)
	if err != nil {
		return nil, fmt.Errorf("account: erase user %d: %w", userID, err)
	}
	n, _ := res.RowsAffected()
	counts["account"] = n
	return counts, nil
}

// SetRestricted restricts the processing of the user's data, or lifts the
// restriction, inside the caller's transaction (P15). While restricted the
// account is read-only (authz.Subject.Restricted) and the person gets no
// notifications and is left out of per-person usage analysis. The caller
// audits it.
func (s *Service) SetRestricted(ctx context.Context, tx *db.Tx, userID int64, restricted bool) error {
	var at any
	if restricted {
		at = tx.Now
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET restricted_at = $1, updated_at = $2 WHERE id = $3`, at, tx.Now, userID); err != nil {
		return fmt.Errorf("account: set restricted: %w", err)
	}
	return nil
}

// SetContactObjection records that the user objects to being contacted
// (newsletters, notifications, invitations), or no longer does, inside the
// caller's transaction, with effect on the next message chosen (P7, P15).
// The caller audits it.
func (s *Service) SetContactObjection(ctx context.Context, tx *db.Tx, userID int64, objects bool) error {
	var at any
	if objects {
		at = tx.Now
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET contact_objected_at = $1, updated_at = $2 WHERE id = $3`, at, tx.Now, userID); err != nil {
		return fmt.Errorf("account: set contact objection: %w", err)
	}
	return nil
}
