package pii

import "strings"

// Word lists for telling names from other words after a title or label.
// Each list is words in lower case between spaces.

// notNames are words that follow a title or label without being a name,
// whatever their case ("Mr Men", "Dr On Call", "NOK Informed").
const notNames = " on in at of the and or to for by with was is are has had men called review" +
	" reviewed informed aware attended contacted bleeped patient patients team registrar" +
	" wife husband partner son daughter mother father brother sister friend carer family" +
	" consultant surgeon anaesthetist nurse doctor practitioner unknown not none withheld" +
	" ed ae icu itu hdu sho gp spr reg mri ecg tbc na "

// abbreviations are words in capitals that follow a title or label
// without being a name ("Dr SHO", "patient name: NOT KNOWN", "Mr MRSA").
const abbreviations = " nhs ct cxr cns anp acp ahp hca rmn rgn odp mdt nok dnacpr dnar resus nbm sob" +
	" mrsa copd covid tia cva dvt uti aki ckd ihd gcs news mews obs prn tto tta ama dna ooh pals" +
	" cqc mhra nice datix steis asap bmi inr crp wcc fbc lft abg vbg vte lmwh picc cvc ngt peg" +
	" ogd ercp ent amu cdu mau sau ccu nicu scbu picu opd ooh dnr known not unk tba "

// ordinaryWords are common words that a name in lower case cannot be,
// and that a capitalised word after the looser labels ("patient",
// "called") cannot be either: function words, common verbs and
// adjectives, roles, departments and services, and the words that follow
// "mr" (modified release, mitral regurgitation) and "ms" (multiple
// sclerosis) in notes.
const ordinaryWords = " a an the this that these those it its he she they them his her their him we" +
	" us our you your i me my on in at of and or but nor so to for from by with without within into" +
	" onto upon over under about after before during since until till via per as than then there" +
	" here when where while who whom whose which what why how all any each every some no not none" +
	" never also only just still yet again already soon now today tonight tomorrow yesterday is" +
	" was are were be been being am has have had having do does did done will would shall should" +
	" can could may might must said came went gave took saw felt thought told rang spoke wrote left" +
	" made knew put set kept found got sent heard met ran let fell sat stood lay slept ate woke" +
	" see seen come go give take tell ring call review assess attend check confirm spelt spelled" +
	" misspelt written given taken shown known done gone kept lost read spent understood mistaken" +
	" held brought caught drawn hidden forgotten chosen broken spoken o'clock" +
	" says wants agrees states denies feels reports complains requests needs thinks knows asks" +
	" tells gets gives takes makes goes comes sees looks seems appears remains refuses declines" +
	" accepts prefers likes keeps continues becomes tolerates understands notes mentions answers" +
	" responds admits expresses worries walks mobilises sits stands lies sleeps eats drinks" +
	" vomits coughs agreed became very quite rather much really too again pls plz thx" +
	" mum dad nan nana gran granny grandad grandma grandpa auntie aunt uncle nephew niece cousin" +
	" happy unhappy busy unavailable available present absent correct incorrect wrong right" +
	" missing same different similar illegible blank unclear unable able fine well unwell stable" +
	" ok okay alert confused drowsy upset angry anxious distressed independent asleep awake away" +
	" off out up down back home please asap urgently later first second last next previous new" +
	" old other another both either neither own such mild moderate severe trace trivial" +
	" significant murmur relapse relapsing flare tablet tablets tab tabs capsule capsules cap caps" +
	" preparation formulation version release dose doses patch patches syrup solution liquid" +
	" injection infusion granules sachet sachets nurse nurses doctor doctors staff team ward bay" +
	" bed side room theatre theatres clinic department unit pharmacy pharmacist physio" +
	" physiotherapist therapist porter porters security switchboard matron sister manager site" +
	" bleep holder outreach radiology lab labs laboratory ambulance paramedic paramedics police" +
	" control crash reception receptionist admin clerk student midwife midwives medics medical" +
	" surgical microbiology haematology oncology cardiology safety transport advice liaison" +
	" experience group controlled information leaflet service services flow record records" +
	" administration access care pathway details identification notes portal survey feedback" +
	" status tracking list centre center story voice panel forum representative participation" +
	" engagement relations journey handling falls dignity transfer discharge admission name" +
	" number id label band wristband sticker tag chart form letter file x y z dob mrn postcode" +
	" address phone telephone tel mobile email age sex gender hospital nhs gp surgery practice "

// The lists as sets, for looking words up quickly.
var (
	notNameSet      = wordSet(notNames)
	abbreviationSet = wordSet(abbreviations)
	ordinarySet     = wordSet(ordinaryWords + notNames + abbreviations)
)

// wordSet returns the words of list as a set.
func wordSet(list string) map[string]bool {
	set := map[string]bool{}
	for _, w := range strings.Fields(list) {
		set[w] = true
	}
	return set
}

// isOrdinary reports whether word, in any case, is one of ordinaryWords,
// notNames or abbreviations.
func isOrdinary(word string) bool { return ordinarySet[strings.ToLower(word)] }

// isAbbreviation reports whether word, in any case, is one of
// abbreviations.
func isAbbreviation(word string) bool { return abbreviationSet[strings.ToLower(word)] }

// verbLike reports whether word, in lower case, ends as most verbs,
// participles and adverbs do ("reviewed", "reviewing", "promptly"), which
// names in lower case after a title seldom do.
func verbLike(word string) bool {
	w := strings.ToLower(word)
	return strings.HasSuffix(w, "ed") || strings.HasSuffix(w, "ing") || strings.HasSuffix(w, "ly")
}

// commonWord reports whether word is in notNames.
func commonWord(word string) bool { return notNameSet[strings.ToLower(word)] }
