package account

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/csvsafe"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/org"
	"github.com/psims/psims/internal/textcheck"
)

// This file is user administration: lists, search and export for admins,
// suspension, deactivation and reinstatement (T6), roles and read-only
// grants. Who may do each is decided by internal/authz before these are
// called; nothing here checks roles.

// StatusIGDue is the user list filter for people whose role sees other
// people's data and whose information governance training is missing or out
// of date (T18). It is not a status an account can have.
const StatusIGDue Status = "ig-due"

// Paging of user lists.
const (
	DefaultPerPage = 25
	MaxPerPage     = 100
)

// maxUserQueryLength bounds the search text; longer text is cut.
const maxUserQueryLength = 200

// maxStatusReasonLength bounds the reason given for a status change.
const maxStatusReasonLength = 1000

// UserFilter chooses users for an admin list or export. The zero value is
// every user of every organisation, first page.
type UserFilter struct {
	Query   string // part of the name or email address, any case
	Org     string // ODS code; "" means every organisation
	Role    Role   // "" means any role
	Status  Status // a Status, StatusIGDue, or "" for any
	Page    int    // from 1; 0 means 1
	PerPage int    // 0 means DefaultPerPage; at most MaxPerPage
}

// UserPage is one page of a user list.
type UserPage struct {
	Users   []User // with OrgName filled
	Total   int    // users matching the filter, on every page
	Page    int
	PerPage int
}

// Pages is how many pages the whole list takes (at least 1).
func (p UserPage) Pages() int {
	if p.PerPage <= 0 || p.Total <= 0 {
		return 1
	}
	return (p.Total + p.PerPage - 1) / p.PerPage
}

// FilterStatuses are the values UserFilter.Status accepts besides "".
func FilterStatuses() []Status {
	return []Status{StatusPending, StatusActive, StatusSuspended, StatusDeactivated, StatusUnverified, StatusRejected, StatusIGDue}
}

// Label is how the role is named to people (RoleLabel).
func (r Role) Label() string { return RoleLabel(r) }

// RoleLabel is how a role is named to people.
func RoleLabel(r Role) string {
	switch r {
	case RoleReporter:
		return "Reporter"
	case RoleReviewer:
		return "Reviewer"
	case RoleOrgAdmin:
		return "Organisation admin"
	case RoleReadOnly:
		return "Read-only"
	case RoleNationalAdmin:
		return "National admin"
	}
	return string(r)
}

// StatusLabel is how a status (or StatusIGDue) is named to people.
func StatusLabel(s Status) string {
	switch s {
	case StatusUnverified:
		return "Email not confirmed"
	case StatusPending:
		return "Waiting for approval"
	case StatusActive:
		return "Active"
	case StatusSuspended:
		return "Suspended"
	case StatusDeactivated:
		return "Deactivated"
	case StatusRejected:
		return "Rejected"
	case StatusErased:
		return "Erased"
	case StatusIGDue:
		return "IG training due"
	}
	return string(s)
}

// normaliseSearch trims the words searched for, cutting them to
// maxUserQueryLength, and checks the organisation code, for the user list
// and the approval queue alike. Errors: Invalid.
func normaliseSearch(query, orgCode string) (string, string, error) {
	query = strings.TrimSpace(query)
	if r := []rune(query); len(r) > maxUserQueryLength {
		query = string(r[:maxUserQueryLength])
	}
	if orgCode != "" {
		code, err := org.ParseCode(orgCode)
		if err != nil {
			return query, orgCode, err
		}
		orgCode = code.String()
	}
	return query, orgCode, nil
}

// normalise checks the filter and fills in its defaults. Errors: Invalid.
func (f UserFilter) normalise() (UserFilter, error) {
	var err error
	if f.Query, f.Org, err = normaliseSearch(f.Query, f.Org); err != nil {
		return f, err
	}
	if f.Role != "" {
		if _, err := ParseRole(string(f.Role)); err != nil {
			return f, err
		}
	}
	if f.Status != "" && !slices.Contains(FilterStatuses(), f.Status) {
		return f, apperr.New(apperr.Invalid, fmt.Sprintf("There is no account status called %q.", f.Status))
	}
	if f.Page < 1 {
		f.Page = 1
	}
	if f.PerPage <= 0 {
		f.PerPage = DefaultPerPage
	}
	f.PerPage = min(f.PerPage, MaxPerPage)
	return f, nil
}

// where builds the WHERE clause of f (normalised) and its arguments, with
// placeholders numbered from 1.
func (s *Service) userFilterWhere(f UserFilter, now time.Time) (string, []any) {
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	// An erased person's tombstone is nobody: no list shows it (P15).
	conds := []string{"u.status <> " + arg(string(StatusErased))}
	if f.Org != "" {
		conds = append(conds, "u.org_ods = "+arg(f.Org))
	}
	if f.Query != "" {
		p := arg("%" + db.EscapeLike(f.Query) + "%")
		// The operator comes from the Dialect, never from input.
		op := s.db.Dialect().ILike
		conds = append(conds, "(u.name "+op+" "+p+` ESCAPE '\' OR u.email `+op+" "+p+` ESCAPE '\')`)
	}
	if f.Role != "" {
		conds = append(conds, "u.role = "+arg(string(f.Role)))
	}
	switch f.Status {
	case "":
	case StatusIGDue:
		// Due: an active account whose role needs training (T18) and whose
		// training is missing or was completed before the cut-off.
		var roles []string
		for _, r := range Roles() {
			if authz.SeesOthersData(string(r)) {
				roles = append(roles, arg(string(r)))
			}
		}
		cutoff := now.AddDate(0, -s.settings.IGTrainingValidMonths, 0)
		conds = append(conds, "u.status = "+arg(string(StatusActive)),
			"u.role IN ("+strings.Join(roles, ", ")+")",
			"(u.ig_training_at IS NULL OR u.ig_training_at <= "+arg(cutoff)+")")
	default:
		conds = append(conds, "u.status = "+arg(string(f.Status)))
	}
	if len(conds) == 0 {
		return "", args
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// ListUsers returns one page of the users f chooses, ordered by name, with
// the total. The caller decides the organisation scope (f.Org) from the
// authorisation policy. Errors: Invalid for a filter value that does not
// exist.
func (s *Service) ListUsers(ctx context.Context, f UserFilter) (UserPage, error) {
	f, err := f.normalise()
	if err != nil {
		return UserPage{}, err
	}
	where, args := s.userFilterWhere(f, s.db.Now())
	page := UserPage{Page: f.Page, PerPage: f.PerPage}
	n := len(args)
	// The page's IDs come from the index and a deferred join reads only the
	// rows on the page, so a deep page does not read every row it skips.
	// Without a search, the index gives rows in name order and a separate
	// COUNT reads the index alone; a search must look at every row in scope
	// anyway, so one pass with a window count finds the page and the total.
	total := `0`
	if f.Query == "" {
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users u`+where, args...).Scan(&page.Total); err != nil {
			return UserPage{}, fmt.Errorf("account: count users: %w", err)
		}
	} else {
		total = `COUNT(*) OVER ()`
	}
	q := `SELECT page.total, o.name, ` + userColumns + ` FROM (SELECT u.id, ` + total + ` AS total FROM users u` + where +
		` ORDER BY u.name, u.id LIMIT $` + strconv.Itoa(n+1) + ` OFFSET $` + strconv.Itoa(n+2) + `) page
		JOIN users u ON u.id = page.id JOIN organisations o ON o.ods_code = u.org_ods
		ORDER BY u.name, u.id`
	rows, err := s.db.QueryContext(ctx, q, append(args, f.PerPage, (f.Page-1)*f.PerPage)...)
	if err != nil {
		return UserPage{}, fmt.Errorf("account: list users: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var orgName string
		var windowTotal int
		u, err := scanUser(prefixScanner{rows, []any{&windowTotal, &orgName}})
		if err != nil {
			return UserPage{}, fmt.Errorf("account: list users: %w", err)
		}
		u.OrgName = orgName
		page.Users = append(page.Users, u)
		if f.Query != "" {
			page.Total = windowTotal
		}
	}
	if err := rows.Err(); err != nil {
		return UserPage{}, fmt.Errorf("account: list users: %w", err)
	}
	if f.Query != "" && len(page.Users) == 0 && f.Page > 1 {
		// Past the last page the window counted nothing: count on its own.
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users u`+where, args...).Scan(&page.Total); err != nil {
			return UserPage{}, fmt.Errorf("account: count users: %w", err)
		}
	}
	return page, nil
}

// eachUser runs q, whose columns are the organisation name then
// userColumns, and calls fn for each user.
func (s *Service) eachUser(ctx context.Context, q string, args []any, fn func(User) error) error {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var orgName string
		u, err := scanUser(prefixScanner{rows, []any{&orgName}})
		if err != nil {
			return err
		}
		u.OrgName = orgName
		if err := fn(u); err != nil {
			return err
		}
	}
	return rows.Err()
}

// UserWithOrg returns the user with that ID, with OrgName filled.
// Errors: NotFound.
func (s *Service) UserWithOrg(ctx context.Context, id int64) (User, error) {
	var found *User
	err := s.eachUser(ctx, `SELECT o.name, `+userColumns+` FROM users u JOIN organisations o ON o.ods_code = u.org_ods WHERE u.id = $1`,
		[]any{id}, func(u User) error {
			found = &u
			return nil
		})
	if err != nil {
		return User{}, fmt.Errorf("account: user with organisation: %w", err)
	}
	if found == nil {
		return User{}, apperr.New(apperr.NotFound, "No such account.")
	}
	return *found, nil
}

// userExportHeader is the first line of a user export.
var userExportHeader = []string{"Name", "Email", "Job role", "Organisation code", "Organisation name", "Role", "Status",
	"IG training completed", "IG training current", "Last signed in", "Created"}

// ExportUsers writes every user f chooses (all pages) to w as CSV. The export
// is written to the audit log, with the filter, before anything is sent.
// Cells that a spreadsheet would take for a formula are made text.
func (s *Service) ExportUsers(ctx context.Context, f UserFilter, actorID int64, ip string, w io.Writer) error {
	f, err := f.normalise()
	if err != nil {
		return err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		return audit.Record(ctx, tx, audit.Entry{ActorID: actorID, Action: "users.export", SubjectType: "users",
			SubjectID: f.Org, IP: ip, Details: map[string]string{
				"query": f.Query, "org": f.Org, "role": string(f.Role), "status": string(f.Status)}})
	})
	if err != nil {
		return err
	}
	now := s.db.Now()
	where, args := s.userFilterWhere(f, now)
	q := `SELECT o.name, ` + userColumns + ` FROM users u JOIN organisations o ON o.ods_code = u.org_ods` + where + ` ORDER BY u.name, u.id`
	cw := csv.NewWriter(w)
	if err := cw.Write(userExportHeader); err != nil {
		return fmt.Errorf("account: export users: %w", err)
	}
	err = s.eachUser(ctx, q, args, func(u User) error {
		ig, current := "", "no"
		if u.IGTrainingAt != nil {
			ig = u.IGTrainingAt.Format(time.DateOnly)
		}
		if igCurrent(u, now, s.settings.IGTrainingValidMonths) {
			current = "yes"
		}
		rec := []string{u.Name, u.Email, u.JobRole, u.OrgCode, u.OrgName, RoleLabel(u.Role), StatusLabel(u.Status),
			ig, current, adminFormatTime(u.LastSignInAt), u.CreatedAt.UTC().Format("2006-01-02 15:04")}
		for i := range rec {
			rec[i] = csvsafe.Cell(rec[i])
		}
		return cw.Write(rec)
	})
	if err != nil {
		return fmt.Errorf("account: export users: %w", err)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("account: export users: %w", err)
	}
	return nil
}

func adminFormatTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// StatusChanges returns the statuses an admin may move an account to from
// from: suspend or deactivate an active account, reinstate or deactivate a
// suspended one, reinstate a deactivated one (T6). Reinstating is a change to
// StatusActive.
func StatusChanges(from Status) []Status {
	switch from {
	case StatusActive:
		return []Status{StatusSuspended, StatusDeactivated}
	case StatusSuspended:
		return []Status{StatusActive, StatusDeactivated}
	case StatusDeactivated:
		return []Status{StatusActive}
	}
	return nil
}

// SetStatus suspends, deactivates or reinstates (to = StatusActive) the
// target's account on behalf of actor (T6). A reason is required to suspend
// or deactivate. Suspending or deactivating ends every session of the target
// at once. The change is audited and the person is emailed, in the same
// transaction. Errors: apperr.Fields (reason), NotFound, Conflict when the
// account cannot move from its current status to the one asked for.
func (s *Service) SetStatus(ctx context.Context, actor User, target User, to Status, reason, ip string) error {
	action, reason, err := checkStatusChange(to, reason)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		return s.setStatus(ctx, tx, actor, target, to, action, reason, ip, nil)
	})
}

// SetStatusInTx is SetStatus inside the caller's transaction, for a change
// made as part of another record's work, such as acting on a concern report
// (T5): link is added to the details of the change's audit row (for
// example "concern" and the report's id) so the row names what it was done
// from; it cannot replace the from, to and reason details. Errors as
// SetStatus; on an error the caller must roll back.
func (s *Service) SetStatusInTx(ctx context.Context, tx *db.Tx, actor User, target User, to Status, reason, ip string, link map[string]string) error {
	action, reason, err := checkStatusChange(to, reason)
	if err != nil {
		return err
	}
	return s.setStatus(ctx, tx, actor, target, to, action, reason, ip, link)
}

// checkStatusChange checks the change asked for and its reason, and
// returns the audit action and the reason trimmed.
func checkStatusChange(to Status, reason string) (string, string, error) {
	reason = strings.TrimSpace(reason)
	var action string
	switch to {
	case StatusSuspended:
		action = "account.suspend"
	case StatusDeactivated:
		action = "account.deactivate"
	case StatusActive:
		action = "account.reinstate"
	default:
		return "", "", apperr.New(apperr.Invalid, "Choose whether to suspend, deactivate or reinstate the account.")
	}
	var fields apperr.Fields
	switch {
	case reason == "" && to == StatusSuspended:
		fields.Add("reason", "Enter a reason for suspending this account")
	case reason == "" && to == StatusDeactivated:
		fields.Add("reason", "Enter a reason for deactivating this account")
	case len([]rune(reason)) > maxStatusReasonLength:
		fields.Add("reason", fmt.Sprintf("Reason must be %d characters or fewer", maxStatusReasonLength))
	case !textcheck.Valid(reason):
		fields.Add("reason", textcheck.Message("Reason"))
	}
	return action, reason, fields.Err()
}

// setStatus makes the change SetStatus describes, in tx.
func (s *Service) setStatus(ctx context.Context, tx *db.Tx, actor User, target User, to Status, action, reason, ip string, link map[string]string) error {
	u, err := userByID(ctx, tx, target.ID)
	if err != nil {
		return err
	}
	if err := unchangedSince(u, target); err != nil {
		return err
	}
	if !slices.Contains(StatusChanges(u.Status), to) {
		return apperr.New(apperr.Conflict, fmt.Sprintf("This account is %s, so it cannot be changed to %s.",
			strings.ToLower(StatusLabel(u.Status)), strings.ToLower(StatusLabel(to))))
	}
	// An admin's change is not the person's activity, so last_active_at
	// stays; but it ends any dormancy countdown, so an account reinstated
	// after being deactivated as dormant is warned afresh before it is
	// deactivated again.
	res, err := tx.ExecContext(ctx, `UPDATE users SET status = $1, status_reason = $2, status_changed_at = $3, updated_at = $3,
		dormancy_warned_at = NULL, dormancy_deactivate_at = NULL
		WHERE id = $4 AND status = $5`, to, reason, tx.Now, u.ID, u.Status)
	if err != nil {
		return fmt.Errorf("account: set status: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return apperr.Wrap(apperr.Conflict, "Someone else changed this account at the same time. Check it and try again.", err)
	}
	if err := endAllSessions(ctx, tx, u.ID); err != nil {
		return err
	}
	details := map[string]string{"from": string(u.Status), "to": string(to), "reason": reason}
	for k, v := range link {
		if _, taken := details[k]; !taken {
			details[k] = v
		}
	}
	err = audit.Record(ctx, tx, audit.Entry{ActorID: actor.ID, Action: action, SubjectType: "user",
		SubjectID: strconv.FormatInt(u.ID, 10), IP: ip, Details: details})
	if err != nil {
		return err
	}
	var msg mail.Message
	switch to {
	case StatusSuspended:
		msg = mail.AccountSuspended(u.Email, u.Name)
	case StatusDeactivated:
		msg = mail.AccountDeactivated(u.Email, u.Name)
	default:
		msg = mail.AccountReinstated(u.Email, u.Name, s.link("/sign-in", ""))
	}
	_, err = s.mail.Enqueue(ctx, tx, msg)
	return err
}

// SetRole gives the target the role, on behalf of actorID. Every session of
// the target ends, so the new role starts with a new session; a role other
// than read-only loses its read grants. The change is audited and the person
// is emailed, in the same transaction. Errors: apperr.Fields (role),
// NotFound.
func (s *Service) SetRole(ctx context.Context, actorID int64, target User, role Role, ip string) error {
	if _, err := ParseRole(string(role)); err != nil {
		return apperr.Fields{{Field: "role", Message: "Choose an account type"}}
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		u, err := userByID(ctx, tx, target.ID)
		if err != nil {
			return err
		}
		if err := unchangedSince(u, target); err != nil {
			return err
		}
		if u.Role == role {
			return apperr.Fields{{Field: "role", Message: "This person already has that account type. Choose a different one"}}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET role = $1, updated_at = $2 WHERE id = $3`, role, tx.Now, u.ID); err != nil {
			return fmt.Errorf("account: set role: %w", err)
		}
		details := map[string]string{"from": string(u.Role), "to": string(role)}
		if role != RoleReadOnly {
			res, err := tx.ExecContext(ctx, `DELETE FROM read_grants WHERE user_id = $1`, u.ID)
			if err != nil {
				return fmt.Errorf("account: set role: remove read grants: %w", err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				details["read_grants_removed"] = strconv.FormatInt(n, 10)
			}
		}
		if err := endAllSessions(ctx, tx, u.ID); err != nil {
			return err
		}
		err = audit.Record(ctx, tx, audit.Entry{ActorID: actorID, Action: "account.set_role", SubjectType: "user",
			SubjectID: strconv.FormatInt(u.ID, 10), IP: ip, Details: details})
		if err != nil {
			return err
		}
		_, err = s.mail.Enqueue(ctx, tx, mail.RoleChanged(u.Email, u.Name, strings.ToLower(RoleLabel(role)), s.link("/sign-in", "")))
		return err
	})
}

// unchangedSince refuses a change to an account whose role or organisation
// is no longer what the caller saw: the caller was authorised to act on the
// account as it was (a role it could grant), not as it is now.
func unchangedSince(now, seen User) error {
	if now.Role != seen.Role || now.OrgCode != seen.OrgCode {
		return apperr.New(apperr.Conflict, "This account changed while you were looking at it. Check it again.")
	}
	return nil
}

// SetReadGrants replaces the organisations a read-only user may read with
// orgs (ODS codes, each of which must exist), on behalf of actorID, and
// audits the change. Errors: apperr.Fields (orgs), NotFound, Conflict when
// the target is not a read-only user.
func (s *Service) SetReadGrants(ctx context.Context, actorID int64, target User, orgs []string, ip string) error {
	var codes []string
	var fields apperr.Fields
	for _, raw := range orgs {
		if strings.TrimSpace(raw) == "" {
			continue
		}
		code, err := org.ParseCode(raw)
		if err != nil {
			fields.Add("orgs", fmt.Sprintf("%q is not an ODS code. ODS codes are 3 to 7 letters and numbers, like RM1 or P87657", strings.TrimSpace(raw)))
			break
		}
		if _, err := s.orgs.Get(ctx, code); apperr.CodeOf(err) == apperr.NotFound {
			fields.Add("orgs", fmt.Sprintf("There is no organisation with the ODS code %s", code))
			break
		} else if err != nil {
			return err
		}
		if !slices.Contains(codes, code.String()) {
			codes = append(codes, code.String())
		}
	}
	if err := fields.Err(); err != nil {
		return err
	}
	slices.Sort(codes)
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		u, err := userByID(ctx, tx, target.ID)
		if err != nil {
			return err
		}
		if u.Role != RoleReadOnly {
			return apperr.New(apperr.Conflict, "Only read-only users are given organisations to read.")
		}
		old, err := txReadGrants(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM read_grants WHERE user_id = $1`, u.ID); err != nil {
			return fmt.Errorf("account: set read grants: %w", err)
		}
		for _, c := range codes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO read_grants (user_id, org_ods, granted_by, granted_at) VALUES ($1, $2, $3, $4)`,
				u.ID, c, db.NullID(actorID), tx.Now); err != nil {
				return fmt.Errorf("account: set read grants: %w", err)
			}
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: actorID, Action: "account.set_read_grants", SubjectType: "user",
			SubjectID: strconv.FormatInt(u.ID, 10), IP: ip,
			Details: map[string]string{"from": strings.Join(old, " "), "to": strings.Join(codes, " ")}})
	})
}

func txReadGrants(ctx context.Context, tx *db.Tx, userID int64) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT org_ods FROM read_grants WHERE user_id = $1 ORDER BY org_ods`, userID)
	if err != nil {
		return nil, fmt.Errorf("account: read grants: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("account: read grants: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
