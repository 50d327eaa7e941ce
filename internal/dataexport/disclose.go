package dataexport

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/pii"
	"github.com/psims/psims/internal/textcheck"
)

// Basis is the legal basis a disclosure is made under (P18).
type Basis string

// The legal bases a national admin may record.
const (
	BasisLegalObligation Basis = "legal_obligation"
	BasisCourtOrder      Basis = "court_order"
	BasisLawEnforcement  Basis = "law_enforcement"
	BasisEnforceTerms    Basis = "enforce_terms"
)

// Bases lists the legal bases in the order the form offers them.
func Bases() []Basis {
	return []Basis{BasisLegalObligation, BasisCourtOrder, BasisLawEnforcement, BasisEnforceTerms}
}

// Label is the basis in words, for the form.
func (b Basis) Label() string {
	switch b {
	case BasisLegalObligation:
		return "A legal obligation"
	case BasisCourtOrder:
		return "A court order"
	case BasisLawEnforcement:
		return "A law enforcement request"
	case BasisEnforceTerms:
		return "To enforce the terms of use"
	}
	return string(b)
}

// Hint says more about the basis, for the form.
func (b Basis) Hint() string {
	switch b {
	case BasisLegalObligation:
		return "A law requires the operator to disclose it (UK GDPR Article 6(1)(c))"
	case BasisCourtOrder:
		return "A court or tribunal has ordered it"
	case BasisLawEnforcement:
		return "The police or another authority asked for it to prevent or detect crime (Data Protection Act 2018, Schedule 2, paragraph 2)"
	case BasisEnforceTerms:
		return "It is needed to enforce the PSIMS terms of use against this user"
	}
	return ""
}

// Statement is the line a disclosure carries: "Disclosed under …".
func (b Basis) Statement() string {
	switch b {
	case BasisLegalObligation:
		return "Disclosed under a legal obligation of the operator (UK GDPR Article 6(1)(c))"
	case BasisCourtOrder:
		return "Disclosed under an order of a court or tribunal"
	case BasisLawEnforcement:
		return "Disclosed under the Data Protection Act 2018, Schedule 2, paragraph 2 (crime and taxation), on a law enforcement request"
	case BasisEnforceTerms:
		return "Disclosed to enforce the PSIMS terms of use"
	}
	return ""
}

// MaxReference is the longest reference a disclosure may carry.
const MaxReference = 200

// Discloser is the national admin making a disclosure, as the document
// and the audit log name them.
type Discloser struct {
	ID    int64
	Name  string
	Email string
	IP    string
}

// DisclosureRequest is what the disclosure form sends.
type DisclosureRequest struct {
	Basis     Basis
	Reference string
}

// Disclose makes a legal disclosure export about userID (P18): the same
// document as the person's own download, labelled with the legal basis,
// the reference, who made it and when. It is recorded in data_exports
// (kind disclosure) and audited with the basis and the reference, in one
// transaction. Who may disclose is for authz to decide. Errors:
// apperr.Fields ("basis", "reference") when the basis is not one of Bases,
// or the reference is missing, too long, holds hidden characters or
// anything that could identify a patient (the identifier guard, T12);
// NotFound when there is no such user.
func (s *Service) Disclose(ctx context.Context, by Discloser, userID int64, req DisclosureRequest) (Export, error) {
	ref := strings.TrimSpace(req.Reference)
	var problems apperr.Fields
	valid := false
	for _, b := range Bases() {
		valid = valid || req.Basis == b
	}
	if !valid {
		problems.Add("basis", "Select the legal basis for the disclosure")
	}
	switch n := utf8.RuneCountInString(ref); {
	case ref == "":
		problems.Add("reference", "Enter the reference of the request, order or case")
	case !textcheck.Valid(ref):
		problems.Add("reference", textcheck.Message("The reference"))
	case strings.ContainsAny(ref, "\r\n"):
		problems.Add("reference", "The reference must be on one line")
	case n > MaxReference:
		problems.Add("reference", fmt.Sprintf("The reference must be %d characters or fewer. You have %d", MaxReference, n))
	default:
		found := pii.Scan(ref)
		for _, f := range found {
			problems.Add("reference", pii.Message(ref, f, found, "The reference"))
		}
	}
	if err := problems.Err(); err != nil {
		return Export{}, err
	}
	doc, err := s.Assemble(ctx, userID)
	if err != nil {
		return Export{}, err
	}
	doc.Disclosure = &Disclosure{Basis: req.Basis, BasisLabel: req.Basis.Label(), Reference: ref,
		ByName: by.Name, ByEmail: by.Email, At: doc.GeneratedAt, Statement: req.Basis.Statement()}
	content, err := encode(doc)
	if err != nil {
		return Export{}, err
	}
	e := Export{PublicID: newPublicID(), UserID: userID, RequestedBy: by.ID, Kind: KindDisclosure, Format: Format,
		Status: StatusReady, Basis: req.Basis, Reference: ref, Size: int64(len(content))}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		e.CreatedAt, e.ReadyAt, e.ExpiresAt = tx.Now, &tx.Now, tx.Now.Add(Keep)
		err := tx.QueryRowContext(ctx, `INSERT INTO data_exports
			(public_id, user_id, requested_by, kind, format, status, legal_basis, reference, content, size, created_at, ready_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12) RETURNING id`,
			e.PublicID, userID, db.NullID(by.ID), string(e.Kind), e.Format, string(e.Status), string(e.Basis), e.Reference, content, e.Size,
			e.CreatedAt, e.ExpiresAt).Scan(&e.ID)
		if err != nil {
			return fmt.Errorf("dataexport: disclose: %w", err)
		}
		return audit.Record(ctx, tx, auditEntry(by.ID, "data_export.disclosed", e, by.IP, map[string]string{
			"basis": string(e.Basis), "reference": e.Reference, "bytes": strconv.FormatInt(e.Size, 10)}))
	})
	if err != nil {
		return Export{}, err
	}
	return e, nil
}
