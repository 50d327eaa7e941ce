package mail_test

import (
	"strings"
	"testing"

	"github.com/psims/psims/internal/mail"
)

// The reply to feedback carries the reply, a paragraph to each line, and
// the link to the thread; markup in the reply is escaped, and a reply
// that holds the link placeholder cannot make the message invalid. // P8
func TestFeedbackReplyCarriesTheReplyAndTheThread(t *testing.T) { // P8
	m := mail.FeedbackReply(mail.Addressee{Email: "a@example.nhs.uk", Name: "Ann"}, "FB-00007", "question",
		"First line <b>bold</b>.\r\n\r\nSecond line {{secret}}.", "https://psims.example/account/queries/7")
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Subject, "FB-00007") || !strings.Contains(m.Subject, "question") {
		t.Errorf("subject %q", m.Subject)
	}
	for _, want := range []string{"Dear Ann,", "First line <b>bold</b>.\n\nSecond line .", "https://psims.example/account/queries/7"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
	if strings.Contains(m.HTML, "<b>bold</b>") || !strings.Contains(m.HTML, "<p>First line &lt;b&gt;bold&lt;/b&gt;.</p>") {
		t.Errorf("HTML body:\n%s", m.HTML)
	}
}
