package mail

import "strings"

// Messages to the person who reported a concern (T5): a receipt with the
// report's reference, and the outcome when the report is closed. Neither
// repeats what the reporter wrote, nor names the account the report was
// about: an email can be forwarded, and a signed-out reporter's address was
// never checked.

// ConcernReceived tells the reporter their report has been received, with
// its reference, and that the operator looks at every report within 48
// hours.
func ConcernReceived(to Addressee, reference, kindLabel string) Message {
	return build(to.Email, "PSIMS: we have received your report "+reference, "", letter{
		Name: to.Name,
		Before: []string{
			"Thank you for reporting " + kindLabel + " to the PSIMS team. Your reference is " + reference + ".",
			"A national administrator looks at every report within 48 hours and acts on it where needed. We will email you when it is closed.",
			"If you did not send this report, you do not need to do anything.",
		},
	})
}

// ConcernClosed tells the reporter the report is closed, with the outcome
// and, when the administrator wrote one, their explanation (already passed
// by the identifier guard), one paragraph to each line.
func ConcernClosed(to Addressee, reference, outcomeLabel, explanation string) Message {
	before := []string{"We have closed your report " + reference + ".", "Outcome: " + outcomeLabel + "."}
	for _, line := range strings.Split(strings.ReplaceAll(explanation, "\r\n", "\n"), "\n") {
		for strings.Contains(line, Placeholder) {
			line = strings.ReplaceAll(line, Placeholder, "")
		}
		if line = strings.TrimSpace(line); line != "" {
			before = append(before, line)
		}
	}
	return build(to.Email, "PSIMS: your report "+reference+" is closed", "", letter{
		Name:   to.Name,
		Before: before,
		After:  []string{"Thank you for telling us. If something else happens, report it again from the sign-in page or the footer of any page."},
	})
}
