package newsletter

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"strings"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/terms"
)

// UnsubscribeURL is the one-click unsubscribe address of the person for
// the purpose: {base}/unsubscribe/{token}.
func (s *Service) UnsubscribeURL(userID int64, p terms.Purpose) string {
	return s.base + "/unsubscribe/" + Token(s.key, userID, p)
}

// why is the sentence that tells a recipient why they get the message.
func why(k Kind) string {
	if k == KindInvitation {
		return "You get this invitation because you agreed to be invited to user research and surveys about PSIMS."
	}
	return "You get this newsletter because you asked for it."
}

var htmlMessage = htmltemplate.Must(htmltemplate.New("newsletter").Parse(`<!DOCTYPE html>
<html lang="en-GB">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{{.Subject}}</title></head>
<body style="font-family: Arial, sans-serif; font-size: 19px; line-height: 1.5; color: #212b32; max-width: 640px; margin: 0 auto; padding: 16px;">
{{.Body}}
<hr style="border: 0; border-top: 1px solid #d8dde0;">
<p style="font-size: 16px; color: #4c6272;">{{.Why}} <a href="{{.Unsubscribe}}" style="color: #005eb8;">Unsubscribe</a> with one click, or change your choices under “Your data preferences” in PSIMS. Service notices (security, changes to the terms, warnings before an unused account is closed) are always sent.</p>
<p style="font-size: 16px; color: #4c6272;">PSIMS (Patient Safety Incident Management System). Replies to this address are not read.</p>
</body>
</html>
`))

// Message is the email the person gets for the mailing: the Markdown
// rendered safely to HTML (raw HTML in it is shown as text, never
// rendered), the Markdown itself as the plain text, and in both a footer
// with their own unsubscribe link, which also goes in List-Unsubscribe.
func (s *Service) Message(n Newsletter, to account.Contactable) (mail.Message, error) {
	unsubscribe := s.UnsubscribeURL(to.ID, n.Kind.Purpose())
	body, err := terms.Render(n.Body)
	if err != nil {
		return mail.Message{}, fmt.Errorf("newsletter: render %d: %w", n.ID, err)
	}
	var html bytes.Buffer
	err = htmlMessage.Execute(&html, struct {
		Subject, Why, Unsubscribe string
		Body                      htmltemplate.HTML
	}{n.Subject, why(n.Kind), unsubscribe, body})
	if err != nil {
		return mail.Message{}, fmt.Errorf("newsletter: render %d: %w", n.ID, err)
	}
	text := n.Body + "\n\n--\n" + why(n.Kind) + "\nUnsubscribe with one click:\n" + unsubscribe +
		"\nor change your choices under \"Your data preferences\" in PSIMS. Service notices (security, changes to the terms, warnings before an unused account is closed) are always sent.\n\n" +
		"PSIMS (Patient Safety Incident Management System). Replies to this address are not read.\n"
	// The body was refused if it held the link placeholder; this keeps a
	// message valid whatever is stored.
	for strings.Contains(text, mail.Placeholder) || strings.Contains(html.String(), mail.Placeholder) {
		text = strings.ReplaceAll(text, mail.Placeholder, "")
		cleaned := strings.ReplaceAll(html.String(), mail.Placeholder, "")
		html.Reset()
		html.WriteString(cleaned)
	}
	return mail.Message{To: to.Email, Subject: n.Subject, Text: text, HTML: html.String(),
		Category: n.Kind.Category(), ListUnsubscribe: unsubscribe, Batch: n.Batch()}, nil
}
