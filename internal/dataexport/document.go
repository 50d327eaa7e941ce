// Package dataexport assembles everything PSIMS holds about one person
// into one document, for the person's own "Download my data" (P15, the
// right of access) and for a national admin's legal disclosure about a
// named user (P18). It owns the data_exports table (migration 0019): the
// exports made, their status, their compressed content for 7 days, and
// the job that builds large ones.
//
// Each part that keeps personal data reads its own tables through a
// PersonalData function in its personal_data.go; this package declares
// the small interfaces it needs and puts the answers together. It holds
// nothing about anyone else: each part leaves out other people, secrets
// (password hashes, tokens and their hashes, one-time links) and the free
// text of events, which is about patients and colleagues.
package dataexport

import (
	"context"
	"fmt"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apikey"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/feedback"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/sharing"
	"github.com/psims/psims/internal/stats"
	"github.com/psims/psims/internal/terms"
	"github.com/psims/psims/internal/usage"
)

// Format names the version of the document's shape. A change that removes
// or renames a field gets a new number.
const Format = "psims-personal-data/1"

// Document is everything held about one person.
type Document struct {
	Format      string    `json:"format"`
	GeneratedAt time.Time `json:"generated_at"`
	// Disclosure is set on a legal disclosure (P18), and says under what
	// it was made; nil on a person's own download.
	Disclosure *Disclosure `json:"disclosure,omitempty"`
	// Account is the account, its sessions, requests, read grants, alert
	// choices and one-time links issued (without the links).
	Account account.PersonalData `json:"account"`
	// History is what the audit log records about the account: its
	// organisation and role history, status changes and sign-ins.
	History  []audit.PersonalEntry    `json:"account_history"`
	Terms    terms.PersonalData       `json:"terms_and_consent"`
	Usage    usage.PersonalData       `json:"usage"`
	Feedback []feedback.PersonalItem  `json:"feedback_and_questions"`
	Events   []incident.PersonalEvent `json:"events_recorded"`
	Drafts   []incident.PersonalDraft `json:"drafts"`
	Emails   []mail.PersonalMessage   `json:"emails"`
	// Sharing is the data sharing agreements naming the person as a
	// recipient and the extracts they made; PreRelease the statistics
	// publications they may see before release.
	Sharing    sharing.PersonalData       `json:"data_sharing"`
	PreRelease []stats.PersonalPreRelease `json:"statistics_pre_release"`
	// APIKeys are the organisation API keys the person made or revoked
	// (issue 16), never the keys themselves.
	APIKeys []apikey.PersonalKey `json:"api_keys"`
}

// Rows counts the entries of the document's lists, for the page that
// shows it and the log.
func (d Document) Rows() int {
	return 1 + len(d.Account.Sessions) + len(d.Account.Requests) + len(d.Account.OpenLinks) + len(d.History) +
		len(d.Terms.Acceptances) + len(d.Terms.History) + len(d.Usage.Events) + len(d.Usage.Days) +
		len(d.Feedback) + len(d.Events) + len(d.Drafts) + len(d.Emails) +
		len(d.Sharing.NamedIn) + len(d.Sharing.Extracts) + len(d.PreRelease) + len(d.APIKeys)
}

// Disclosure labels a document made for a legal disclosure (P18).
type Disclosure struct {
	Basis      Basis     `json:"legal_basis"`
	BasisLabel string    `json:"legal_basis_label"`
	Reference  string    `json:"reference"`
	ByName     string    `json:"disclosed_by_name"`
	ByEmail    string    `json:"disclosed_by_email"`
	At         time.Time `json:"disclosed_at"`
	Statement  string    `json:"statement"`
}

// The parts that hold personal data, each reading its own tables.
type (
	// Accounts reads the account part (*account.Service).
	Accounts interface {
		PersonalData(ctx context.Context, userID int64) (account.PersonalData, error)
	}
	// Terms reads acceptances and consents (*terms.Service).
	Terms interface {
		PersonalData(ctx context.Context, userID int64) (terms.PersonalData, error)
	}
	// Feedback reads feedback and questions (*feedback.Service).
	Feedback interface {
		PersonalData(ctx context.Context, userID int64) ([]feedback.PersonalItem, error)
	}
	// Incidents reads events recorded and drafts (*incident.Service).
	Incidents interface {
		PersonalData(ctx context.Context, userID int64) ([]incident.PersonalEvent, []incident.PersonalDraft, error)
	}
	// Mail reads the emails sent to an address, and queues the one that
	// says an export is ready (*mail.Outbox).
	Mail interface {
		PersonalData(ctx context.Context, to string) ([]mail.PersonalMessage, error)
		Outbox
	}
	// Sharing reads agreements naming the person and their extracts
	// (*sharing.Service).
	Sharing interface {
		PersonalData(ctx context.Context, userID int64) (sharing.PersonalData, error)
	}
	// Statistics reads the pre-release lists holding an address
	// (*stats.Service).
	Statistics interface {
		PersonalData(ctx context.Context, addr string) ([]stats.PersonalPreRelease, error)
	}
	// APIKeys reads the API keys a person made or revoked
	// (*apikey.Service).
	APIKeys interface {
		PersonalData(ctx context.Context, userID int64) ([]apikey.PersonalKey, error)
	}
)

// Parts are the parts a Service reads from.
type Parts struct {
	Accounts   Accounts
	Terms      Terms
	Feedback   Feedback
	Incidents  Incidents
	Mail       Mail
	Sharing    Sharing
	Statistics Statistics
	APIKeys    APIKeys
}

// Assemble reads everything held about userID. Errors: NotFound when
// there is no such account.
func (s *Service) Assemble(ctx context.Context, userID int64) (Document, error) {
	doc := Document{Format: Format, GeneratedAt: s.db.Now()}
	var err error
	if doc.Account, err = s.parts.Accounts.PersonalData(ctx, userID); err != nil {
		return Document{}, err
	}
	if doc.History, err = audit.PersonalData(ctx, s.db, userID); err != nil {
		return Document{}, err
	}
	if doc.Terms, err = s.parts.Terms.PersonalData(ctx, userID); err != nil {
		return Document{}, err
	}
	if doc.Usage, err = usage.PersonalDataOf(ctx, s.db, userID); err != nil {
		return Document{}, err
	}
	if doc.Feedback, err = s.parts.Feedback.PersonalData(ctx, userID); err != nil {
		return Document{}, err
	}
	if doc.Events, doc.Drafts, err = s.parts.Incidents.PersonalData(ctx, userID); err != nil {
		return Document{}, err
	}
	if doc.Emails, err = s.parts.Mail.PersonalData(ctx, doc.Account.Account.Email); err != nil {
		return Document{}, err
	}
	if doc.Sharing, err = s.parts.Sharing.PersonalData(ctx, userID); err != nil {
		return Document{}, err
	}
	if doc.PreRelease, err = s.parts.Statistics.PersonalData(ctx, doc.Account.Account.Email); err != nil {
		return Document{}, err
	}
	if doc.APIKeys, err = s.parts.APIKeys.PersonalData(ctx, userID); err != nil {
		return Document{}, err
	}
	return doc, nil
}

// size is how many rows an export of userID would hold, roughly: the
// usage rows, which are the only part that grows with every page seen.
func (s *Service) size(ctx context.Context, userID int64) (int, error) {
	n, err := usage.PersonalDataRows(ctx, s.db, userID)
	if err != nil {
		return 0, fmt.Errorf("dataexport: size: %w", err)
	}
	return n, nil
}
