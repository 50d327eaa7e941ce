package mail_test

import (
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/mail"
)

// The alert about a broken audit chain names the first row at fault, the
// reason, the rows checked and what to do; it carries no link.
func TestAuditChainBrokenSaysWhereAndWhatToDo(t *testing.T) {
	at := time.Date(2026, 12, 6, 3, 4, 0, 0, time.UTC)
	m := mail.AuditChainBroken(mail.Addressee{Email: "ada@nhs.net", Name: "Ada"}, 42, "the row was changed", 1000, at)
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if m.To != "ada@nhs.net" || !strings.Contains(m.Subject, "audit log") {
		t.Errorf("to %q, subject %q", m.To, m.Subject)
	}
	for _, want := range []string{"Dear Ada,", "03:04 on 6 December 2026", "row 42: the row was changed", "1000 rows were checked", "psims audit verify --anchor"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
	if strings.Contains(m.Text, "http") || m.Secret != "" {
		t.Errorf("the alert carries a link:\n%s", m.Text)
	}
}
