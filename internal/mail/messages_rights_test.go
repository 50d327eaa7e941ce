package mail_test

import (
	"strings"
	"testing"

	"github.com/psims/psims/internal/mail"
)

// Every message about a rights request is valid, names the request, and
// carries what the person must be told: the due date, the reason for an
// extension or a refusal, and, after erasure, no link to an account that
// is gone. // P15
func TestRightsMessagesSayWhatThePersonMustKnow(t *testing.T) { // P15
	to := mail.Addressee{Email: "ann@example.nhs.uk", Name: "Ann"}
	link := "https://psims.example/account/data"
	for _, c := range []struct {
		name string
		m    mail.Message
		want []string
	}{
		{"receipt", mail.RightsReceived(to, "RR-00001", "erasure of your data", "6 January 2027", link), []string{"RR-00001", "6 January 2027", link}},
		{"objection", mail.RightsObjectionConfirmed(to, "RR-00002", link), []string{"RR-00002", "no newsletters", link}},
		{"withdrawn", mail.RightsWithdrawn(to, "RR-00003", "erasure of your data", link), []string{"RR-00003", "withdrawn"}},
		{"extended", mail.RightsExtended(to, "RR-00004", "erasure of your data", "6 March 2027", "Waiting for the trust.", link), []string{"6 March 2027", "Waiting for the trust."}},
		{"refused", mail.RightsRefused(to, "RR-00005", "erasure of your data", "Records under investigation.", link), []string{"Records under investigation.", "Information Commissioner"}},
		{"erased", mail.RightsErased(to, "RR-00006"), []string{"RR-00006", "can no longer sign in", "register as a new user"}},
		{"restricted", mail.RightsRestricted(to, "RR-00007", link), []string{"read-only"}},
		{"lifted", mail.RightsRestrictionLifted(to, "RR-00008", link), []string{"lifted"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := c.m.Validate(); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(c.m.Subject, "RR-0000") {
				t.Errorf("subject %q does not name the request", c.m.Subject)
			}
			for _, w := range c.want {
				if !strings.Contains(c.m.Text, w) {
					t.Errorf("text lacks %q:\n%s", w, c.m.Text)
				}
			}
		})
	}
	if m := mail.RightsErased(to, "RR-00006"); strings.Contains(m.Text, "https://") {
		t.Errorf("the erasure email links to an account that is gone:\n%s", m.Text)
	}
}
