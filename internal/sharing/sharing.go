// Package sharing is the registry of data sharing agreements (issue 15,
// T4, T15, T17): the agreements under which patient safety event data
// leaves the organisation that recorded it, and the log of every extract
// made under one.
//
// An agreement names its recipient, purpose and legal basis, the days it
// is in force, the export columns it permits, the organisations it covers,
// who approved it and when, the signed agreement (a PDF) and the PSIMS
// accounts that may download extracts under it. Whether it is in force is
// worked out from its dates with the database clock at the moment of each
// export, so expiry stops exports without anyone doing anything; a
// revoked agreement stops at once. An agreement may be changed until the
// first extract is made under it: after that, what was shared must stay
// explained by what the registry says, so a change needs a new agreement.
//
// Every change is audited in the transaction that makes it. Who may manage
// agreements and who may export is for internal/authz to say.
package sharing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/emailaddr"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/org"
	"github.com/psims/psims/internal/pii"
	"github.com/psims/psims/internal/textcheck"
)

// Limits on what is typed, in characters.
const (
	maxRecipient = 200
	maxPurpose   = 2000
	maxApprover  = 200
	maxReason    = 2000
	// maxRecipients and maxOrgs bound the lists one agreement names.
	maxRecipients = 50
	maxOrgs       = 500
)

// Basis is a lawful basis an agreement may rest on.
type Basis struct {
	Code, Label string
}

// LegalBases are the UK GDPR Article 6 conditions an agreement may name.
// Sharing patient safety data for learning is, for the operator and the
// bodies it shares with, a public task or a legal obligation; legitimate
// interests are there for recipients that are not public authorities.
// Consent is not offered: the data is about patients who are not asked.
func LegalBases() []Basis {
	return []Basis{
		{"art6-1e", "Article 6(1)(e): a task in the public interest or official authority"},
		{"art6-1c", "Article 6(1)(c): a legal obligation"},
		{"art6-1f", "Article 6(1)(f): legitimate interests (not for public authorities' tasks)"},
	}
}

// SpecialBases are the UK GDPR Article 9 conditions for health data an
// agreement may name, or "none" where the extract holds no special
// category data.
func SpecialBases() []Basis {
	return []Basis{
		{"art9-2h", "Article 9(2)(h): health or social care, or the management of health or social care systems"},
		{"art9-2i", "Article 9(2)(i): public health, such as the safety of health care"},
		{"art9-2j", "Article 9(2)(j): archiving, research or statistics in the public interest"},
		{"none", "None needed: the permitted fields hold no special category data"},
	}
}

// basisLabel is the label of code in bases, or code when unknown.
func basisLabel(bases []Basis, code string) string {
	for _, b := range bases {
		if b.Code == code {
			return b.Label
		}
	}
	return code
}

// Status is where an agreement stands on a day.
type Status string

// The statuses.
const (
	NotYetInForce Status = "not-yet-in-force"
	InForce       Status = "in-force"
	Expired       Status = "expired"
	Revoked       Status = "revoked"
)

// Label is the status as people read it.
func (s Status) Label() string {
	switch s {
	case NotYetInForce:
		return "Not yet in force"
	case InForce:
		return "In force"
	case Expired:
		return "Expired"
	case Revoked:
		return "Revoked"
	}
	return string(s)
}

// Recipient is a PSIMS account that may download extracts under an
// agreement.
type Recipient struct {
	UserID      int64
	Email, Name string
}

// Document is what is kept about the signed agreement, without its
// content. Name is "" until one is uploaded.
type Document struct {
	Name       string
	Size       int64
	SHA256     string // hex
	UploadedAt time.Time
}

// Agreement is a data sharing agreement.
type Agreement struct {
	ID        int64
	Reference string // such as DSA-2026-001
	Recipient string // the body data is shared with
	Purpose   string
	// LegalBasis is a code of LegalBases, SpecialBasis one of SpecialBases.
	LegalBasis, SpecialBasis string
	// StartsOn and EndsOn are days (midnight UTC), both included.
	StartsOn, EndsOn time.Time
	// Fields are the keys of the export columns permitted
	// (incident.ExportFields).
	Fields []string
	// AllOrgs covers every organisation; otherwise Orgs lists the ODS
	// codes covered.
	AllOrgs bool
	Orgs    []string
	// ApproverName and ApproverRole are as typed; ApprovedOn is a day.
	ApproverName, ApproverRole string
	ApprovedOn                 time.Time
	Recipients                 []Recipient
	Document                   Document
	// RevokedAt is zero unless revoked, with RevokeReason.
	RevokedAt    time.Time
	RevokeReason string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// Exports is how many extracts were made under it.
	Exports int
}

// LegalBasisLabel is the Article 6 condition as people read it.
func (a Agreement) LegalBasisLabel() string { return basisLabel(LegalBases(), a.LegalBasis) }

// SpecialBasisLabel is the Article 9 condition as people read it.
func (a Agreement) SpecialBasisLabel() string { return basisLabel(SpecialBases(), a.SpecialBasis) }

// StatusAt is where the agreement stands at the moment now.
func (a Agreement) StatusAt(now time.Time) Status {
	today := day(now)
	switch {
	case !a.RevokedAt.IsZero():
		return Revoked
	case today.Before(a.StartsOn):
		return NotYetInForce
	case today.After(a.EndsOn):
		return Expired
	}
	return InForce
}

// Covers reports whether the agreement covers every organisation of an
// export of all organisations (all) or of orgs.
func (a Agreement) Covers(all bool, orgs []string) bool {
	if a.AllOrgs {
		return true
	}
	if all {
		return false
	}
	for _, o := range orgs {
		if !slices.Contains(a.Orgs, o) {
			return false
		}
	}
	return true
}

// Names reports whether userID is a named recipient.
func (a Agreement) Names(userID int64) bool {
	return slices.ContainsFunc(a.Recipients, func(r Recipient) bool { return r.UserID == userID })
}

// Changeable reports whether the agreement may still be changed: not
// revoked, and no extract made under it.
func (a Agreement) Changeable() bool { return a.RevokedAt.IsZero() && a.Exports == 0 }

// Draft is an agreement as typed: lists are text, one item a line or
// separated by commas or spaces.
type Draft struct {
	Recipient, Purpose       string
	LegalBasis, SpecialBasis string
	StartsOn, EndsOn         time.Time
	Fields                   []string
	AllOrgs                  bool
	Orgs                     string
	ApproverName             string
	ApproverRole             string
	ApprovedOn               time.Time
	Recipients               string
}

// Actor is who made a change, and from where, for the audit log.
type Actor struct {
	ID int64
	IP string // empty for the command line
}

// Service keeps the registry.
type Service struct {
	db     *db.DB
	fields []incident.ExportField
}

// NewService returns a Service on d whose agreements may permit the export
// columns fields (incident.ExportFields).
func NewService(d *db.DB, fields []incident.ExportField) *Service {
	return &Service{db: d, fields: slices.Clone(fields)}
}

// Fields are the export columns an agreement may permit, in export order.
func (s *Service) Fields() []incident.ExportField { return slices.Clone(s.fields) }

// FieldHeadings are the headings of keys, in export order.
func (s *Service) FieldHeadings(keys []string) []string {
	var out []string
	for _, f := range s.fields {
		if slices.Contains(keys, f.Key) {
			out = append(out, f.Heading)
		}
	}
	return out
}

// checked is a draft made ready to store.
type checked struct {
	Draft
	fields     []string
	orgs       []string
	recipients []Recipient
}

// check reads and checks d in tx: texts, the identifier guard on the
// free text (T12), dates, fields, and organisations and recipients looked
// up. Errors: Invalid with field errors ("recipient", "purpose",
// "legal_basis", "special_basis", "starts_on", "ends_on", "fields",
// "orgs", "approver_name", "approver_role", "approved_on", "recipients").
func (s *Service) check(ctx context.Context, tx *db.Tx, d Draft) (checked, error) {
	d.Recipient, d.Purpose = strings.TrimSpace(d.Recipient), strings.TrimSpace(d.Purpose)
	d.ApproverName, d.ApproverRole = strings.TrimSpace(d.ApproverName), strings.TrimSpace(d.ApproverRole)
	c := checked{Draft: d}
	var problems apperr.Fields
	text(&problems, "recipient", "The recipient", d.Recipient, maxRecipient, "Enter the body the data is shared with")
	guard(&problems, "recipient", "Recipient", d.Recipient)
	text(&problems, "purpose", "The purpose", d.Purpose, maxPurpose, "Enter the purpose of the sharing")
	guard(&problems, "purpose", "Purpose", d.Purpose)
	if !slices.ContainsFunc(LegalBases(), func(b Basis) bool { return b.Code == d.LegalBasis }) {
		problems.Add("legal_basis", "Select the legal basis under Article 6")
	}
	if !slices.ContainsFunc(SpecialBases(), func(b Basis) bool { return b.Code == d.SpecialBasis }) {
		problems.Add("special_basis", "Select the condition under Article 9, or that none is needed")
	}
	switch {
	case d.StartsOn.IsZero():
		problems.Add("starts_on", "Enter the date the agreement starts")
	case d.EndsOn.IsZero():
		problems.Add("ends_on", "Enter the date the agreement ends")
	case d.EndsOn.Before(d.StartsOn):
		problems.Add("ends_on", "The end date must be the same as or after the start date")
	}
	for _, k := range s.fields {
		if slices.Contains(d.Fields, k.Key) {
			c.fields = append(c.fields, k.Key)
		}
	}
	if len(c.fields) == 0 || len(c.fields) != len(uniq(d.Fields)) {
		problems.Add("fields", "Select at least one field the recipient may receive, from the list")
	}
	// The approver is named on purpose: the name is not a patient's, so
	// the guard, which would take "Dr Patel" for one, does not look at it.
	text(&problems, "approver_name", "The approver's name", d.ApproverName, maxApprover, "Enter the name of the person who approved the agreement")
	text(&problems, "approver_role", "The approver's role", d.ApproverRole, maxApprover, "Enter the role of the person who approved the agreement")
	if d.ApprovedOn.IsZero() {
		problems.Add("approved_on", "Enter the date the agreement was approved")
	} else if tx != nil && day(d.ApprovedOn).After(day(tx.Now)) {
		problems.Add("approved_on", "The approval date must be today or in the past")
	}
	if !d.AllOrgs {
		codes := splitList(d.Orgs)
		switch {
		case len(codes) == 0:
			problems.Add("orgs", "Enter the ODS codes of the organisations covered, or choose all organisations")
		case len(codes) > maxOrgs:
			problems.Add("orgs", fmt.Sprintf("Enter %d organisations or fewer, or choose all organisations", maxOrgs))
		default:
			orgs, problem, err := knownOrgs(ctx, tx, codes)
			if err != nil {
				return c, err
			}
			if problem != "" {
				problems.Add("orgs", problem)
			}
			c.orgs = orgs
		}
	}
	emails := splitList(d.Recipients)
	if len(emails) > maxRecipients {
		problems.Add("recipients", fmt.Sprintf("Enter %d recipient accounts or fewer", maxRecipients))
	} else {
		rs, problem, err := knownUsers(ctx, tx, emails)
		if err != nil {
			return c, err
		}
		if problem != "" {
			problems.Add("recipients", problem)
		}
		c.recipients = rs
	}
	return c, problems.Err()
}

// CheckDraft reports what is wrong with d as apperr.Fields, or nil, for a form
// that has problems of its own (a date typed wrongly) to show d's
// alongside.
func (s *Service) CheckDraft(ctx context.Context, d Draft) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		_, err := s.check(ctx, tx, d)
		return err
	})
}

// Create registers an agreement from d with a new reference, audited as
// done by by. Errors: as check; Conflict when another agreement took the
// reference at the same moment.
func (s *Service) Create(ctx context.Context, by Actor, d Draft) (int64, error) {
	var id int64
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		c, err := s.check(ctx, tx, d)
		if err != nil {
			return err
		}
		ref, err := nextReference(ctx, tx)
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO sharing_agreements (reference, recipient, purpose, legal_basis, special_basis,
			starts_on, ends_on, fields, all_orgs, approver_name, approver_role, approved_on, created_by, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING id`,
			ref, c.Recipient, c.Purpose, c.LegalBasis, c.SpecialBasis, day(c.StartsOn), day(c.EndsOn), strings.Join(c.fields, ","),
			c.AllOrgs, c.ApproverName, c.ApproverRole, day(c.ApprovedOn), db.NullID(by.ID), tx.Now).Scan(&id)
		if db.IsUniqueViolation(err) {
			return apperr.New(apperr.Conflict, "Another agreement was registered at the same moment. Register this one again.")
		}
		if err != nil {
			return fmt.Errorf("sharing: insert agreement: %w", err)
		}
		if err := writeLists(ctx, tx, id, c); err != nil {
			return err
		}
		details := c.details()
		details["reference"] = ref
		return audit.Record(ctx, tx, audit.Entry{ActorID: by.ID, Action: "sharing.create", SubjectType: "sharing_agreement",
			SubjectID: strconv.FormatInt(id, 10), IP: by.IP, Details: details})
	})
	return id, err
}

// Update changes agreement id to d, audited as done by by. Errors: as
// check; NotFound; Conflict once it is revoked or an extract was made
// under it.
func (s *Service) Update(ctx context.Context, by Actor, id int64, d Draft) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		a, err := s.get(ctx, tx, id)
		if err != nil {
			return err
		}
		if !a.Changeable() {
			return apperr.New(apperr.Conflict, "This agreement can no longer be changed: it has been revoked or data has been shared under it. Register a new agreement instead.")
		}
		c, err := s.check(ctx, tx, d)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sharing_agreements SET recipient = $1, purpose = $2, legal_basis = $3,
			special_basis = $4, starts_on = $5, ends_on = $6, fields = $7, all_orgs = $8, approver_name = $9, approver_role = $10,
			approved_on = $11, updated_at = $12 WHERE id = $13`,
			c.Recipient, c.Purpose, c.LegalBasis, c.SpecialBasis, day(c.StartsOn), day(c.EndsOn), strings.Join(c.fields, ","),
			c.AllOrgs, c.ApproverName, c.ApproverRole, day(c.ApprovedOn), tx.Now, id); err != nil {
			return fmt.Errorf("sharing: update agreement %d: %w", id, err)
		}
		for _, table := range []string{"sharing_agreement_orgs", "sharing_agreement_recipients"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE agreement_id = $1`, id); err != nil {
				return fmt.Errorf("sharing: clear %s of %d: %w", table, id, err)
			}
		}
		if err := writeLists(ctx, tx, id, c); err != nil {
			return err
		}
		details := c.details()
		details["reference"] = a.Reference
		return audit.Record(ctx, tx, audit.Entry{ActorID: by.ID, Action: "sharing.update", SubjectType: "sharing_agreement",
			SubjectID: strconv.FormatInt(id, 10), IP: by.IP, Details: details})
	})
}

// Revoke ends agreement id at once, for reason, audited as done by by.
// Errors: NotFound; Invalid with field "reason"; Conflict when already
// revoked.
func (s *Service) Revoke(ctx context.Context, by Actor, id int64, reason string) error {
	reason = strings.TrimSpace(reason)
	var problems apperr.Fields
	text(&problems, "reason", "The reason", reason, maxReason, "Enter why the agreement is revoked")
	guard(&problems, "reason", "Reason", reason)
	if err := problems.Err(); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		a, err := s.get(ctx, tx, id)
		if err != nil {
			return err
		}
		if !a.RevokedAt.IsZero() {
			return apperr.New(apperr.Conflict, "This agreement has already been revoked.")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sharing_agreements SET revoked_at = $1, revoked_by = $2, revoke_reason = $3,
			updated_at = $1 WHERE id = $4 AND revoked_at IS NULL`, tx.Now, db.NullID(by.ID), reason, id); err != nil {
			return fmt.Errorf("sharing: revoke %d: %w", id, err)
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: by.ID, Action: "sharing.revoke", SubjectType: "sharing_agreement",
			SubjectID: strconv.FormatInt(id, 10), IP: by.IP, Details: map[string]string{"reference": a.Reference, "reason": reason}})
	})
}

// details are the facts about a checked draft the audit log keeps.
func (c checked) details() map[string]string {
	orgs := "all"
	if !c.AllOrgs {
		orgs = strings.Join(c.orgs, " ")
	}
	var ids []string
	for _, r := range c.recipients {
		ids = append(ids, strconv.FormatInt(r.UserID, 10))
	}
	return map[string]string{"recipient": c.Recipient, "purpose": c.Purpose, "legal_basis": c.LegalBasis,
		"special_basis": c.SpecialBasis, "starts_on": c.StartsOn.Format(time.DateOnly), "ends_on": c.EndsOn.Format(time.DateOnly),
		"fields": strings.Join(c.fields, ","), "orgs": orgs, "approver": c.ApproverName + ", " + c.ApproverRole,
		"approved_on": c.ApprovedOn.Format(time.DateOnly), "recipient_users": strings.Join(ids, " ")}
}

// writeLists stores the organisations and recipients of agreement id.
func writeLists(ctx context.Context, tx *db.Tx, id int64, c checked) error {
	for _, o := range c.orgs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sharing_agreement_orgs (agreement_id, org_ods) VALUES ($1, $2)`, id, o); err != nil {
			return fmt.Errorf("sharing: insert organisation of %d: %w", id, err)
		}
	}
	for _, r := range c.recipients {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sharing_agreement_recipients (agreement_id, user_id) VALUES ($1, $2)`,
			id, r.UserID); err != nil {
			return fmt.Errorf("sharing: insert recipient of %d: %w", id, err)
		}
	}
	return nil
}

// nextReference is the next free reference of the year of tx.Now, such as
// DSA-2026-001.
func nextReference(ctx context.Context, tx *db.Tx) (string, error) {
	prefix := "DSA-" + strconv.Itoa(tx.Now.Year()) + "-"
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sharing_agreements WHERE reference LIKE $1`, prefix+"%").Scan(&n); err != nil {
		return "", fmt.Errorf("sharing: next reference: %w", err)
	}
	return fmt.Sprintf("%s%03d", prefix, n+1), nil
}

// knownOrgs parses codes and checks each names an organisation, returning
// them sorted, once each, or the problem to show.
func knownOrgs(ctx context.Context, tx *db.Tx, codes []string) ([]string, string, error) {
	var out []string
	for _, raw := range codes {
		code, err := org.ParseCode(raw)
		if err != nil {
			return nil, fmt.Sprintf("%q is not an ODS code: %s", raw, apperr.MessageOf(err)), nil
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM organisations WHERE ods_code = $1`, code.String()).Scan(&n); err != nil {
			return nil, "", fmt.Errorf("sharing: look up organisation: %w", err)
		}
		if n == 0 {
			return nil, "No organisation has the ODS code " + code.String(), nil
		}
		out = append(out, code.String())
	}
	slices.Sort(out)
	return slices.Compact(out), "", nil
}

// knownUsers finds the accounts with the email addresses, once each, or
// the problem to show.
func knownUsers(ctx context.Context, tx *db.Tx, emails []string) ([]Recipient, string, error) {
	var out []Recipient
	for _, raw := range emails {
		addr, err := emailaddr.Parse(raw)
		if err != nil {
			return nil, fmt.Sprintf("%q is not an email address", raw), nil
		}
		var r Recipient
		err = tx.QueryRowContext(ctx, `SELECT id, email, name FROM users WHERE email = $1`, addr.String()).Scan(&r.UserID, &r.Email, &r.Name)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, "No PSIMS account has the email address " + addr.String() + ". The recipient must register first", nil
		}
		if err != nil {
			return nil, "", fmt.Errorf("sharing: look up recipient: %w", err)
		}
		if !slices.ContainsFunc(out, func(o Recipient) bool { return o.UserID == r.UserID }) {
			out = append(out, r)
		}
	}
	return out, "", nil
}

// splitList splits a typed list at line ends, commas, semicolons and
// spaces.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t'
	})
}

func uniq(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// text adds a problem when a required text is empty, too long or holds
// characters that cannot be stored.
func text(problems *apperr.Fields, field, name, value string, max int, empty string) {
	switch {
	case value == "":
		problems.Add(field, empty)
	case !textcheck.Valid(value):
		problems.Add(field, textcheck.Message(name))
	case utf8.RuneCountInString(value) > max:
		problems.Add(field, fmt.Sprintf("%s must be %d characters or fewer", name, max))
	}
}

// guard adds a problem for each identifier the guard finds in text (T12),
// naming the field and where the identifier is, never what it is.
func guard(problems *apperr.Fields, field, label, text string) {
	found := pii.Scan(text)
	for _, f := range found {
		problems.Add(field, pii.Message(text, f, found, label))
	}
}

// day is the day of t, as midnight UTC.
func day(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func notFound() error {
	return apperr.New(apperr.NotFound, "There is no such data sharing agreement.")
}
