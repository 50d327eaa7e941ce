package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/mail"
)

// RequestKind is what a user asks an organisation's admin for.
type RequestKind string

// The kinds of request.
const (
	// KindRole asks for the reviewer or org-admin role in the user's own
	// organisation; the request's OrgCode is that organisation.
	KindRole RequestKind = "role"
	// KindOrgMove asks to move to another organisation; the request's
	// OrgCode is the new organisation, whose admins decide (P14).
	KindOrgMove RequestKind = "org_move"
)

// RequestStatus is where a request is in its life.
type RequestStatus string

// The statuses of a request.
const (
	ReqPending   RequestStatus = "pending"
	ReqApproved  RequestStatus = "approved"
	ReqRejected  RequestStatus = "rejected"
	ReqWithdrawn RequestStatus = "withdrawn"
)

// Limits on the text people write with requests and decisions.
const (
	minJustification = 10
	maxJustification = 1000
	maxDecisionText  = 1000
)

// Request is a request for a role or an organisation move, with what an
// admin needs to know about who made it.
type Request struct {
	ID            int64
	UserID        int64
	Kind          RequestKind
	OrgCode       string // the organisation whose admins decide
	OrgName       string
	RequestedRole Role // for role requests; empty for organisation moves
	Justification string
	Status        RequestStatus
	DecidedBy     int64 // 0 until decided
	DecidedAt     *time.Time
	Reason        string // the reason given with a rejection
	CreatedAt     time.Time

	// The requester as they are now.
	UserName    string
	UserEmail   string
	UserOrgCode string
	UserOrgName string
	UserRole    Role
}

// Queue is what waits for an organisation admin's decision, oldest first.
type Queue struct {
	// Registrations are verified accounts waiting for approval (OrgName
	// filled).
	Registrations []User
	// Requests are pending role requests and organisation moves.
	Requests []Request
}

// requestColumns are the columns scanRequest reads, from access_requests r
// joined to users u, the deciding organisation o and the user's own
// organisation uo.
const requestColumns = `r.id, r.user_id, r.kind, r.org_ods, o.name, r.requested_role, r.justification, r.status,
	COALESCE(r.decided_by, 0), r.decided_at, r.reason, r.created_at,
	u.name, u.email, u.org_ods, uo.name, u.role`

const requestFrom = ` FROM access_requests r
	JOIN users u ON u.id = r.user_id
	JOIN organisations o ON o.ods_code = r.org_ods
	JOIN organisations uo ON uo.ods_code = u.org_ods`

func scanRequest(r rowScanner) (Request, error) {
	var q Request
	var decided sql.NullTime
	err := r.Scan(&q.ID, &q.UserID, &q.Kind, &q.OrgCode, &q.OrgName, &q.RequestedRole, &q.Justification, &q.Status,
		&q.DecidedBy, &decided, &q.Reason, &q.CreatedAt,
		&q.UserName, &q.UserEmail, &q.UserOrgCode, &q.UserOrgName, &q.UserRole)
	if err != nil {
		return Request{}, err
	}
	q.DecidedAt = timePtr(decided)
	q.CreatedAt = q.CreatedAt.UTC()
	return q, nil
}

// errNoRequest is the one answer for a request that does not exist or is
// not the caller's to see.
var errNoRequest = apperr.New(apperr.NotFound, "No such request.")

func requestByID(ctx context.Context, q querier, id int64) (Request, error) {
	req, err := scanRequest(q.QueryRowContext(ctx, `SELECT `+requestColumns+requestFrom+` WHERE r.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Request{}, errNoRequest
	}
	if err != nil {
		return Request{}, fmt.Errorf("account: request by id: %w", err)
	}
	return req, nil
}

// RequestByID returns a request with its requester. Errors: NotFound.
func (s *Service) RequestByID(ctx context.Context, id int64) (Request, error) {
	return requestByID(ctx, s.db, id)
}

// PendingRequestFor returns the user's pending request of the kind, or nil
// when there is none.
func (s *Service) PendingRequestFor(ctx context.Context, userID int64, kind RequestKind) (*Request, error) {
	req, err := scanRequest(s.db.QueryRowContext(ctx, `SELECT `+requestColumns+requestFrom+`
		WHERE r.user_id = $1 AND r.kind = $2 AND r.status = $3 ORDER BY r.id DESC LIMIT 1`, userID, kind, ReqPending))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("account: pending request: %w", err)
	}
	return &req, nil
}

// RequestableRoles are the roles a user may ask for. Read-only and national
// roles are given by the operator, not requested.
func RequestableRoles() []Role { return []Role{RoleReviewer, RoleOrgAdmin} }

// RoleInWords is how a role is called in sentences: "reviewer",
// "organisation admin".
func RoleInWords(r Role) string {
	switch r {
	case RoleOrgAdmin:
		return "organisation admin"
	case RoleReadOnly:
		return "read-only user"
	case RoleNationalAdmin:
		return "national admin"
	}
	return string(r)
}

// roleWithArticle is the role in words after "a" or "an".
func roleWithArticle(r Role) string {
	w := RoleInWords(r)
	if strings.HasPrefix(w, "o") || strings.HasPrefix(w, "a") {
		return "an " + w
	}
	return "a " + w
}

// lockRequestUser takes the user's row lock for the rest of the transaction (on
// PostgreSQL; SQLite's single writer already serialises), so checks and
// changes about one user cannot interleave, and returns the user as they are
// now.
func lockRequestUser(ctx context.Context, tx *db.Tx, id int64) (User, error) {
	if _, err := tx.ExecContext(ctx, `UPDATE users SET updated_at = updated_at WHERE id = $1`, id); err != nil {
		return User{}, fmt.Errorf("account: lock user: %w", err)
	}
	return userByID(ctx, tx, id)
}

// RequestRole asks the admins of the user's organisation for the reviewer
// or org-admin role, with a justification of 10 to 1000 characters.
// Errors: Invalid (apperr.Fields "role", "justification"); Conflict when a
// role request is already waiting, the account is not active, or a move to
// another organisation is waiting.
func (s *Service) RequestRole(ctx context.Context, u User, role Role, justification, ip string) error {
	justification = strings.TrimSpace(justification)
	var problems apperr.Fields
	switch {
	case role == "":
		problems.Add("role", "Select the account type you are asking for")
	case role != RoleReviewer && role != RoleOrgAdmin:
		problems.Add("role", "You can ask to be a reviewer or an organisation admin")
	case role == u.Role:
		problems.Add("role", "You are already "+roleWithArticle(role)+". Select a different account type")
	}
	switch n := utf8.RuneCountInString(justification); {
	case n == 0:
		problems.Add("justification", "Enter why you need this account type")
	case n < minJustification:
		problems.Add("justification", "Tell us a little more about why you need this account type, in at least 10 characters")
	case n > maxJustification:
		problems.Add("justification", "Why you need this account type must be 1000 characters or fewer")
	}
	if err := problems.Err(); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		cur, err := lockRequestUser(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		if cur.Status != StatusActive {
			return apperr.New(apperr.Conflict, "Only active accounts can ask for another account type.")
		}
		if cur.PendingOrgCode != "" {
			return apperr.New(apperr.Conflict, "You cannot ask for another account type while your move to another organisation is waiting for approval.")
		}
		if cur.Role == role {
			return apperr.Fields{{Field: "role", Message: "You are already " + roleWithArticle(role) + ". Select a different account type"}}
		}
		if err := checkNoPending(ctx, tx, cur.ID, KindRole); err != nil {
			return err
		}
		var id int64
		err = tx.QueryRowContext(ctx, `INSERT INTO access_requests (user_id, kind, org_ods, requested_role, justification, status, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			cur.ID, KindRole, cur.OrgCode, role, justification, ReqPending, tx.Now).Scan(&id)
		if err != nil {
			return fmt.Errorf("account: insert role request: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: cur.ID, Action: "request.role", SubjectType: "access_request",
			SubjectID: strconv.FormatInt(id, 10),
			Details:   map[string]string{"user": strconv.FormatInt(cur.ID, 10), "org": cur.OrgCode, "role": string(role), "from_role": string(cur.Role)},
			IP:        ip})
	})
}

// checkNoPending refuses a second pending request of a kind.
func checkNoPending(ctx context.Context, tx *db.Tx, userID int64, kind RequestKind) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM access_requests WHERE user_id = $1 AND kind = $2 AND status = $3`,
		userID, kind, ReqPending).Scan(&n); err != nil {
		return fmt.Errorf("account: pending requests: %w", err)
	}
	if n == 0 {
		return nil
	}
	if kind == KindOrgMove {
		return apperr.New(apperr.Conflict, "You already have a move to another organisation waiting for approval. Withdraw it first if you want to ask for something different.")
	}
	return apperr.New(apperr.Conflict, "You already have a request for another account type waiting for a decision. Withdraw it first if you want to ask for something different.")
}

// WithdrawRequest withdraws one of the user's own pending requests. For an
// organisation move the pending organisation is cleared too. Errors:
// NotFound when the user has no such pending request.
func (s *Service) WithdrawRequest(ctx context.Context, u User, requestID int64, ip string) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := lockRequestUser(ctx, tx, u.ID); err != nil {
			return err
		}
		var kind RequestKind
		var orgCode string
		err := tx.QueryRowContext(ctx, `UPDATE access_requests SET status = $1, decided_at = $2
			WHERE id = $3 AND user_id = $4 AND status = $5 RETURNING kind, org_ods`,
			ReqWithdrawn, tx.Now, requestID, u.ID, ReqPending).Scan(&kind, &orgCode)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "You have no request waiting for a decision.")
		}
		if err != nil {
			return fmt.Errorf("account: withdraw request: %w", err)
		}
		if kind == KindOrgMove {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET pending_org_ods = NULL, updated_at = $1 WHERE id = $2 AND pending_org_ods = $3`,
				tx.Now, u.ID, orgCode); err != nil {
				return fmt.Errorf("account: withdraw move: %w", err)
			}
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: u.ID, Action: "request.withdraw", SubjectType: "access_request",
			SubjectID: strconv.FormatInt(requestID, 10),
			Details:   map[string]string{"user": strconv.FormatInt(u.ID, 10), "kind": string(kind), "org": orgCode},
			IP:        ip})
	})
}

// PendingApprovals returns what waits for a decision in the organisation
// (org "" means every organisation): verified registrations of its people,
// and requests its admins decide (for moves, the new organisation decides).
// Each list is oldest first.
func (s *Service) PendingApprovals(ctx context.Context, org string) (Queue, error) {
	var q Queue
	rows, err := s.db.QueryContext(ctx, `SELECT o.name, `+userColumns+`
		FROM users u JOIN organisations o ON o.ods_code = u.org_ods
		WHERE u.status = $1 AND ($2 = '' OR u.org_ods = $2)
		ORDER BY u.email_verified_at, u.id`, StatusPending, org)
	if err != nil {
		return Queue{}, fmt.Errorf("account: pending registrations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var orgName string
		u, err := scanUser(prefixScanner{rows, []any{&orgName}})
		if err != nil {
			return Queue{}, fmt.Errorf("account: pending registrations: %w", err)
		}
		u.OrgName = orgName
		q.Registrations = append(q.Registrations, u)
	}
	if err := rows.Err(); err != nil {
		return Queue{}, fmt.Errorf("account: pending registrations: %w", err)
	}
	rows.Close()

	rrows, err := s.db.QueryContext(ctx, `SELECT `+requestColumns+requestFrom+`
		WHERE r.status = $1 AND ($2 = '' OR r.org_ods = $2)
		ORDER BY r.created_at, r.id`, ReqPending, org)
	if err != nil {
		return Queue{}, fmt.Errorf("account: pending requests: %w", err)
	}
	defer rrows.Close()
	for rrows.Next() {
		req, err := scanRequest(rrows)
		if err != nil {
			return Queue{}, fmt.Errorf("account: pending requests: %w", err)
		}
		q.Requests = append(q.Requests, req)
	}
	if err := rrows.Err(); err != nil {
		return Queue{}, fmt.Errorf("account: pending requests: %w", err)
	}
	return q, nil
}

// checkDecisionReason validates a reason: required to reject, at most 1000
// characters. It returns the trimmed reason.
func checkDecisionReason(approve bool, reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if !approve && reason == "" {
		return "", apperr.Fields{{Field: "reason", Message: "Enter why you are rejecting it. We will send the reason to the person"}}
	}
	if utf8.RuneCountInString(reason) > maxDecisionText {
		return "", apperr.Fields{{Field: "reason", Message: "The reason must be 1000 characters or fewer"}}
	}
	return reason, nil
}

func requestOrgName(ctx context.Context, tx *db.Tx, code string) (string, error) {
	var name string
	if err := tx.QueryRowContext(ctx, `SELECT name FROM organisations WHERE ods_code = $1`, code).Scan(&name); err != nil {
		return "", fmt.Errorf("account: organisation name: %w", err)
	}
	return name, nil
}

// DecideRegistration approves or rejects a verified registration waiting
// for approval. Approval lets the person sign in; rejection needs a reason,
// which is emailed to them. Either way they are emailed and the decision is
// audited. The caller has checked that actorID may decide it. Errors:
// Invalid (apperr.Fields "reason"); Conflict when the account is not
// waiting for approval.
func (s *Service) DecideRegistration(ctx context.Context, actorID int64, target User, approve bool, reason, ip string) error {
	reason, err := checkDecisionReason(approve, reason)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		u, err := lockRequestUser(ctx, tx, target.ID)
		if err != nil {
			return err
		}
		if u.Status != StatusPending {
			return apperr.New(apperr.Conflict, "This registration is no longer waiting for approval. Someone may have decided it already.")
		}
		subject := strconv.FormatInt(u.ID, 10)
		if approve {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET status = $1, approved_at = $2, status_reason = '', status_changed_at = $2, updated_at = $2
				WHERE id = $3`, StatusActive, tx.Now, u.ID); err != nil {
				return fmt.Errorf("account: approve registration: %w", err)
			}
			if err := audit.Record(ctx, tx, audit.Entry{ActorID: actorID, Action: "account.approve", SubjectType: "user", SubjectID: subject,
				Details: map[string]string{"how": "approved", "org": u.OrgCode}, IP: ip}); err != nil {
				return err
			}
			_, err := s.mail.Enqueue(ctx, tx, mail.Approved(u.Email, u.Name, s.link("/sign-in", "")))
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET status = $1, status_reason = $2, status_changed_at = $3, updated_at = $3
			WHERE id = $4`, StatusRejected, reason, tx.Now, u.ID); err != nil {
			return fmt.Errorf("account: reject registration: %w", err)
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: actorID, Action: "account.reject", SubjectType: "user", SubjectID: subject,
			Details: map[string]string{"org": u.OrgCode, "reason": reason}, IP: ip}); err != nil {
			return err
		}
		name, err := requestOrgName(ctx, tx, u.OrgCode)
		if err != nil {
			return err
		}
		_, err = s.mail.Enqueue(ctx, tx, mail.RegistrationRejected(u.Email, u.Name, reason, name))
		return err
	})
}

// DecideRequest approves or rejects a pending request. An approved role
// request gives the user the role; an approved move puts them in the new
// organisation as a reporter, without read grants or other pending
// requests. Either ends all their sessions, so they sign in again with the
// new privileges. Rejection needs a reason, which is emailed to them. The
// caller has checked that actorID may decide it. Errors: Invalid
// (apperr.Fields "reason"); NotFound; Conflict when the request is no longer
// pending or the account has changed so that it no longer applies.
func (s *Service) DecideRequest(ctx context.Context, actorID int64, req Request, approve bool, reason, ip string) error {
	reason, err := checkDecisionReason(approve, reason)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		cur, err := requestByID(ctx, tx, req.ID)
		if err != nil {
			return err
		}
		u, err := lockRequestUser(ctx, tx, cur.UserID)
		if err != nil {
			return err
		}
		// Read it again under the lock: someone may have decided it meanwhile.
		if cur, err = requestByID(ctx, tx, req.ID); err != nil {
			return err
		}
		switch cur.Status {
		case ReqPending:
		case ReqWithdrawn:
			return apperr.New(apperr.Conflict, "The person has withdrawn this request.")
		default:
			return apperr.New(apperr.Conflict, "This request has already been decided.")
		}
		if approve {
			if err := s.applyRequest(ctx, tx, u, cur); err != nil {
				return err
			}
		} else if cur.Kind == KindOrgMove {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET pending_org_ods = NULL, updated_at = $1 WHERE id = $2 AND pending_org_ods = $3`,
				tx.Now, u.ID, cur.OrgCode); err != nil {
				return fmt.Errorf("account: reject move: %w", err)
			}
		}
		status := ReqApproved
		action := "request.approve"
		if !approve {
			status, action = ReqRejected, "request.reject"
		}
		if _, err := tx.ExecContext(ctx, `UPDATE access_requests SET status = $1, decided_by = $2, decided_at = $3, reason = $4 WHERE id = $5`,
			status, db.NullID(actorID), tx.Now, reason, cur.ID); err != nil {
			return fmt.Errorf("account: decide request: %w", err)
		}
		details := map[string]string{"user": strconv.FormatInt(u.ID, 10), "kind": string(cur.Kind), "org": cur.OrgCode, "from_role": string(u.Role)}
		if cur.Kind == KindRole {
			details["role"] = string(cur.RequestedRole)
		} else {
			details["from_org"] = u.OrgCode
			details["role"] = string(RoleReporter)
		}
		if !approve {
			details["reason"] = reason
		}
		if err := audit.Record(ctx, tx, audit.Entry{ActorID: actorID, Action: action, SubjectType: "access_request",
			SubjectID: strconv.FormatInt(cur.ID, 10), Details: details, IP: ip}); err != nil {
			return err
		}
		var msg mail.Message
		switch {
		case approve && cur.Kind == KindRole:
			msg = mail.RoleRequestApproved(u.Email, u.Name, roleWithArticle(cur.RequestedRole), s.link("/sign-in", ""), !igCurrent(u, tx.Now, s.settings.IGTrainingValidMonths))
		case approve:
			msg = mail.OrgMoveApproved(u.Email, u.Name, cur.OrgName, s.link("/sign-in", ""))
		case cur.Kind == KindRole:
			msg = mail.RequestRejected(u.Email, u.Name, "become "+roleWithArticle(cur.RequestedRole), reason, cur.OrgName)
		default:
			msg = mail.RequestRejected(u.Email, u.Name, "move to "+cur.OrgName, reason, cur.OrgName)
		}
		_, err = s.mail.Enqueue(ctx, tx, msg)
		return err
	})
}

// applyRequest makes an approved request's change to the user.
func (s *Service) applyRequest(ctx context.Context, tx *db.Tx, u User, req Request) error {
	if u.Status != StatusActive {
		return apperr.New(apperr.Conflict, "This person's account is not active, so the request cannot be approved. You can reject it instead.")
	}
	switch req.Kind {
	case KindRole:
		if u.OrgCode != req.OrgCode {
			return apperr.New(apperr.Conflict, "This person has moved to another organisation since they asked. You can reject the request instead.")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET role = $1, updated_at = $2 WHERE id = $3`, req.RequestedRole, tx.Now, u.ID); err != nil {
			return fmt.Errorf("account: grant role: %w", err)
		}
		if req.RequestedRole != RoleReadOnly {
			if _, err := tx.ExecContext(ctx, `DELETE FROM read_grants WHERE user_id = $1`, u.ID); err != nil {
				return fmt.Errorf("account: clear read grants: %w", err)
			}
		}
	case KindOrgMove:
		if u.PendingOrgCode != req.OrgCode {
			return apperr.New(apperr.Conflict, "This person is no longer asking to move here. You can reject the request instead.")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET org_ods = $1, pending_org_ods = NULL, role = $2, updated_at = $3 WHERE id = $4`,
			req.OrgCode, RoleReporter, tx.Now, u.ID); err != nil {
			return fmt.Errorf("account: move organisation: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM read_grants WHERE user_id = $1`, u.ID); err != nil {
			return fmt.Errorf("account: clear read grants: %w", err)
		}
		// A role asked for in the old organisation no longer applies.
		if _, err := tx.ExecContext(ctx, `UPDATE access_requests SET status = $1, decided_at = $2, reason = $3
			WHERE user_id = $4 AND status = $5 AND id <> $6`,
			ReqWithdrawn, tx.Now, "The person moved to another organisation.", u.ID, ReqPending, req.ID); err != nil {
			return fmt.Errorf("account: close old requests: %w", err)
		}
	default:
		return fmt.Errorf("account: unknown request kind %q", req.Kind)
	}
	// New privileges, new sessions.
	return endAllSessions(ctx, tx, u.ID)
}
