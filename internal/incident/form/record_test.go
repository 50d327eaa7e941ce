package form_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/form"
)

// TestCompleteRecordChecksAWholeRecordWithTheFormsRules: a record sent
// whole by another system passes the form's own checks, with what a
// record needs besides: several values to a one-value question and an
// answer the rules leave out are refused, named by element and patient;
// an age stays in days as sent; an element no question of the type asks is
// kept as it is.
func TestCompleteRecordChecksAWholeRecordWithTheFormsRules(t *testing.T) {
	f := newForm(t)
	a := fill(t, f, incident.Incident, answers{"patients": {"answer": {"2"}}}, true)

	ok := clone(a)
	ok["PatientInformation.AgeAtTimeOfIncidentDays"] = []string{"400", "30742"}
	ok["AdverseEventReferenceMetadata.IsAnonymous"] = []string{"yes"}
	res, problems := f.CompleteRecord(incident.Incident, ok, now)
	if problems != nil {
		t.Fatalf("a whole record: %v", problems)
	}
	if !slices.Equal(res.Answers["PatientInformation.AgeAtTimeOfIncidentDays"], []string{"400", "30742"}) {
		t.Errorf("ages %v, want the days as sent", res.Answers["PatientInformation.AgeAtTimeOfIncidentDays"])
	}
	if !slices.Equal(res.Answers["AdverseEventReferenceMetadata.IsAnonymous"], []string{"yes"}) {
		t.Errorf("an element the form does not ask was not kept: %v", res.Answers)
	}

	bad := clone(a)
	bad["LocationDetails.ServiceArea"] = []string{"1", "2"}
	bad["PatientInformation.PhysicalHarm"] = []string{"5", "1"} // the second patient died
	_, problems = f.CompleteRecord(incident.Incident, bad, now)
	fields := map[string]string{}
	for _, p := range problems {
		fields[p.Field] = p.Message
	}
	if !strings.HasPrefix(fields["LocationDetails.ServiceArea"], "Give one answer") {
		t.Errorf("two service areas: %v", problems)
	}
	if !strings.HasSuffix(fields[form.FieldOf("PatientInformation.PsychologicalHarm", 2)], form.LeaveItOut) {
		t.Errorf("psychological harm after a death: %v", problems)
	}
	if _, ok := fields[form.FieldOf("PatientInformation.StrengthOfAssociation", 2)]; !ok {
		t.Errorf("no strength of association after a death: %v", problems)
	}
	if _, ok := fields[form.FieldOf("PatientInformation.PsychologicalHarm", 1)]; ok {
		t.Errorf("the first patient's answer was refused: %v", problems)
	}
	if el, p := form.SplitField(form.FieldOf("PatientInformation.Gender", 3)); el != "PatientInformation.Gender" || p != 3 {
		t.Errorf("SplitField: %s %d", el, p)
	}
}

func clone(a incident.Answers) incident.Answers {
	out := incident.Answers{}
	for k, v := range a {
		out[k] = slices.Clone(v)
	}
	return out
}
