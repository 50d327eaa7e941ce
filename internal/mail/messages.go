package mail

import (
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
)

// The messages PSIMS sends. Each is a short letter: a greeting, what
// happened, at most one link, what to do if it was not you.

// letter is the content of one message.
type letter struct {
	Name   string
	Before []string
	// Link is shown on a line of its own after Before.
	Link  string
	After []string
}

// linkMarker stands for a one-time link while rendering. html/template
// writes it unchanged both in an href and in text (it is a plain relative
// URL), so it can then be swapped for Placeholder.
const linkMarker = "psims-one-time-link"

const footer = "PSIMS (Patient Safety Incident Management System). This email was sent automatically. Replies to this address are not read."

var textLetter = texttemplate.Must(texttemplate.New("text").Parse(
	`{{if .Name}}Dear {{.Name}},{{else}}Hello,{{end}}
{{range .Before}}
{{.}}
{{end}}{{if .Link}}
{{.Link}}
{{end}}{{range .After}}
{{.}}
{{end}}
--
` + footer + "\n"))

var htmlLetter = htmltemplate.Must(htmltemplate.New("html").Parse(`<!DOCTYPE html>
<html lang="en-GB">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: Arial, sans-serif; font-size: 19px; line-height: 1.5; color: #212b32; max-width: 640px; margin: 0 auto; padding: 16px;">
<p>{{if .Name}}Dear {{.Name}},{{else}}Hello,{{end}}</p>
{{range .Before}}<p>{{.}}</p>
{{end}}{{if .Link}}<p><a href="{{.Link}}" style="color: #005eb8;">{{.Link}}</a></p>
{{end}}{{range .After}}<p>{{.}}</p>
{{end}}<hr style="border: 0; border-top: 1px solid #d8dde0;">
<p style="font-size: 16px; color: #4c6272;">` + footer + `</p>
</body>
</html>
`))

// build renders l into a Message. With secret set, l.Link must be
// linkMarker: the bodies get Placeholder and the message carries the link.
func build(to, subject, secret string, l letter) Message {
	l.Name = cleanName(l.Name)
	var text, html strings.Builder
	// The templates are fixed and the data is strings, so executing them
	// cannot fail.
	_ = textLetter.Execute(&text, l)
	_ = htmlLetter.Execute(&html, l)
	m := Message{To: to, Subject: subject, Text: text.String(), HTML: html.String()}
	if secret != "" {
		m.Secret = secret
		m.Text = strings.ReplaceAll(m.Text, linkMarker, Placeholder)
		m.HTML = strings.ReplaceAll(m.HTML, linkMarker, Placeholder)
	}
	return m
}

// cleanName keeps a name on one line and takes out anything that could be
// mistaken for the link's place.
func cleanName(name string) string {
	name = strings.Join(strings.Fields(name), " ")
	for strings.Contains(name, linkMarker) || strings.Contains(name, Placeholder) {
		name = strings.ReplaceAll(name, linkMarker, "")
		name = strings.ReplaceAll(name, Placeholder, "")
	}
	return name
}

// VerifyEmail asks a new user to confirm their email address through link.
func VerifyEmail(to, name, link string) Message {
	return build(to, "Confirm your email address for PSIMS", link, letter{
		Name:   name,
		Before: []string{"You need to confirm your email address to finish setting up your PSIMS account.", "Use this link to confirm it:"},
		Link:   linkMarker,
		After: []string{
			"The link lasts 24 hours and can only be used once. If it has expired, sign in to PSIMS to get a new one.",
			"If you did not set up a PSIMS account, you can ignore this email.",
		},
	})
}

// ResetPassword sends a link to choose a new password. The link lasts 1
// hour.
func ResetPassword(to, name, link string) Message {
	return build(to, "Reset your PSIMS password", link, letter{
		Name:   name,
		Before: []string{"We received a request to reset the password for your PSIMS account.", "Use this link to choose a new password:"},
		Link:   linkMarker,
		After: []string{
			"The link lasts 1 hour and can only be used once.",
			"If you did not ask to reset your password, you can ignore this email. Your password has not been changed.",
		},
	})
}

// Approved tells a user their account has been approved and where to sign
// in.
func Approved(to, name, signInURL string) Message {
	return build(to, "Your PSIMS account has been approved", "", letter{
		Name:   name,
		Before: []string{"Your PSIMS account has been approved. You can now sign in and record patient safety events.", "Sign in to PSIMS:"},
		Link:   signInURL,
	})
}

// AccountLocked tells a user that their account was locked after too many
// failed attempts to sign in.
func AccountLocked(to, name string) Message {
	return build(to, "Your PSIMS account has been locked", "", letter{
		Name: name,
		Before: []string{
			"We have locked your PSIMS account for a short time because a wrong password or security code was entered too many times.",
			"You can try again later, or reset your password from the sign in page.",
			"If this was not you, reset your password and tell your organisation's PSIMS administrator.",
		},
	})
}

// AlreadyRegistered tells the owner of an address that someone tried to
// register it again, so the registration form never reveals who has an
// account.
func AlreadyRegistered(to, name, signInURL, resetURL string) Message {
	return build(to, "Your email address already has a PSIMS account", "", letter{
		Name: name,
		Before: []string{
			"Someone, probably you, tried to create a PSIMS account with this email address. It already has an account, so nothing has changed.",
			"If you have forgotten your password, reset it from " + resetURL + ".",
			"To sign in, go to:",
		},
		Link:  signInURL,
		After: []string{"If this was not you, you do not need to do anything."},
	})
}
