package newsletter

import (
	"context"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/terms"
)

// Unsubscription is what an unsubscribe link does, for its pages.
type Unsubscription struct {
	Purpose terms.Purpose
	// Changed is false when the consent was not given (already withdrawn,
	// or the account is gone): nothing needed doing.
	Changed bool
}

// What is the mailing the link stops, for a page: "the newsletter" or
// "invitations to user research and surveys".
func (u Unsubscription) What() string {
	if u.Purpose == terms.Research {
		return "invitations to user research and surveys"
	}
	return "the newsletter"
}

// badLink is the error for a token that is not one of ours.
func badLink() error {
	return apperr.New(apperr.Invalid, "This unsubscribe link is not valid. Check that you copied the whole link from the email, or change your choices under “Your data preferences” after signing in.")
}

// CheckUnsubscribe reads an unsubscribe token without acting on it, for
// the confirmation page. Errors: Invalid for a token that is not valid.
func (s *Service) CheckUnsubscribe(token string) (Unsubscription, error) {
	if len(s.key) == 0 {
		return Unsubscription{}, errNoKey
	}
	_, p, ok := ParseToken(s.key, token)
	if !ok {
		return Unsubscription{}, badLink()
	}
	return Unsubscription{Purpose: p}, nil
}

// Unsubscribe withdraws the consent the token names, at once, through
// internal/terms so that the consent history records it and it is
// audited (P7). No sign-in is needed: the token's signature is the
// authority. Errors: Invalid for a token that is not valid.
func (s *Service) Unsubscribe(ctx context.Context, token, ip string) (Unsubscription, error) {
	if len(s.key) == 0 {
		return Unsubscription{}, errNoKey
	}
	id, p, ok := ParseToken(s.key, token)
	if !ok {
		return Unsubscription{}, badLink()
	}
	changed, err := s.parts.Consents.WithdrawConsent(ctx, id, p, terms.Client{IP: ip}, "unsubscribe link")
	if err != nil {
		return Unsubscription{}, err
	}
	return Unsubscription{Purpose: p, Changed: changed}, nil
}

// StillWanted reports whether a newsletter or invitation queued for the
// address should still be sent: true only if the address belongs to an
// active account whose processing is not restricted, who has not objected
// to contact, and who consents now to the category's purpose. The mail
// worker asks it just before sending such a message, so an unsubscribe or
// an objection is honoured even for mail already queued. Any other
// category (service notices) is always wanted. batch is not needed to
// decide and is accepted for the worker's signature.
func (s *Service) StillWanted(ctx context.Context, to, category, batch string) (bool, error) {
	var p terms.Purpose
	switch category {
	case mail.CategoryNewsletter:
		p = terms.Newsletter
	case mail.CategoryInvitation:
		p = terms.Research
	default:
		return true, nil
	}
	return s.parts.Recipients.StillContactable(ctx, to, string(p))
}
