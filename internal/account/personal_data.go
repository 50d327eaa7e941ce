package account

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// PersonalData is everything the account part holds about one person, for
// "Download my data" and legal disclosures (P15, P18). It never holds the
// password hash, a session or link token or its hash, or who decided a
// request: those are secrets, or other people's data.
type PersonalData struct {
	Account      AccountDetails  `json:"account"`
	Sessions     []SessionRecord `json:"sessions"`
	Requests     []RequestRecord `json:"requests"`
	ReadGrants   []string        `json:"read_grants"`
	AlertChoices *AlertPrefs     `json:"alert_choices,omitempty"`
	OpenLinks    []LinkRecord    `json:"links_sent"`
	TwoStep      TwoStepRecord   `json:"two_step_verification"`
	Devices      []Device        `json:"remembered_browsers"`
	Passkeys     []Passkey       `json:"passkeys"`
	// Identities are the provider sign-ins linked to the account.
	Identities []LinkedIdentity `json:"linked_sign_ins"`
}

// TwoStepRecord is what a person's two-step verification holds about
// them, its secrets left out: whether an authenticator app is set up,
// since when, and how many recovery codes they have and have used.
type TwoStepRecord struct {
	AppSetUpAt        *time.Time `json:"authenticator_app_set_up_at,omitempty"`
	RecoveryCodesLeft int        `json:"recovery_codes_unused"`
	RecoveryCodesUsed int        `json:"recovery_codes_used"`
}

// AccountDetails are the columns of the person's users row that are about
// them, secrets left out.
type AccountDetails struct {
	ID              int64      `json:"id"`
	Email           string     `json:"email"`
	Name            string     `json:"name"`
	JobRole         string     `json:"job_role"`
	OrgCode         string     `json:"organisation_code"`
	OrgName         string     `json:"organisation_name"`
	Role            Role       `json:"role"`
	Status          Status     `json:"status"`
	StatusReason    string     `json:"status_reason,omitempty"`
	StatusChangedAt *time.Time `json:"status_changed_at,omitempty"`
	EmailVerifiedAt *time.Time `json:"email_verified_at,omitempty"`
	ApprovedAt      *time.Time `json:"approved_at,omitempty"`
	LastSignInAt    *time.Time `json:"last_sign_in_at,omitempty"`
	IGTrainingAt    *time.Time `json:"ig_training_at,omitempty"`
	PendingEmail    string     `json:"pending_email,omitempty"`
	PendingOrgCode  string     `json:"pending_organisation_code,omitempty"`
	FailedAttempts  int        `json:"failed_sign_in_attempts"`
	LockedUntil     *time.Time `json:"locked_until,omitempty"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	// The dormancy clock (P12, P13): the person's last own activity, a
	// warning and its date of deactivation, and why the account is exempt
	// (who exempted it is not named).
	LastActiveAt         *time.Time `json:"last_active_at,omitempty"`
	DormancyWarnedAt     *time.Time `json:"dormancy_warned_at,omitempty"`
	DormancyDeactivateAt *time.Time `json:"dormancy_deactivate_at,omitempty"`
	ExemptionReason      string     `json:"dormancy_exemption_reason,omitempty"`
}

// SessionRecord is one signed-in browser as stored, without its token.
type SessionRecord struct {
	CreatedAt  time.Time `json:"started_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	IP         string    `json:"ip"`
	Browser    string    `json:"browser"`
}

// RequestRecord is one role request or organisation move the person made.
// The admin who decided is not named.
type RequestRecord struct {
	Kind          RequestKind   `json:"kind"`
	OrgCode       string        `json:"organisation_code"`
	RequestedRole Role          `json:"requested_role,omitempty"`
	Justification string        `json:"justification"`
	Status        RequestStatus `json:"status"`
	DecidedAt     *time.Time    `json:"decided_at,omitempty"`
	Reason        string        `json:"reason,omitempty"`
	CreatedAt     time.Time     `json:"created_at"`
}

// LinkRecord is a one-time link (email verification, password reset,
// email change) issued to the person: what it was for and when, never the
// token or its hash.
type LinkRecord struct {
	Purpose   string     `json:"purpose"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	UsedAt    *time.Time `json:"used_at,omitempty"`
}

// PersonalData reads what the account part holds about userID. Errors:
// NotFound when there is no such account.
func (s *Service) PersonalData(ctx context.Context, userID int64) (PersonalData, error) {
	var pd PersonalData
	a := &pd.Account
	var verified, approved, lastSignIn, statusChanged, ig, locked, lastActive, warned, deactivate sql.NullTime
	err := s.db.QueryRowContext(ctx, `SELECT u.id, u.email, u.name, u.job_role, u.org_ods, o.name, u.role, u.status,
		u.status_reason, u.status_changed_at, u.email_verified_at, u.approved_at, u.last_sign_in_at, u.ig_training_at,
		COALESCE(u.pending_email, ''), COALESCE(u.pending_org_ods, ''), u.failed_attempts, u.locked_until, u.created_at, u.updated_at,
		u.last_active_at, u.dormancy_warned_at, u.dormancy_deactivate_at, u.exemption_reason
		FROM users u JOIN organisations o ON o.ods_code = u.org_ods WHERE u.id = $1`, userID).Scan(
		&a.ID, &a.Email, &a.Name, &a.JobRole, &a.OrgCode, &a.OrgName, &a.Role, &a.Status,
		&a.StatusReason, &statusChanged, &verified, &approved, &lastSignIn, &ig,
		&a.PendingEmail, &a.PendingOrgCode, &a.FailedAttempts, &locked, &a.CreatedAt, &a.UpdatedAt,
		&lastActive, &warned, &deactivate, &a.ExemptionReason)
	if err != nil {
		if err == sql.ErrNoRows {
			_, err = userByID(ctx, s.db, userID) // the NotFound error users see
		}
		return PersonalData{}, fmt.Errorf("account: personal data: %w", err)
	}
	a.StatusChangedAt, a.EmailVerifiedAt, a.ApprovedAt = timePtr(statusChanged), timePtr(verified), timePtr(approved)
	a.LastSignInAt, a.IGTrainingAt, a.LockedUntil = timePtr(lastSignIn), timePtr(ig), timePtr(locked)
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	a.LastActiveAt, a.DormancyWarnedAt, a.DormancyDeactivateAt = timePtr(lastActive), timePtr(warned), timePtr(deactivate)

	if pd.Sessions, err = s.sessionRecords(ctx, userID); err != nil {
		return PersonalData{}, err
	}
	if pd.Requests, err = s.requestRecords(ctx, userID); err != nil {
		return PersonalData{}, err
	}
	if pd.OpenLinks, err = s.linkRecords(ctx, userID); err != nil {
		return PersonalData{}, err
	}
	if pd.ReadGrants, err = s.ReadGrants(ctx, userID); err != nil {
		return PersonalData{}, err
	}
	if pd.ReadGrants == nil {
		pd.ReadGrants = []string{}
	}
	var setUp sql.NullTime
	err = s.db.QueryRowContext(ctx, `SELECT (SELECT confirmed_at FROM totp_factors WHERE user_id = $1),
			(SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL),
			(SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NOT NULL)`, userID).Scan(
		&setUp, &pd.TwoStep.RecoveryCodesLeft, &pd.TwoStep.RecoveryCodesUsed)
	if err != nil {
		return PersonalData{}, fmt.Errorf("account: personal data two-step: %w", err)
	}
	pd.TwoStep.AppSetUpAt = timePtr(setUp)
	if pd.Devices, err = s.Devices(ctx, userID); err != nil {
		return PersonalData{}, err
	}
	if pd.Devices == nil {
		pd.Devices = []Device{}
	}
	if pd.Passkeys, err = s.Passkeys(ctx, userID); err != nil {
		return PersonalData{}, err
	}
	if pd.Passkeys == nil {
		pd.Passkeys = []Passkey{}
	}
	if pd.Identities, err = s.Identities(ctx, userID); err != nil {
		return PersonalData{}, err
	}
	if pd.Identities == nil {
		pd.Identities = []LinkedIdentity{}
	}
	if GetsAlerts(User{Role: a.Role}) {
		p, err := s.AlertPrefs(ctx, userID)
		if err != nil {
			return PersonalData{}, err
		}
		pd.AlertChoices = &p
	}
	return pd, nil
}

func (s *Service) sessionRecords(ctx context.Context, userID int64) ([]SessionRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT created_at, last_seen_at, expires_at, ip, user_agent FROM sessions
		WHERE user_id = $1 ORDER BY created_at DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("account: personal data: sessions: %w", err)
	}
	defer rows.Close()
	out := []SessionRecord{}
	for rows.Next() {
		var r SessionRecord
		if err := rows.Scan(&r.CreatedAt, &r.LastSeenAt, &r.ExpiresAt, &r.IP, &r.Browser); err != nil {
			return nil, fmt.Errorf("account: personal data: sessions: %w", err)
		}
		r.CreatedAt, r.LastSeenAt, r.ExpiresAt = r.CreatedAt.UTC(), r.LastSeenAt.UTC(), r.ExpiresAt.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *Service) requestRecords(ctx context.Context, userID int64) ([]RequestRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT kind, org_ods, requested_role, justification, status, decided_at, reason, created_at
		FROM access_requests WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("account: personal data: requests: %w", err)
	}
	defer rows.Close()
	out := []RequestRecord{}
	for rows.Next() {
		var r RequestRecord
		var decided sql.NullTime
		if err := rows.Scan(&r.Kind, &r.OrgCode, &r.RequestedRole, &r.Justification, &r.Status, &decided, &r.Reason, &r.CreatedAt); err != nil {
			return nil, fmt.Errorf("account: personal data: requests: %w", err)
		}
		r.DecidedAt, r.CreatedAt = timePtr(decided), r.CreatedAt.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *Service) linkRecords(ctx context.Context, userID int64) ([]LinkRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT purpose, created_at, expires_at, used_at FROM user_tokens
		WHERE user_id = $1 ORDER BY created_at DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("account: personal data: links: %w", err)
	}
	defer rows.Close()
	out := []LinkRecord{}
	for rows.Next() {
		var r LinkRecord
		var used sql.NullTime
		if err := rows.Scan(&r.Purpose, &r.CreatedAt, &r.ExpiresAt, &used); err != nil {
			return nil, fmt.Errorf("account: personal data: links: %w", err)
		}
		r.CreatedAt, r.ExpiresAt, r.UsedAt = r.CreatedAt.UTC(), r.ExpiresAt.UTC(), timePtr(used)
		out = append(out, r)
	}
	return out, rows.Err()
}
