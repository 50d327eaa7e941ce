package mail_test

import (
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/mail"
)

// The email that a download of someone's data is ready gives the link
// (which needs them signed in, so it is no one-time secret) and the day it
// stops working, and names nothing of the data. // P15
func TestDataExportReadyGivesTheLinkAndTheLastDay(t *testing.T) { // P15
	expires := time.Date(2026, 12, 13, 10, 30, 0, 0, time.UTC)
	m := mail.DataExportReady(mail.Addressee{Email: "ann@nhs.net", Name: "Ann <Reporter>"}, "https://psims.example/account/data/download/abc", expires)
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if m.Secret != "" {
		t.Error("the link is stored as a one-time secret")
	}
	for _, want := range []string{"Dear Ann <Reporter>,", "https://psims.example/account/data/download/abc", "13 December 2026"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
	if strings.Contains(m.HTML, "<Reporter>") {
		t.Errorf("the name is not escaped in HTML:\n%s", m.HTML)
	}
}
