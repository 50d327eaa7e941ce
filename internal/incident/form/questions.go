package form

import (
	"fmt"
	"slices"
	"strings"

	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/taxonomy"
)

// The harm codes the business rules turn on (level-of-physical-harm-5 and
// level-of-psychological-harm-5).
const (
	physicalModerate  = "3"
	physicalSevere    = "2"
	physicalFatal     = "1"
	psychologicalHigh = "1" // severe psychological harm
)

// reporterNoneOfTheAbove is the code of reporter-type-5 that asks for
// details: "I am none of the above (please give details)".
const reporterNoneOfTheAbove = "4"

// Codes of agent-type-5 whose follow-up questions the form asks.
const (
	agentMedication   = "4"
	agentDevices      = "3"
	agentIT           = "9"
	agentBuildings    = "13"
	agentEstates      = "14"
	agentBlood        = "11"
	agentBloodProduct = "12"
	agentTissues      = "8"
)

// The form's own short lists, for the answers that steer it.
var (
	dateKnownList = taxonomy.CodeList{ID: "psims-date-known", Name: "Date known", Codes: []taxonomy.Code{
		{Code: "exact", Display: "Yes, I know the date"},
		{Code: "approximate", Display: "No, but I know roughly when"},
	}}
	ageKnownList = taxonomy.CodeList{ID: "psims-age-known", Name: "Age known", Codes: []taxonomy.Code{
		{Code: "exact", Display: "Yes, I know their age"},
		{Code: "estimated", Display: "No, but I can estimate it"},
		{Code: "unknown", Display: "No, I cannot estimate it"},
	}}
)

// builder makes questions, checking each list and element exists in the
// taxonomy; the first problem is kept in err.
type builder struct {
	tax *taxonomy.Taxonomy
	err error
}

func (b *builder) fail(format string, args ...any) {
	if b.err == nil {
		b.err = fmt.Errorf("form: "+format, args...)
	}
}

// q returns a question on element; for coded kinds its list is the
// element's list in the taxonomy.
func (b *builder) q(id, element string, kind Kind, label, short string) *Question {
	q := &Question{ID: id, Element: element, Kind: kind, Label: label, Short: short, Missing: missingMessages[id]}
	switch kind {
	case Text:
		q.MaxLength = 200
	case Textarea:
		q.MaxLength = 5000
	}
	if strings.HasPrefix(element, "PSIMS.") || strings.HasPrefix(element, "AdverseEvent.") {
		return q
	}
	el, ok := b.tax.Element(element)
	if !ok {
		b.fail("element %s is not in the taxonomy", element)
		return q
	}
	if kind == Radios || kind == Checkboxes || kind == Select {
		l, ok := b.tax.List(el.CodeList)
		if !ok || len(l.Codes) == 0 {
			b.fail("element %s has no code list with codes", element)
		}
		q.List = l
	}
	return q
}

// Options for questions, applied in place.
func (q *Question) hint(h string) *Question            { q.Hint = h; return q }
func (q *Question) optional() *Question                { q.Optional = true; return q }
func (q *Question) governance() *Question              { q.Governance = true; q.Optional = true; return q }
func (q *Question) required() *Question                { q.Optional = false; return q }
func (q *Question) perPatient() *Question              { q.PerPatient = true; return q }
func (q *Question) list(l taxonomy.CodeList) *Question { q.List = l; return q }
func (q *Question) others(label, short string) *Question {
	q.OthersLabel, q.OthersShort = label, short
	return q
}
func (q *Question) missing(m string) *Question { q.Missing = m; return q }

// revealedBy asks q only after the answer code to the question parent
// (radios not asked per patient), and says so for pages that ask both.
func (q *Question) revealedBy(parent *Question, code string) *Question {
	q.RevealedBy, q.RevealedOn = parent.ID, code
	return q.only(answered(parent.Element, code))
}
func (q *Question) only(when func(a incident.Answers, p int) bool) *Question {
	q.when = when
	return q
}

// Conditions of the business rules.
func answered(element, code string) func(incident.Answers, int) bool {
	return func(a incident.Answers, _ int) bool { return answer(a, element) == code }
}

func agent(code string) func(incident.Answers, int) bool {
	return func(a incident.Answers, _ int) bool { return has(a, elAgents, code) }
}

func noPatients(a incident.Answers, _ int) bool { return patientCount(a) == 0 }

func patientAnswered(element, code string) func(incident.Answers, int) bool {
	return func(a incident.Answers, p int) bool { return patientAnswer(a, element, p) == code }
}

// The harm rules of the national service: psychological harm is not asked
// when physical harm is fatal; strength of association is asked when
// physical harm is severe or fatal, or psychological harm severe. The
// clinical outcome is asked from moderate physical harm up.
func psychologicalAsked(a incident.Answers, p int) bool {
	return patientAnswer(a, elPhysicalHarm, p) != physicalFatal
}

func associationAsked(a incident.Answers, p int) bool {
	ph := patientAnswer(a, elPhysicalHarm, p)
	return ph == physicalSevere || ph == physicalFatal ||
		(ph != physicalFatal && patientAnswer(a, elPsychologicalHarm, p) == psychologicalHigh)
}

func outcomeAsked(a incident.Answers, p int) bool {
	return slices.Contains([]string{physicalModerate, physicalSevere, physicalFatal}, patientAnswer(a, elPhysicalHarm, p))
}

// when asks when the event happened: a date, or a month when only roughly
// known.
func (b *builder) when(label string) []*Question {
	known := b.q("date-known", DateKnown, Radios, label, "Date known").list(dateKnownList)
	return []*Question{
		known,
		b.q("date", EventDate, Date, "What date did it happen?", "Date").
			hint("For example, 27 3 2026").revealedBy(known, "exact"),
		b.q("month", elApproximateDate, Month, "Roughly when did it happen?", "Roughly when").
			hint("Give the month and year, for example 3 2026").revealedBy(known, "approximate"),
	}
}

// missingMessages are the errors for questions not answered, by question
// ID: what to do, in the NHS.UK way ("Select ..." for choices, "Enter ..."
// for what is typed), in words that make sense without the question.
var missingMessages = map[string]string{
	"date-known":         "Select whether you know the date",
	"date":               "Enter the date it happened",
	"month":              "Enter the month and year it happened",
	"organisation":       "Enter the organisation's ODS code, for example RM1",
	"service":            "Select the type of service",
	"location":           "Select where it happened",
	"description":        "Enter what happened",
	"safety-challenges":  "Select the safety challenges it was, or that it was none of them",
	"agents":             "Select what was involved, or that none of them was",
	"patients":           "Enter the number of patients",
	"age-known":          "Select whether you know their age",
	"age":                "Enter their age in years and months",
	"age-bracket":        "Select roughly how old they were",
	"gender":             "Select their gender",
	"physical-harm":      "Select the physical harm that came to them",
	"psychological-harm": "Select the psychological harm that came to them",
	"association":        "Select how strongly the event was linked to the harm",
	"concern":            "Select how concerned you are",
	"your-role":          "Select your role",
	"sharing":            "Select yes if this record may be shared to help others learn, or no if it may not",
	"never-event-type":   "Select which never event it was",
	"cqc-criteria":       "Select the CQC criteria it meets",
	"repeat":             "Enter how the good care could happen more often",
	"risk-themes":        "Select what the risk is about",
	"risk-imminent":      "Select whether it could happen at any moment",
	"outcome-types":      "Select what the outcome was",
	"harm":               "Select how badly the person was affected",
	"relationship":       "Select your connection to what happened",
	"relationship-other": "Enter your connection to what happened",
}

// where asks the organisation and the service.
func (b *builder) where(orgLabel string) []*Question {
	return []*Question{
		b.q("organisation", elOrganisation, Org, orgLabel, "Organisation").
			hint("Enter its ODS code, for example RM1, or part of its name. Your own organisation is filled in for you."),
		b.q("service", elServiceArea, Radios, "What type of service was it?", "Service").list(b.firstOf(elServiceArea)),
	}
}

// firstOf returns the list of an element; used where the question takes a
// single code from a list the taxonomy allows several of.
func (b *builder) firstOf(element string) taxonomy.CodeList {
	el, ok := b.tax.Element(element)
	if !ok {
		b.fail("element %s is not in the taxonomy", element)
		return taxonomy.CodeList{}
	}
	l, _ := b.tax.List(el.CodeList)
	return l
}

// patients asks how many patients there were and, for each, their age,
// gender and harm.
func (b *builder) patients(label string, minimum int, harm bool) []*Question {
	count := b.q("patients", PatientCount, Number, label, "Patients involved").
		hint("Enter 0 if no patient was involved. Describe an event involving many people in what happened.")
	count.Min, count.Max = minimum, MaxPatients
	if minimum > 0 {
		count.Hint = fmt.Sprintf("Enter a number from %d to %d.", minimum, MaxPatients)
	}
	qs := []*Question{
		count,
		b.q("age-known", AgeKnown, Radios, "Do you know their age?", "Age known").list(ageKnownList).perPatient(),
		b.q("age", elAgeDays, Age, "How old were they?", "Age").perPatient().
			hint("Give their age when it happened, in years and months.").
			only(patientAnswered(AgeKnown, "exact")),
		b.q("age-bracket", elAgeBracket, Radios, "Roughly how old were they?", "Age range").perPatient().
			only(patientAnswered(AgeKnown, "estimated")),
		b.q("gender", "PatientInformation.Gender", Radios, "What is their gender?", "Gender").perPatient(),
	}
	if harm {
		qs = append(qs,
			b.q("physical-harm", elPhysicalHarm, Radios, "What physical harm came to them?", "Physical harm").perPatient().
				hint("Choose the harm the event caused, or is likely to cause, as far as you know now."),
			b.q("psychological-harm", elPsychologicalHarm, Radios, "What psychological harm came to them?", "Psychological harm").
				perPatient().only(psychologicalAsked),
			b.q("association", "PatientInformation.StrengthOfAssociation", Radios,
				"How strongly was the event linked to the harm?", "Link to the harm").perPatient().only(associationAsked),
			b.q("clinical-outcome", "PatientInformation.ClinicalOutcome", Textarea,
				"What was the clinical outcome for them?", "Clinical outcome").perPatient().optional().
				hint("Do not include anything that could identify them.").only(outcomeAsked),
		)
	}
	return qs
}

// agents asks what was involved and the follow-up for each.
func (b *builder) agents() []*Question {
	follow := func(id, element, code, label string) *Question {
		return b.q(id, element, Checkboxes, label, "").only(agent(code))
	}
	qs := []*Question{
		b.q("agents", elAgents, Checkboxes, "Were any of these involved?", "Involved").
			hint("Select all that apply."),
		follow("medication", "AdverseEventProblemMedication.DrugInvolvementFactors", agentMedication, "What went wrong with the medication?"),
		b.q("medicines", "AdverseEventAgent.DrugsInvolved", Text, "Which medicines were involved?", "Medicines").
			optional().hint("Give the names of the medicines, not the patient.").only(agent(agentMedication)),
		follow("devices", "AdverseEventProblemDevices.DeviceInvolvementFactors", agentDevices, "What went wrong with the device?"),
		b.q("device-type", "AdverseEventDeviceDetails.DeviceType", Select, "What type of device was it?", "Device type").
			optional().only(agent(agentDevices)),
		follow("it-systems", "AdverseEventProblemITSystems.ITSystemsInvolvementFactors", agentIT, "What went wrong with the IT system or software?"),
		follow("buildings", "AdverseEventProblemBuildingsInfrastructure.BuildingsInfrastructureInvolved", agentBuildings, "What went wrong with the building or infrastructure?"),
		follow("estates", "AdverseEventProblemEstatesServices.EstatesServicesInvolved", agentEstates, "What went wrong with the estates service?"),
		follow("blood", "AdverseEventProblemBlood.BloodInvolved", agentBlood, "What went wrong with the blood?"),
		follow("blood-products", "AdverseEventProblemBloodProducts.BloodProductsInvolved", agentBloodProduct, "What went wrong with the blood product?"),
		follow("tissues", "AdverseEventProblemTissuesOrgans.TissueOrgansInvolvementFactors", agentTissues, "What went wrong with the tissues or organs?"),
		b.q("people", "AdverseEventProblemPeople.PeopleInvolvementFactors", Checkboxes,
			"Did the number or mix of people involved play a part?", "People").optional().hint("Select all that apply, or none."),
	}
	for _, q := range qs[1:] {
		if q.Short == "" {
			q.Short = strings.TrimSuffix(strings.TrimPrefix(q.Label, "What went wrong with the "), "?")
			q.Short = strings.ToUpper(q.Short[:1]) + q.Short[1:]
			q.Hint = "Select all that apply."
		}
		if q.Missing == "" && !q.Optional {
			q.Missing = "Select " + strings.ToLower(q.Label[:1]) + strings.TrimSuffix(q.Label[1:], "?")
		}
	}
	return qs
}

// reporter asks about the person recording, and whether the record may be
// shared (T15).
func (b *builder) reporter() []*Question {
	return []*Question{
		b.q("your-role", "PractitionerDetails.ReporterRole", Radios, "What is your role?", "Your role").
			others("What is the reporter's role?", "Reporter's role"),
		b.q("your-involvement", "PractitionerDetails.ReporterInvolvement", Radios, "How were you involved?", "Your involvement").optional().
			others("How was the reporter involved?", "Reporter's involvement"),
		b.q("sharing", MayShare, YesNo, "May this record be shared beyond your organisation to help others learn?", "May be shared").
			others("May this record be shared beyond the organisation to help others learn?", "May be shared").
			hint("The national patient safety team always sees it. Answer no to keep it out of data shared with other bodies, even without anything that identifies anyone."),
	}
}

// governance asks reviewers what their organisation decided.
func (b *builder) governanceQuestions() []*Question {
	return []*Question{
		b.q("duty-of-candour", "AdverseEventGovernance.DutyOfCandour", YesNo, "Does the duty of candour apply?", "Duty of candour").governance(),
		b.q("never-event", elNeverEvent, YesNo, "Is this a never event?", "Never event").governance(),
		b.q("never-event-type", "AdverseEventGovernance.NeverEventType", Radios, "Which never event was it?", "Never event type").
			governance().required().only(answered(elNeverEvent, "yes")),
		b.q("serious-incident", "AdverseEventGovernance.SeriousIncident", YesNo, "Is it being managed as a serious incident?", "Serious incident").governance(),
		b.q("cqc-notify", elCQCNotify, YesNo, "Must the Care Quality Commission be notified?", "CQC notification").governance(),
		b.q("cqc-criteria", "AdverseEventGovernance.CqcCriteria", Checkboxes, "Which CQC criteria does it meet?", "CQC criteria").
			governance().required().only(answered(elCQCNotify, "yes")),
	}
}

func (b *builder) incident() []*Question {
	return slices.Concat(
		b.when("Do you know the date the incident happened?"),
		[]*Question{b.q("time", "AdverseEventEstimatedDate.EstimatedTime", Radios, "When in the day did it happen?", "Time of day").optional()},
		b.where("Which organisation did it happen in?"),
		[]*Question{
			b.q("location", "LocationDetails.LocationWithinService", Radios, "Where did it happen?", "Location"),
			b.q("specialty", "LocationDetails.ResponsibleSpecialty", Select, "Which specialty was responsible?", "Specialty").optional(),
			b.q("description", Description, Textarea, "What happened?", "What happened").
				hint("Describe what happened, in your own words. Do not include names, NHS numbers, dates of birth, addresses or anything else that could identify anyone."),
			b.q("safety-challenges", elSafetyChallenges, Checkboxes, "Was it one of these safety challenges?", "Safety challenges").
				hint("Select all that apply."),
		},
		b.agents(),
		b.patients("How many patients were involved?", 0, true),
		[]*Question{
			b.q("detection", "DetectionFactors.DetectionPoint", Radios, "When was it noticed?", "When noticed").optional(),
			b.q("immediate-actions", "AdverseEventOutcome.ImmediateActions", Textarea, "What was done straight away?", "Done straight away").optional(),
			b.q("concern", "AdverseEventClassification.LevelOfConcern", Radios, "How concerned are you that it could happen again?", "Concern").
				others("How concerned was the reporter that it could happen again?", "Reporter's concern"),
		},
		b.reporter(),
		b.governanceQuestions(),
	)
}

func (b *builder) goodCare() []*Question {
	return slices.Concat(
		b.when("Do you know the date it happened?"),
		b.where("Which organisation gave the care?"),
		[]*Question{
			b.q("description", Description, Textarea, "What happened?", "What happened").
				hint("Describe the care in your own words. Do not include anything that could identify anyone."),
			b.q("strengths", "AdverseEventWentWell.StrengthsOfCare", Textarea, "What made the care good?", "What made it good").optional(),
			b.q("repeat", "AdverseEventWentWell.HowFutureOccurrence", Textarea, "How could it happen more often?", "How to repeat it"),
		},
		b.reporter(),
	)
}

func (b *builder) risk() []*Question {
	return slices.Concat(
		b.when("Do you know the date the risk was found?"),
		b.where("Which organisation is the risk in?"),
		[]*Question{
			b.q("description", Description, Textarea, "What is the risk?", "The risk").missing("Enter what the risk is").
				hint("Describe what could go wrong and why. Do not include anything that could identify anyone."),
		},
		// A risk with no patients at risk has risk details instead of
		// patients.
		b.patients("How many specific patients are at risk?", 0, false),
		[]*Question{
			b.q("risk-themes", elRiskTheme, Checkboxes, "What is the risk about?", "Risk themes").
				hint("Select all that apply.").only(noPatients),
			b.q("risk-imminent", "AdverseEventRiskDetails.RiskImminent", Radios, "Could it happen at any moment?", "Imminent").only(noPatients),
			b.q("risk-population", "AdverseEventRiskDetails.RiskPopulation", Textarea, "Who could be affected?", "Who could be affected").
				optional().hint("For example, patients on the stroke ward, or people waiting for an ambulance.").only(noPatients),
			b.q("risk-timeframe", "AdverseEventRiskDetails.RiskTimeframe", Radios, "Over what time could it happen?", "Timeframe").
				optional().only(noPatients),
			b.q("concern", "AdverseEventClassification.LevelOfConcern", Radios, "How concerned are you about it?", "Concern").
				others("How concerned was the reporter about it?", "Reporter's concern"),
		},
		b.reporter(),
	)
}

func (b *builder) outcome() []*Question {
	return slices.Concat(
		b.when("Do you know the date of the outcome?"),
		b.where("Which organisation was caring for the patient?"),
		[]*Question{
			b.q("outcome-types", elOutcomeType, Checkboxes, "What was the outcome?", "Outcome").hint("Select all that apply."),
			b.q("description", Description, Textarea, "What happened?", "What happened").
				hint("Describe what led to the outcome, as far as you know. Do not include anything that could identify anyone."),
			b.q("safety-challenges", elSafetyChallenges, Checkboxes, "Was it one of these safety challenges?", "Safety challenges").
				hint("Select all that apply."),
		},
		b.patients("How many patients had the outcome?", 1, true),
		[]*Question{
			b.q("immediate-actions", "AdverseEventOutcome.ImmediateActions", Textarea, "What was done straight away?", "Done straight away").optional(),
			b.q("concern", "AdverseEventClassification.LevelOfConcern", Radios, "How concerned are you that it could happen again?", "Concern").
				others("How concerned was the reporter that it could happen again?", "Reporter's concern"),
		},
		b.reporter(),
		b.governanceQuestions(),
	)
}

// public is the shorter form for patients, families and the public (T8).
func (b *builder) public() []*Question {
	harm := b.q("harm", elPhysicalHarm, Radios, "How badly was the person affected?", "How badly affected").
		hint("If more than one person was affected, answer for the one most badly affected.")
	relationship := b.q("relationship", "PractitionerDetails.ReporterType", Radios, "What is your connection to what happened?", "Your connection").
		others("What is the person's connection to what happened?", "Their connection to what happened")
	return slices.Concat(
		[]*Question{
			b.q("description", Description, Textarea, "What happened?", "What happened").
				hint("Tell us what happened in your own words. Do not include names, NHS numbers, addresses, phone numbers or anything else that could identify you or anyone else."),
		},
		b.when("Do you know the date it happened?"),
		[]*Question{
			b.q("organisation", elOrganisation, Org, "Which NHS organisation was it?", "Organisation").
				missing("Enter the name or ODS code of the NHS organisation, then choose it").
				hint("Search by name or enter its ODS code, for example RM1."),
			harm,
			relationship,
			// "I am none of the above (please give details)" asks for them.
			b.q("relationship-other", "PractitionerDetails.ReporterTypeOther", Text, "Tell us your connection", "Your connection, in your words").
				others("The person's connection, in their words", "Their connection, in their words").
				hint("For example, a visitor to the ward. Do not include anything that could identify anyone.").
				revealedBy(relationship, reporterNoneOfTheAbove),
			b.q("sharing", MayShare, YesNo, "May what you tell us be shared with other bodies to help them learn?", "May be shared").
				missing("Select yes if what you tell us may be shared with other bodies, or no if it may not").
				hint("The NHS organisation and the national patient safety team always see it. Nothing that identifies you is kept."),
		},
	)
}
