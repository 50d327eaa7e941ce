package incident

import (
	"time"

	"github.com/psims/psims/internal/apperr"
)

// Type is the kind of patient safety event.
type Type string

// The four event types of the national taxonomy.
const (
	Incident Type = "incident"
	GoodCare Type = "good-care"
	Risk     Type = "risk"
	Outcome  Type = "outcome"
)

// Types lists every event type, in the order pages offer them.
func Types() []Type { return []Type{Incident, GoodCare, Risk, Outcome} }

// Label is the type as pages name it, such as "Good care".
func (t Type) Label() string {
	switch t {
	case Incident:
		return "Incident"
	case GoodCare:
		return "Good care"
	case Risk:
		return "Risk"
	case Outcome:
		return "Poor outcome"
	}
	return string(t)
}

// ParseType returns the type named s. Errors: Invalid.
func ParseType(s string) (Type, error) {
	for _, t := range Types() {
		if string(t) == s {
			return t, nil
		}
	}
	return "", apperr.New(apperr.Invalid, "Choose what kind of event you are recording")
}

// Source says who recorded an event.
type Source string

// The sources: staff with an account, a patient, relative or member of
// the public without one (T8), or an organisation's local risk management
// system through the API with the organisation's key (issue 16).
const (
	Staff  Source = "staff"
	Public Source = "public"
	System Source = "system"
)

// Answers are what was answered, by taxonomy element: codes of its lists,
// or text. An element answered more than once (one per patient, or several
// agents) has several values.
type Answers map[string][]string

// Index is what lists filter and sort events on, worked out from the
// answers by the form that collected them.
type Index struct {
	PhysicalHarm      string // the most severe physical harm code of any patient, or ""
	PsychologicalHarm string // likewise for psychological harm
	ServiceType       string
	// Codes are the multi-valued answers lists filter on, such as safety
	// challenges and agents, by element.
	Codes map[string][]string
	// Text is the free text of the answers, one answer a line, that
	// searches by words look in. It is stored only in the search index, so
	// an event read back has none.
	Text string
}

// Submission is an event as it is submitted.
type Submission struct {
	Type       Type
	OrgCode    string
	Source     Source
	ReporterID int64 // 0 for the public
	// OccurredFrom and OccurredTo are the first and last day the event can
	// have happened on (the same day when the date is known), at midnight UTC.
	OccurredFrom, OccurredTo time.Time
	Answers                  Answers
	Index                    Index
	// StatementVersion is the version of the recording statement the
	// person was shown before submitting (T7).
	StatementVersion int
	// SharingOptOut is the person's answer to whether the event may be
	// shared beyond the organisation and the operator (T15).
	SharingOptOut bool
	// DraftID, when not 0, is the reporter's draft this submission comes
	// from; it is deleted in the same transaction.
	DraftID int64
	// KeyID is the API key that sent a System submission; 0 otherwise.
	KeyID int64
	// validated is true once validateSubmission passed it, so that the
	// transaction does not check it again while holding the writer.
	validated bool
}

// Event is a submitted event as it stands: its latest version.
type Event struct {
	ID               int64
	Reference        Reference
	Type             Type
	OrgCode          string
	Source           Source
	ReporterID       int64
	OccurredFrom     time.Time
	OccurredTo       time.Time
	SubmittedAt      time.Time
	Version          int
	UpdatedAt        time.Time
	Index            Index
	SharingOptOut    bool
	StatementVersion int
	Answers          Answers
}

// Version is one version of an event's answers. Version 1 is the
// submission; each amendment adds one.
type Version struct {
	Version   int
	AuthorID  int64 // 0 for the public and for the API
	KeyID     int64 // the API key that sent it; 0 when a person wrote it
	CreatedAt time.Time
	Reason    string // why it was amended; empty for version 1
	Answers   Answers
}

// Client says where an action came from, for the audit log.
type Client struct {
	IP string
}
