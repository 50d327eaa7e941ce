package mail_test

import (
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/mail"
)

func TestEveryMessageIsValidAndKeepsItsLinkOutOfTheBodies(t *testing.T) {
	const link = "https://psims.example/reset?token=abc&x=1"
	messages := map[string]mail.Message{
		"verify email":   mail.VerifyEmail("a@example.nhs.uk", "Ann", link),
		"reset password": mail.ResetPassword("a@example.nhs.uk", "Ann", link),
		"approved":       mail.Approved("a@example.nhs.uk", "Ann", "https://psims.example/sign-in"),
		"account locked": mail.AccountLocked("a@example.nhs.uk", "Ann"),
		"event alert": mail.EventAlert(mail.Addressee{Email: "a@example.nhs.uk", Name: "Ann"}, "PSE-ABCD-EFGH", "Incident", "Fatal",
			[]string{"it is recorded as a never event"}, time.Date(2026, 11, 30, 14, 5, 0, 0, time.UTC), "https://psims.example/events/PSE-ABCD-EFGH"),
	}
	for name, m := range messages {
		t.Run(name, func(t *testing.T) {
			if err := m.Validate(); err != nil {
				t.Fatal(err)
			}
			if m.HTML == "" || !strings.Contains(m.HTML, `lang="en-GB"`) {
				t.Error("no HTML body")
			}
			if !strings.Contains(m.Text, "Dear Ann,") || !strings.Contains(m.Text, "PSIMS") {
				t.Errorf("text body:\n%s", m.Text)
			}
			if m.Secret != "" && strings.Contains(m.Text+m.HTML, "token=abc") {
				t.Error("a body holds the one-time link")
			}
		})
	}
	reset := messages["reset password"]
	if !strings.Contains(reset.Text, "1 hour") || !strings.Contains(reset.Text, "did not ask") {
		t.Errorf("reset password text:\n%s", reset.Text)
	}
}

func TestNamesAreEscapedAndCannotTakeTheLinksPlace(t *testing.T) {
	m := mail.VerifyEmail("a@example.nhs.uk", "<b>Ann</b> {{secret}} psims-one-time-link", "https://psims.example/v?t=1")
	if strings.Contains(m.HTML, "<b>Ann</b>") || !strings.Contains(m.HTML, "&lt;b&gt;Ann&lt;/b&gt;") {
		t.Errorf("name not escaped in HTML:\n%s", m.HTML)
	}
	if n := strings.Count(m.Text, mail.Placeholder); n != 1 {
		t.Errorf("text has %d placeholders, want 1", n)
	}
	if n := strings.Count(m.HTML, mail.Placeholder); n != 2 {
		t.Errorf("HTML has %d placeholders, want 2 (href and text)", n)
	}
	approved := mail.Approved("a@example.nhs.uk", "", "javascript:alert(1)")
	if strings.Contains(approved.HTML, `href="javascript:`) {
		t.Error("HTML links to a javascript: URL")
	}
	if !strings.Contains(approved.Text, "Hello,") {
		t.Errorf("no greeting without a name:\n%s", approved.Text)
	}
}
