package mail_test

import (
	"strings"
	"testing"

	"github.com/psims/psims/internal/mail"
)

// The receipt names the report by its reference and promises a look within
// 48 hours; the closing email gives the outcome and the admin's words, a
// paragraph to each line, escaped in HTML, and a placeholder typed into
// them cannot make the message invalid. // T5
func TestConcernEmailsCarryTheReferenceAndTheOutcome(t *testing.T) { // T5
	to := mail.Addressee{Email: "dee@example.org", Name: "Dee Ward"}
	got := mail.ConcernReceived(to, "CR-00012", "unauthorised access")
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got.Subject, "CR-00012") || !strings.Contains(got.Text, "reporting unauthorised access") || !strings.Contains(got.Text, "within 48 hours") {
		t.Errorf("receipt %q:\n%s", got.Subject, got.Text)
	}
	closed := mail.ConcernClosed(to, "CR-00012", "we looked into it and found no breach", "Checked the <i>logs</i>.\r\nNothing else {{secret}}.")
	if err := closed.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Dear Dee Ward,", "Outcome: we looked into it and found no breach.", "Checked the <i>logs</i>.", "Nothing else ."} {
		if !strings.Contains(closed.Text, want) {
			t.Errorf("closing text lacks %q:\n%s", want, closed.Text)
		}
	}
	if !strings.Contains(closed.Subject, "CR-00012") || strings.Contains(closed.HTML, "<i>logs</i>") {
		t.Errorf("closing %q:\n%s", closed.Subject, closed.HTML)
	}
}
