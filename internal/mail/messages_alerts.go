package mail

import "time"

// Addressee is a person an alert goes to.
type Addressee struct {
	Email, Name string
}

// EventAlert tells a reviewer of the recording organisation that an event
// needing early attention has arrived. It names only what lets them find
// and prioritise it: the reference, the kind of event, the physical harm
// as a national category, and why they are told (reasons are fixed
// phrases, such as "it is recorded as a never event"). It carries nothing
// anyone wrote (T12); eventURL is the event's page, which asks them to
// sign in first.
func EventAlert(to Addressee, reference, typeLabel, harmLabel string, reasons []string, recordedAt time.Time, eventURL string) Message {
	before := []string{
		"A patient safety event for your organisation has been recorded in PSIMS and may need early review.",
		"Reference: " + reference,
		"Type of event: " + typeLabel,
	}
	if harmLabel != "" {
		before = append(before, "Physical harm: "+harmLabel)
	}
	for _, r := range reasons {
		before = append(before, "You are told because "+r+".")
	}
	before = append(before,
		"Recorded on "+longDate(recordedAt)+" at "+recordedAt.UTC().Format("15:04")+" (UTC)",
		"Sign in to PSIMS to see it:")
	return build(to.Email, "PSIMS: patient safety event "+reference+" for review", "", letter{
		Name:   to.Name,
		Before: before,
		Link:   eventURL,
		After: []string{
			"This email does not contain what was recorded, to keep it safe.",
			"You get these emails as a reviewer of your organisation. You can choose which you get under \"Your account\", \"Email alerts\".",
		},
	})
}
