package mail_test

import (
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/mail"
)

func TestEventReceiptNamesTheEventWithoutItsContent(t *testing.T) {
	recorded := time.Date(2026, 11, 20, 14, 30, 5, 0, time.FixedZone("BST", 3600))
	m := mail.EventReceipt("ann@example.nhs.uk", "Ann", "PSE-7K3M-Q9XT", "Good care", recorded, "https://psims.example/events/PSE-7K3M-Q9XT")
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Your patient safety event PSE-7K3M-Q9XT has been recorded" {
		t.Errorf("subject %q", m.Subject)
	}
	for _, want := range []string{
		"Dear Ann,", "Reference: PSE-7K3M-Q9XT", "Type of event: Good care",
		"Recorded on 20 November 2026 at 13:30 (UTC)", "https://psims.example/events/PSE-7K3M-Q9XT",
	} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
	if !strings.Contains(m.HTML, `href="https://psims.example/events/PSE-7K3M-Q9XT"`) {
		t.Errorf("HTML has no link to the event:\n%s", m.HTML)
	}
}

func TestDraftReminderGivesTheDatesAndTheDraftsLink(t *testing.T) {
	started := time.Date(2026, 3, 3, 23, 30, 0, 0, time.UTC)
	deleteOn := time.Date(2026, 4, 9, 10, 0, 0, 0, time.UTC)
	m := mail.DraftReminder("ann@example.nhs.uk", "Ann", "Incident", started, deleteOn, "https://psims.example/drafts")
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Your unfinished PSIMS draft will be deleted on 9 April 2026" {
		t.Errorf("subject %q", m.Subject)
	}
	for _, want := range []string{"Type of event: Incident", "Started on 3 March 2026", "deleted on 9 April 2026 unless you continue it", "https://psims.example/drafts"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
	if !strings.Contains(m.HTML, `href="https://psims.example/drafts"`) {
		t.Errorf("HTML has no link to the drafts:\n%s", m.HTML)
	}
}
