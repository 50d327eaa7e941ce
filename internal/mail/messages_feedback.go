package mail

import "strings"

// FeedbackReply carries the operator's reply to feedback or a question
// that a person sent from the "?" link (P8), to them alone and only when
// they said the operator may reply by email. It holds the reply as the
// admin wrote it (the identifier guard has already passed it), one
// paragraph to each line they typed, and the link to the whole
// conversation under "Your account", which asks them to sign in first.
// What the person themselves wrote is not repeated.
func FeedbackReply(to Addressee, reference, kindLabel, reply, threadURL string) Message {
	before := []string{"The PSIMS team has replied to the " + kindLabel + " you sent (reference " + reference + "):"}
	for _, line := range strings.Split(strings.ReplaceAll(reply, "\r\n", "\n"), "\n") {
		// Without a link the bodies must not hold the link's placeholder.
		for strings.Contains(line, Placeholder) {
			line = strings.ReplaceAll(line, Placeholder, "")
		}
		if line = strings.TrimSpace(line); line != "" {
			before = append(before, line)
		}
	}
	before = append(before, "You can read the whole conversation in PSIMS, under \"Your account\", \"Your feedback and questions\":")
	return build(to.Email, "PSIMS: a reply to your "+kindLabel+" "+reference, "", letter{
		Name:   to.Name,
		Before: before,
		Link:   threadURL,
		After:  []string{"You get this email because you said we could reply to you by email."},
	})
}
