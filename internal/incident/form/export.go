package form

import (
	"strings"

	"github.com/psims/psims/internal/incident"
)

// exportedCodes are the coded answers an event export shows beside the
// free text and the governance answers: where and when in the day it
// happened, the specialty and the level of concern.
var exportedCodes = []string{"AdverseEventEstimatedDate.EstimatedTime", "LocationDetails.LocationWithinService",
	"LocationDetails.ResponsibleSpecialty", "AdverseEventClassification.LevelOfConcern"}

// ExportColumns are the answers an event export adds to the list's own
// columns, one per element: the free text answers, location, specialty,
// time of day, level of concern and the governance answers, in the order
// the forms ask them (incident first), each headed as the form names the
// answer and shown as the event page shows it.
func (f *Form) ExportColumns() []incident.AnswerColumn {
	var out []incident.AnswerColumn
	seen := map[string]bool{}
	for _, fl := range []flow{flow(incident.Incident), flow(incident.GoodCare), flow(incident.Risk), flow(incident.Outcome), publicFlow} {
		for _, q := range f.flows[fl] {
			wanted := q.Kind == Text || q.Kind == Textarea || q.Governance
			for _, el := range exportedCodes {
				wanted = wanted || q.Element == el
			}
			if !wanted || seen[q.Element] {
				continue
			}
			seen[q.Element] = true
			q := q
			out = append(out, incident.AnswerColumn{Heading: q.Short, Element: q.Element, Display: func(vs []string) string {
				// Per-patient answers hold "" for a patient not asked.
				given := make([]string, 0, len(vs))
				for _, v := range vs {
					if v != "" {
						given = append(given, v)
					}
				}
				return strings.Join(Display(Step{Question: q}, incident.Answers{q.Element: given}), "; ")
			}})
		}
	}
	return out
}
