package synth

// The phrase bank. Every phrase here was written for PSIMS: plain clinical
// English about made-up events, with no names, numbers, dates or places
// that could point at anyone. Descriptions are assembled from a scenario's
// parts, so a few hundred phrases give many thousands of different texts.

// scenario is one kind of event and what texts about it are made of.
type scenario struct {
	// name is for tests and debugging only.
	name string
	// what happened, each a clause that reads after a setting ("On the
	// ward, ..."), starting in lower case.
	what []string
	// why it may have happened: whole sentences.
	why []string
	// what was done straight away: whole sentences.
	done []string
	// prefer are codes to choose more often, by code list ID, so that the
	// coded answers fit the story most of the time.
	prefer map[string][]string
}

// Code list IDs the scenarios prefer codes of.
const (
	listAgents     = "agent-type-5"
	listChallenges = "safety-challenges-5"
	listRiskThemes = "risk-themes-5"
	listOutcomes   = "outcome-type-5"
	listProcess    = "healthcare-process-5"
	listPhysical   = "level-of-physical-harm-5"
	listPsych      = "level-of-psychological-harm-5"
)

var incidentScenarios = []scenario{
	{
		name: "fall",
		what: []string{
			"an older patient fell while walking to the bathroom without their walking frame",
			"a patient was found on the floor beside the bed and could not say how they got there",
			"a patient slipped on a wet floor in the corridor shortly after it had been mopped",
			"a confused patient climbed over the bed rails and fell onto the floor",
			"a patient lost their balance while being helped from a chair to the commode",
			"a patient fainted in the waiting area and struck their head on the edge of a table",
		},
		why: []string{
			"The call bell had been left out of reach.",
			"The falls risk assessment had not been updated after a change in sedating medication.",
			"The bay was without a healthcare assistant for most of the shift because of sickness.",
			"Non-slip socks and the low bed had been recommended but were not in place.",
			"Lighting in the bay had been dimmed and the night light was not working.",
			"Enhanced observation had been requested but no staff member was available to provide it.",
		},
		done: []string{
			"Neurological observations were started and the doctor on call reviewed the patient.",
			"The patient was lifted with a flat lifting device and checked for injuries before moving.",
			"A lying and standing blood pressure was recorded and the falls care plan was updated.",
			"An X-ray of the hip was requested and the family were told what had happened.",
			"A sensor mat was put in place and the patient was moved to a bay nearer the nurses' station.",
		},
		prefer: map[string][]string{listChallenges: {"2"}, listAgents: {"10"}, listProcess: {"6", "7"}},
	},
	{
		name: "medication",
		what: []string{
			"a prescribed dose of an anticoagulant was missed on the morning medicine round",
			"insulin was given but the meal it was meant to go with was delayed for over an hour",
			"a patient received a second dose of an oral opioid because two medicine charts were in use",
			"an antibiotic was started even though a penicillin allergy was recorded in the notes",
			"oral morphine solution of the wrong strength was drawn up from the ward stock",
			"a patient's regular anti-epileptic medicine was not prescribed on admission",
			"a tenfold dose of a liquid medicine was prescribed for a child because of a misplaced decimal point",
			"an intravenous infusion ran faster than prescribed for part of the afternoon",
		},
		why: []string{
			"The handwriting on the paper chart was difficult to read.",
			"Two medicines with similar names and packaging were stored next to each other.",
			"The nurse giving the medicines was interrupted several times during the round.",
			"The electronic prescribing system defaulted to a unit that was not the one intended.",
			"Medicines reconciliation had not been done by pharmacy before the first doses were given.",
			"The allergy band was not on the patient's wrist and the allergy status was not checked.",
			"The second check before giving the controlled drug was not done.",
		},
		done: []string{
			"The prescriber was told at once and observations were increased for the rest of the shift.",
			"Pharmacy was contacted for advice and the next dose was adjusted.",
			"The remaining dose was withheld and blood tests were arranged.",
			"The patient was monitored closely overnight and the error was explained to them.",
			"Both charts were reviewed by the ward pharmacist and one was cancelled.",
		},
		prefer: map[string][]string{listAgents: {"4"}, listChallenges: {"6"}, listProcess: {"5", "6"}},
	},
	{
		name: "pressure ulcer",
		what: []string{
			"a category two pressure ulcer was found on the sacrum during a skin check",
			"a device-related pressure injury was found on the bridge of the nose under an oxygen mask strap",
			"deep tissue injuries were found on both heels of a patient who had been in bed for several days",
			"a pressure ulcer that was present on admission was found to have got worse",
			"a moisture lesion developed into an open wound on the buttocks",
		},
		why: []string{
			"Repositioning was not recorded for a long stretch overnight.",
			"A pressure-relieving mattress had been requested but had not arrived.",
			"The skin assessment on admission was incomplete.",
			"The patient was not eating or drinking well and this had not been escalated.",
			"Heel protectors were prescribed in the care plan but were not in use.",
		},
		done: []string{
			"A referral was made to the tissue viability nurse.",
			"A dynamic mattress was put in place and a repositioning chart was started.",
			"The wound was photographed with consent, dressed and added to the care plan.",
			"The dietitian was asked to review the patient's nutrition.",
		},
		prefer: map[string][]string{listChallenges: {"1"}, listAgents: {"10", "3"}, listProcess: {"6", "7"}},
	},
	{
		name: "delayed diagnosis",
		what: []string{
			"a fracture on an X-ray was not reported to the team caring for the patient for several days",
			"signs of sepsis were not recognised for some hours despite a rising early warning score",
			"an abnormal blood result was not acted on before the patient went home",
			"a referral for suspected cancer was not received by the hospital and was only chased weeks later",
			"a deteriorating patient was not escalated to the outreach team when the score triggered",
			"chest pain was put down to indigestion and the heart tracing was not repeated",
		},
		why: []string{
			"The result was sent to a clinician who had already moved to another rotation.",
			"The early warning score was added up wrongly on the paper chart.",
			"The shared referral inbox was not checked during annual leave.",
			"The department was at full capacity and reviews were delayed.",
			"There was no agreed process for following up results after discharge.",
		},
		done: []string{
			"The patient was recalled, reviewed in clinic and treatment was started.",
			"The sepsis pathway was started and the patient was moved to a higher level of care.",
			"The result was discussed with the patient and a follow-up appointment was booked.",
			"The referral was sent again as urgent and the team confirmed it had arrived.",
		},
		prefer: map[string][]string{listAgents: {"10", "9"}, listChallenges: {"6", "7"}, listProcess: {"3", "4", "8"}},
	},
	{
		name: "equipment",
		what: []string{
			"an infusion pump alarmed repeatedly and then stopped part way through an infusion",
			"the defibrillator on the resuscitation trolley failed its daily check",
			"a hoist sling tore during a transfer from bed to chair",
			"a blood glucose meter gave readings very different from the laboratory result",
			"the suction unit at the bedside was found not to be working when it was needed",
			"a syringe driver was found running with the wrong rate set",
		},
		why: []string{
			"The device was past the date of its planned maintenance.",
			"Staff had not had training on the newer model of the device.",
			"There was no spare device on the ward so the faulty one had stayed in use.",
			"The daily checks had not been recorded for over a week.",
		},
		done: []string{
			"The device was taken out of use, labelled and sent to medical engineering.",
			"A replacement was borrowed from a neighbouring ward.",
			"The manufacturer was told and the device was kept for inspection.",
			"The patient was checked and no further problems were found.",
		},
		prefer: map[string][]string{listAgents: {"3"}, listChallenges: {"6"}, listProcess: {"6"}},
	},
	{
		name: "handover",
		what: []string{
			"the need to keep a patient nil by mouth before theatre was not passed on at handover",
			"a fluid restriction was not handed over between the day and night teams",
			"the transfer letter from another hospital did not mention a scan that was still awaited",
			"a plan to stop a blood thinner before a procedure was not passed on to the ward",
			"a patient was discharged without the medicines they needed to take home",
			"the discharge summary was not sent to the patient's practice",
		},
		why: []string{
			"Handover took place at the nurses' station with frequent interruptions.",
			"The handover sheet had not been updated after the ward round.",
			"The electronic record and the paper notes said different things.",
			"The ward was very busy with several admissions at the same time.",
		},
		done: []string{
			"The operation was rescheduled and the patient was told why.",
			"The team met to agree a structured handover for the rest of the week.",
			"The practice was contacted and the summary was sent the same day.",
			"The medicines were delivered to the patient's home by a member of staff.",
		},
		prefer: map[string][]string{listAgents: {"10", "9"}, listChallenges: {"6"}, listProcess: {"8", "9"}},
	},
	{
		name: "infection",
		what: []string{
			"a peripheral cannula was left in for longer than policy allows and the site became red and swollen",
			"a patient developed a urinary infection linked to a long-term catheter",
			"a surgical wound became infected in the days after an operation",
			"a patient with diarrhoea was not isolated promptly and others in the bay became unwell",
		},
		why: []string{
			"Cannula checks were not recorded on the care chart.",
			"There were no side rooms free at the time.",
			"Hand hygiene audits on the ward had been below target for some months.",
			"The catheter had no documented reason for staying in.",
		},
		done: []string{
			"The cannula was removed, the site was swabbed and antibiotics were started.",
			"The infection prevention team was told and the bay was closed to admissions.",
			"Samples were sent to the laboratory and the patient was moved to a side room.",
		},
		prefer: map[string][]string{listChallenges: {"5"}, listAgents: {"3", "10"}, listProcess: {"6", "7"}},
	},
	{
		name: "IT",
		what: []string{
			"the electronic record was unavailable for two hours during a busy morning",
			"test results did not appear in the electronic record because of an interface fault",
			"the electronic prescribing system logged staff out in the middle of the medicine round",
			"appointment letters were sent for the wrong clinic after a system update",
		},
		why: []string{
			"The downtime procedure was not well known to staff.",
			"The fault had been reported before but had not been fixed.",
			"There was no alert to tell staff that results were missing.",
		},
		done: []string{
			"Paper records were used until the system came back.",
			"The IT service desk was called and a fix was put in place the same day.",
			"Affected patients were contacted and given new appointments.",
		},
		prefer: map[string][]string{listAgents: {"9"}, listChallenges: {"6"}, listProcess: {"1", "3"}},
	},
	{
		name: "maternity",
		what: []string{
			"the fetal heart tracing was not reviewed by a second midwife at the expected time",
			"a postpartum haemorrhage was not escalated to the obstetric team straight away",
			"a woman in labour waited a long time for an epidural because the anaesthetist was in theatre",
		},
		why: []string{
			"The labour ward was at full capacity with several women in active labour.",
			"The escalation guideline was not clear about who to call first.",
			"A midwife was moved to cover another area during the shift.",
		},
		done: []string{
			"The obstetric registrar attended and a plan was agreed.",
			"The case was discussed at the maternity safety huddle the next morning.",
		},
		prefer: map[string][]string{listAgents: {"10"}, listChallenges: {"6"}, listProcess: {"6", "7", "8"}},
	},
	{
		name: "blood",
		what: []string{
			"a unit of blood was collected from the fridge for the wrong patient but stopped before it was given",
			"a transfusion was started without the bedside check being completed",
			"a unit of platelets was left out of storage for too long and had to be discarded",
		},
		why: []string{
			"Two patients on the ward had similar details.",
			"The collection slip was not checked against the unit.",
			"The porter was not told that the unit was urgent.",
		},
		done: []string{
			"The transfusion laboratory was told and the unit was returned.",
			"The haemovigilance team was informed and will follow up.",
		},
		prefer: map[string][]string{listAgents: {"11", "12"}, listChallenges: {"6"}, listProcess: {"6"}},
	},
}

var goodCareScenarios = []scenario{
	{
		name: "early warning",
		what: []string{
			"the night team noticed early signs of deterioration and escalated promptly",
			"a healthcare assistant noticed a patient was more drowsy than usual and raised the alarm",
			"a student nurse questioned a set of observations that did not look right",
		},
		why: []string{
			"The team used the early warning score well and called for help at the first trigger.",
			"Staff felt confident to speak up and were listened to.",
			"The outreach team attended within minutes and the patient recovered well.",
		},
		done: []string{
			"The patient was reviewed quickly and treatment was started without delay.",
			"The team reflected on the event together at the next huddle.",
		},
		prefer: map[string][]string{listAgents: {"10"}, listProcess: {"7", "8"}},
	},
	{
		name: "medicine check",
		what: []string{
			"a pharmacist spotted a tenfold dosing error on a prescription before it reached the patient",
			"a nurse noticed two medicines with similar names had been mixed up and stopped the dose",
			"the pharmacy team found a missing regular medicine during reconciliation on admission",
		},
		why: []string{
			"The checking process worked exactly as it should.",
			"Clear communication between pharmacy and the ward meant the problem was fixed within minutes.",
			"The prescriber thanked the team and changed the prescription at once.",
		},
		done: []string{
			"The prescription was corrected and the correct dose was given on time.",
			"The example was shared at the medicines safety meeting.",
		},
		prefer: map[string][]string{listAgents: {"4"}, listProcess: {"5", "6"}},
	},
	{
		name: "kindness",
		what: []string{
			"a porter noticed a confused patient wandering near the exit and stayed with them until help arrived",
			"the team arranged for a patient at the end of life to spend time outside in the garden",
			"a receptionist recognised a patient in distress and found a quiet room for them",
			"the district nurses arranged an urgent visit for a housebound patient who sounded unwell on the phone",
		},
		why: []string{
			"Staff went beyond their role to keep the patient safe.",
			"The patient and their family said they felt listened to and cared for.",
			"Good teamwork across departments made it possible.",
		},
		done: []string{
			"The family wrote to thank the team.",
			"The manager shared the example with the whole department.",
		},
		prefer: map[string][]string{listAgents: {"10"}, listProcess: {"1", "6"}},
	},
	{
		name: "handover",
		what: []string{
			"a structured handover made sure an allergy was passed on when a patient moved wards",
			"the discharge team checked every medicine with the patient before they left",
			"the ambulance crew gave a clear handover that sped up treatment in the emergency department",
		},
		why: []string{
			"The handover tool was used in full.",
			"The patient understood their medicines and knew who to call with questions.",
		},
		done: []string{
			"The approach is being adopted by other wards.",
		},
		prefer: map[string][]string{listAgents: {"10"}, listProcess: {"8", "9"}},
	},
}

var riskScenarios = []scenario{
	{
		name: "staffing",
		what: []string{
			"only one registered nurse is rostered on nights for the whole ward on several nights each week",
			"there is no cover for the specialist nurse during leave, so referrals wait",
			"the out-of-hours service often has no doctor for part of the night",
		},
		why: []string{
			"Vacancies have been open for months and agency cover is not always found.",
			"Demand has risen while the team has stayed the same size.",
		},
		done: []string{
			"The risk has been raised with the matron and added to the risk register.",
			"Staffing is reviewed at each safety huddle until it improves.",
		},
		prefer: map[string][]string{listRiskThemes: {"1"}, listAgents: {"10"}},
	},
	{
		name: "equipment",
		what: []string{
			"the lift to theatres breaks down often, which delays urgent transfers",
			"oxygen cylinders on the ward are stored without secure holders",
			"the vaccine fridge has no working temperature alarm",
			"there are not enough pressure-relieving mattresses for the patients who need them",
		},
		why: []string{
			"Repairs have been requested several times without a lasting fix.",
			"The budget for replacing equipment has been spent for the year.",
		},
		done: []string{
			"Estates have been asked to assess the problem.",
			"A temporary workaround is in place and staff have been told about it.",
		},
		prefer: map[string][]string{listRiskThemes: {"2", "4", "5"}, listAgents: {"3", "13"}},
	},
	{
		name: "IT",
		what: []string{
			"the electronic record logs staff out during medicine rounds, so doses may be missed",
			"results for patients seen in the community do not reach their practice reliably",
			"two systems hold allergy information and they do not always agree",
		},
		why: []string{
			"The systems were set up separately and are not linked.",
			"A fix has been promised by the supplier but no date has been given.",
		},
		done: []string{
			"Staff have been reminded to check both systems until the fault is fixed.",
		},
		prefer: map[string][]string{listRiskThemes: {"6"}, listAgents: {"9"}},
	},
	{
		name: "medication supply",
		what: []string{
			"a shortage of a common antibiotic means patients are switched to less suitable alternatives",
			"controlled drug stock checks are often late on weekends",
		},
		why: []string{
			"National supply problems have continued for several weeks.",
			"Pharmacy cover at weekends is limited.",
		},
		done: []string{
			"Pharmacy has issued guidance on alternatives.",
		},
		prefer: map[string][]string{listRiskThemes: {"3"}, listAgents: {"4"}},
	},
}

var outcomeScenarios = []scenario{
	{
		name: "readmission",
		what: []string{
			"a patient came back to the emergency department within a week of going home with uncontrolled pain",
			"a patient was readmitted two days after discharge with a wound infection",
		},
		why: []string{
			"It is not yet clear whether anything in the earlier care contributed.",
			"The discharge plan will be reviewed to see whether anything could have been done differently.",
		},
		done: []string{
			"The case will be looked at in the next morbidity review.",
		},
		prefer: map[string][]string{listOutcomes: {"2"}},
	},
	{
		name: "escalation",
		what: []string{
			"a patient on a general ward needed an unplanned admission to intensive care",
			"a crash call was made for a patient who collapsed on the ward",
			"a patient returned to theatre the day after their operation because of bleeding",
		},
		why: []string{
			"The team responded quickly and the patient is now stable.",
			"Fact-finding will check whether earlier signs were missed.",
		},
		done: []string{
			"The case has been passed to the patient safety team for review.",
		},
		prefer: map[string][]string{listOutcomes: {"3", "5", "7"}},
	},
	{
		name: "maternity",
		what: []string{
			"an emergency caesarean section was needed after a prolonged labour",
			"a postpartum haemorrhage needed treatment in theatre",
		},
		why: []string{
			"Mother and baby are both recovering well.",
		},
		done: []string{
			"The case will be discussed at the maternity governance meeting.",
		},
		prefer: map[string][]string{listOutcomes: {"10", "9"}},
	},
}

// settings say where, as the start of a sentence.
var settings = []string{
	"On an acute medical ward",
	"On a surgical ward",
	"In the emergency department",
	"In a community hospital",
	"During a home visit by the district nursing team",
	"In the maternity unit",
	"At a GP practice",
	"In a care home",
	"In the day surgery unit",
	"In the intensive care unit",
	"On a mental health inpatient ward",
	"In an outpatient clinic",
	"During an ambulance transfer between hospitals",
	"On a children's ward",
	"On an older people's ward",
	"In a community pharmacy",
}

// moments say when, read after a setting.
var moments = []string{
	"during the night shift",
	"early in the morning",
	"during the evening medicine round",
	"at the weekend",
	"shortly after admission",
	"just before handover",
	"during visiting time",
	"while the ward was very busy",
	"",
	"",
}

// Other free texts, by the kind of question.
var (
	drugs = []string{
		"enoxaparin", "insulin", "oral morphine solution", "gentamicin", "co-amoxiclav", "warfarin", "paracetamol",
		"levetiracetam", "metformin", "apixaban", "furosemide", "amoxicillin", "oxycodone", "heparin infusion",
	}
	otherAnswers = []string{
		"Not covered by the options given; see the description.",
		"Something else, described in the account of what happened.",
		"Temporary staff covering the shift.",
		"A combination of the options above.",
		"Not sure which option fits best.",
	}
	populations = []string{
		"Older inpatients at risk of falls.",
		"Children attending the emergency department.",
		"Patients on anticoagulant medicines.",
		"Housebound patients cared for by the community team.",
		"Women in labour on the delivery suite.",
		"Patients waiting for planned surgery.",
		"Everyone admitted to the ward out of hours.",
	}
	futureLearning = []string{
		"Share the example at the next team meeting so others can do the same.",
		"Keep using the structured handover tool on every shift.",
		"Make sure new staff learn this approach at induction.",
		"Build the check into the standard checklist so it does not depend on one person.",
		"Recognise the staff involved so that speaking up is encouraged.",
	}
	noReference = []string{"Not yet known.", "Awaiting a reference.", "Not applicable."}
	// outcomes by the severity of harm: none, low, moderate, severe, fatal.
	clinicalOutcomes = [][]string{
		{"No harm came to the patient.", "The patient was checked and was well.", "No injury was found."},
		{"Minor bruising that needed no treatment.", "A short period of extra monitoring was needed.", "Some discomfort, which settled the same day."},
		{"Additional treatment and a longer stay in hospital were needed.", "A return to theatre was needed.", "Antibiotics and extra monitoring were needed for several days."},
		{"Lasting harm is expected.", "Admission to intensive care was needed.", "A major operation was needed as a result."},
		{"The patient died.", "The patient died and the coroner has been informed."},
	}
	// shortNotes answer a one-line question nothing else fits.
	shortNotes = []string{
		"See the description.", "As described above.", "Reviewed by the team.", "No further details.",
	}
)
