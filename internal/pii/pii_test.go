package pii

import (
	"strings"
	"testing"
)

func TestNHSCheckDigit(t *testing.T) {
	tests := []struct {
		name   string
		digits string
		valid  bool
	}{
		{"the example from the issue is valid", "9434765919", true},
		{"a check digit one out is invalid", "9434765918", false},
		{"another valid number is valid", "4010232137", true},
		{"a remainder of 0 makes the check digit 0", "9990000050", true},
		{"a remainder of 0 with any other last digit is invalid", "9990000051", false},
		{"a check digit that would be 10 makes the number invalid", "1234567890", false},
		{"the same with any last digit is invalid", "1234567891", false},
		{"ten zeros pass the arithmetic but are a placeholder", "0000000000", false},
		{"ten ones pass the arithmetic but are a placeholder", "1111111111", false},
		{"nine digits are not an NHS number", "943476591", false},
		{"eleven digits are not an NHS number", "94347659190", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := validNHSNumber(tt.digits); got != tt.valid {
				t.Errorf("validNHSNumber(%q) = %v, want %v", tt.digits, got, tt.valid)
			}
		})
	}
}

// found is what a test expects Scan to report: a kind and the exact text.
type found struct {
	kind Kind
	text string
}

// scanned returns Scan's findings as kinds and the text they cover.
func scanned(text string) []found {
	var out []found
	for _, f := range Scan(text) {
		out = append(out, found{f.Kind, text[f.Start:f.End]})
	}
	return out
}

func TestScanFindsIdentifiers(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []found
	}{
		// NHS numbers
		{"a valid NHS number with spaces is found", "NHS number 943 476 5919 on the band", []found{{NHSNumber, "943 476 5919"}}},
		{"a valid NHS number with no label is found", "bloods for 9434765919 rejected", []found{{NHSNumber, "9434765919"}}},
		{"a valid NHS number with hyphens is found", "ref 943-476-5919.", []found{{NHSNumber, "943-476-5919"}}},
		{"a valid NHS number with dots is found", "(943.476.5919)", []found{{NHSNumber, "943.476.5919"}}},
		{"an invalid number labelled NHS number is found", "NHS number: 123 456 7890", []found{{NHSNumber, "123 456 7890"}}},
		{"an invalid number labelled NHS no. is found", "NHS no. 1234567890 typed wrongly", []found{{NHSNumber, "1234567890"}}},
		{"an invalid number after NHS# is found", "NHS#1234567890", []found{{NHSNumber, "1234567890"}}},
		{"an invalid number a few words after NHS number is found", "the NHS number on the band (123 456 7890)", []found{{NHSNumber, "123 456 7890"}}},
		{"an NHS number at the very start is found", "9434765919", []found{{NHSNumber, "9434765919"}}},

		// Postcodes
		{"an A9 9AA postcode is found", "lives at M1 1AE now", []found{{Postcode, "M1 1AE"}}},
		{"an A99 9AA postcode is found", "from M13 9WL", []found{{Postcode, "M13 9WL"}}},
		{"an A9A 9AA postcode is found", "sent to W1A 0AX", []found{{Postcode, "W1A 0AX"}}},
		{"an AA9 9AA postcode is found", "home NR4 7UY", []found{{Postcode, "NR4 7UY"}}},
		{"an AA99 9AA postcode is found", "home CF14 4XW", []found{{Postcode, "CF14 4XW"}}},
		{"an AA9A 9AA postcode is found", "home SW1A 2AA", []found{{Postcode, "SW1A 2AA"}}},
		{"a postcode without its space is found", "home NR47UY.", []found{{Postcode, "NR47UY"}}},
		{"a postcode in lower case is found", "home nr4 7uy", []found{{Postcode, "nr4 7uy"}}},
		{"GIR 0AA is found", "to GIR 0AA", []found{{Postcode, "GIR 0AA"}}},
		{"an outward code labelled as a postcode is found", "postcode NR4 on the form", []found{{Postcode, "NR4"}}},
		{"an outward code and sector labelled as a post code are found", "post code: NR4 7 only", []found{{Postcode, "NR4 7"}}},

		// Dates of birth
		{"a date after DOB is found", "DOB 12/03/1956", []found{{DateOfBirth, "12/03/1956"}}},
		{"a date after D.O.B. is found", "D.O.B.: 1956-03-12", []found{{DateOfBirth, "1956-03-12"}}},
		{"a date after date of birth is found", "date of birth 3rd March 1956", []found{{DateOfBirth, "3rd March 1956"}}},
		{"a date after born on the is found", "born on the 3rd of March 1956", []found{{DateOfBirth, "3rd of March 1956"}}},
		{"a short year after born is found", "born 12 Mar 56", []found{{DateOfBirth, "12 Mar 56"}}},
		{"a month and year after born in are found", "born in March 1956", []found{{DateOfBirth, "March 1956"}}},
		{"a month-first date is found", "date of birth March 12, 1956", []found{{DateOfBirth, "March 12, 1956"}}},
		{"a date with dots and a 2-digit year is found", "dob 12.03.56", []found{{DateOfBirth, "12.03.56"}}},
		{"an American order date is found when only it is real", "DOB 03/25/1956", []found{{DateOfBirth, "03/25/1956"}}},
		{"29 February in a leap year is found", "DOB 29/02/1952", []found{{DateOfBirth, "29/02/1952"}}},
		{"a date after DOB was recorded as is found", "DOB was recorded as 1/2/1950", []found{{DateOfBirth, "1/2/1950"}}},

		// Phone numbers
		{"a landline with a 5-digit code is found", "call 01603 286286", []found{{Phone, "01603 286286"}}},
		{"a landline with a 4-digit code is found", "call 0161 496 0000", []found{{Phone, "0161 496 0000"}}},
		{"a London number is found", "call 020 7946 0000", []found{{Phone, "020 7946 0000"}}},
		{"a mobile is found", "call 07700 900123", []found{{Phone, "07700 900123"}}},
		{"a mobile with +44 is found", "call +44 7700 900123", []found{{Phone, "+44 7700 900123"}}},
		{"a number with +44 (0) is found", "call +44 (0)20 7946 0000", []found{{Phone, "+44 (0)20 7946 0000"}}},
		{"an area code in brackets is found", "call (01603) 286286", []found{{Phone, "(01603) 286286"}}},
		{"a number with hyphens is found", "call 07700-900-123", []found{{Phone, "07700-900-123"}}},
		{"a number without spaces is found", "call 07700900123", []found{{Phone, "07700900123"}}},
		{"a number opening an aside in brackets is found without the bracket", "(07700 900123, daughter)", []found{{Phone, "07700 900123"}}},
		{"a number followed by more digits is found on its own", "0161 496 0000 12", []found{{Phone, "0161 496 0000"}}},

		// Email addresses
		{"an email address is found", "sent to jane.smith@example.com today", []found{{Email, "jane.smith@example.com"}}},
		{"an email address at the end of a sentence is found without the full stop", "sent to jane@example.co.uk.", []found{{Email, "jane@example.co.uk"}}},
		{"an email address in angle brackets is found", "<sam+x@example.org>", []found{{Email, "sam+x@example.org"}}},
		{"an email address after mailto: is found", "mailto:help@example.net", []found{{Email, "help@example.net"}}},

		// Record numbers
		{"a value after hospital number is found", "hospital number K1234567", []found{{RecordNumber, "K1234567"}}},
		{"a value after MRN: is found", "MRN: 4418823", []found{{RecordNumber, "4418823"}}},
		{"a value after a trust code and number is found", "RGT number 123456", []found{{RecordNumber, "123456"}}},
		{"a grouped value after Hosp No. is found", "Hosp No. 123 456 7", []found{{RecordNumber, "123 456 7"}}},
		{"a value after case note number is found", "case note number A123456B", []found{{RecordNumber, "A123456B"}}},
		{"a value after patient ID is found", "patient ID P0098123", []found{{RecordNumber, "P0098123"}}},
		{"a value after M.R.N. is found", "M.R.N. 3344556", []found{{RecordNumber, "3344556"}}},
		{"a value in brackets after hospital no is found", "hospital no (K1234567)", []found{{RecordNumber, "K1234567"}}},

		// Names
		{"a surname after Dr is found", "Dr Smith said", []found{{Name, "Smith"}}},
		{"a surname after Mr is found", "Mr Jones said", []found{{Name, "Jones"}}},
		{"an O' surname after Mrs is found", "Mrs O'Neil fell", []found{{Name, "O'Neil"}}},
		{"a hyphenated first name and a surname after Ms are found", "Ms Anne-Marie Lee was", []found{{Name, "Anne-Marie Lee"}}},
		{"a surname after Prof. is found", "Prof. Kaur was", []found{{Name, "Kaur"}}},
		{"initials and a surname after Dr are found", "Dr J. R. Smith wrote", []found{{Name, "J. R. Smith"}}},
		{"a Mc surname is found", "Mrs McAllister moved", []found{{Name, "McAllister"}}},
		{"a name with letters beyond ASCII is found", "Miss Zoë Harper waited", []found{{Name, "Zoë Harper"}}},
		{"a surname in capitals after a title in capitals is found", "SEEN BY DR OKAFOR AT 14:30", []found{{Name, "OKAFOR"}}},
		{"common words after a name in capitals are left out", "DR PATEL REVIEWED PATIENT", []found{{Name, "PATEL"}}},
		{"a name after Dr. with no space is found", "Dr.Smith wrote", []found{{Name, "Smith"}}},
		{"a name after two titles is found once", "Dr. Prof. Kaur wrote", []found{{Name, "Kaur"}}},
		{"a name after patient name: is found", "patient name: John", []found{{Name, "John"}}},
		{"a name after named is found", "the patient, named Ahmed Khan, was", []found{{Name, "Ahmed Khan"}}},
		{"a name in capitals after Name: is found", "Name: JOHN SMITH", []found{{Name, "JOHN SMITH"}}},
		{"a name after NOK is found", "NOK Jane Smith not told", []found{{Name, "Jane Smith"}}},
		{"a name after his name was is found", "his name was Peter and", []found{{Name, "Peter"}}},
		{"a name after a label and a title is found without the title", "Patient name - Mrs Doris Fielding -", []found{{Name, "Doris Fielding"}}},

		// Several
		{"several kinds are found in order", "Mrs Evans, DOB 02/05/1941, NHS number 943 476 5919, tel 07700 900123, jane@example.com, NR4 7UY",
			[]found{{Name, "Evans"}, {DateOfBirth, "02/05/1941"}, {NHSNumber, "943 476 5919"}, {Phone, "07700 900123"}, {Email, "jane@example.com"}, {Postcode, "NR4 7UY"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scanned(tt.text)
			if !equalFound(got, tt.want) {
				t.Errorf("Scan(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

func TestScanLeavesLookAlikesAlone(t *testing.T) {
	tests := []struct {
		name string
		text string
	}{
		{"drug doses are not identifiers", "Morphine 10 mg, then 2.5mg/kg, then 10 ml of 10 mg/5 ml"},
		{"times are not identifiers", "obs due at 14:30, given at 2 pm, 0800 1200 1600"},
		{"ward and bed numbers are not identifiers", "Ward 10, bed 12, bay 4, side room 2, Ward 7B"},
		{"ODS codes are not identifiers", "RM1, D82044, 07N, RJ1, R1H, RBZ12"},
		{"the date of the incident is not a date of birth", "on 12/03/2024 at 10:00, and on 4 March 2024"},
		{"a date after DOB with other words between is not a date of birth", "DOB checked; 12/03/2024 bloods"},
		{"an impossible date after DOB is not a date of birth", "DOB 31/02/1956"},
		{"amounts are not identifiers", "£1,250.00 and 1,000 ml and 1,234,567 items"},
		{"extension and short numbers are not phone numbers", "ext 4521, bleep 1234, call 111 or 999"},
		{"a 6-digit local number is not a phone number", "internal phone 286286"},
		{"an unlabelled 10-digit number that fails modulus 11 is not an NHS number", "Lot 1234567890 and batch 8871803340"},
		{"ten zeros are not an NHS number", "0000000000"},
		{"a valid NHS number with a digit more in its last group is not an NHS number", "943 476 59191"},
		{"a valid NHS number inside a longer run of digits is not an NHS number", "94347659190"},
		{"a valid NHS number after a letter is part of a code", "X9434765919"},
		{"event references are not identifiers", "PSE-7K2M-9QX4 and INC-2024-00871 and Datix W123456"},
		{"scores and blood pressure are not identifiers", "NEWS 7, NEWS2 9, BP 120/80, GCS 14/15"},
		{"a title before a lower-case word is not a name", "Dr on call was bleeped"},
		{"a title before a common word is not a name", "Mr Men books and Dr On Call rota"},
		{"a title before a single letter is not a name", "Mrs A and Patient X and Mr X"},
		{"a title before a grade is not a name", "Dr FY1 and Dr SHO"},
		{"a title inside a word is not a title", "Drs Mrsa Msc"},
		{"a title before another title is not a name", "Mr Mr Dr. Mrs"},
		{"a bare name label before a drug is not a name", "drug name: Oramorph"},
		{"a label before a lower-case word is not a name", "named nurse and patient name not recorded"},
		{"a label before a common word is not a name", "NOK Informed and NOK Aware"},
		{"lower-case ordinals are not postcodes", "ward b12 3rd floor"},
		{"units that look like inward codes are not postcodes", "A5 5mg, B2 2ml"},
		{"an outward code without a label is not a postcode", "NR4 and LS6 were busy"},
		{"a record label before a short number is not a record number", "patient number 2 in bay 4, unit no 12"},
		{"REF number is not a trust code", "REF number 12345"},
		{"an @ with spaces around it is not an email address", "2 tabs @ night"},
		{"an @ before a domain without a dot is not an email address", "sats@rest and x@localhost"},
		{"empty text is clean", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scanned(tt.text); len(got) != 0 {
				t.Errorf("Scan(%q) = %v, want nothing", tt.text, got)
			}
		})
	}
}

func equalFound(a, b []found) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTidy(t *testing.T) {
	tests := []struct {
		name  string
		lists [][]Finding
		want  []Finding
	}{
		{"nothing gives nil", nil, nil},
		{"lists are merged in order of start", [][]Finding{
			{{Phone, 0, 5}, {Phone, 20, 25}},
			{{Email, 10, 15}},
		}, []Finding{{Phone, 0, 5}, {Email, 10, 15}, {Phone, 20, 25}}},
		{"overlapping findings are merged into the first", [][]Finding{
			{{Name, 0, 10}},
			{{Email, 5, 15}},
		}, []Finding{{Name, 0, 15}}},
		{"a finding inside another is dropped", [][]Finding{
			{{Postcode, 0, 10}},
			{{Postcode, 2, 4}},
		}, []Finding{{Postcode, 0, 10}}},
		{"at the same place the longer wins", [][]Finding{
			{{Postcode, 0, 3}},
			{{Postcode, 0, 7}},
		}, []Finding{{Postcode, 0, 7}}},
		{"at the same place and length the lower rank wins", [][]Finding{
			{{Phone, 0, 10}},
			{{NHSNumber, 0, 10}},
		}, []Finding{{NHSNumber, 0, 10}}},
		{"touching findings are kept apart", [][]Finding{
			{{Name, 0, 5}, {Name, 5, 9}},
		}, []Finding{{Name, 0, 5}, {Name, 5, 9}}},
		{"a list out of order is still sorted", [][]Finding{
			{{Name, 20, 25}, {Name, 0, 5}},
		}, []Finding{{Name, 0, 5}, {Name, 20, 25}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tidy(tt.lists...)
			if len(got) != len(tt.want) {
				t.Fatalf("tidy = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("tidy = %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestScanNeverPanicsOnInvalidUTF8(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []found
	}{
		{"invalid bytes around an NHS number leave its offsets exact", "\xff\xfe 943 476 5919 \xc3(", []found{{NHSNumber, "943 476 5919"}}},
		{"an invalid byte inside a name ends it", "Dr Smi\xffth", []found{{Name, "Smi"}}},
		{"invalid bytes before a title do not hide the name", "\x80Dr Smith", []found{{Name, "Smith"}}},
		{"a cut-off rune after a label is clean", "patient name: \xe2\x80", nil},
		{"only invalid bytes are clean", "\xff\xfe\xfd\xc3\x28\xa0\xa1\xe2\x28\xa1", nil},
		{"a NUL byte is clean", "\x00", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scanned(tt.text); !equalFound(got, tt.want) {
				t.Errorf("Scan(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

func TestScanHugeInputs(t *testing.T) {
	// 256 KB each: far beyond any form, and quick enough under -race.
	const size = 256 << 10
	repeat := func(s string) string { return strings.Repeat(s, size/len(s)) }
	const sentence = "Mrs Evans, NHS number 943 476 5919, fell at 02:15 on Ward 10. "
	tests := []struct {
		name  string
		text  string
		count int
	}{
		{"a long report finds every identifier", repeat(sentence), 2 * (size / len(sentence))},
		{"256 KB of digits and spaces is clean", repeat("1 2 3 4 5 6 7 8 9 "), 0},
		{"256 KB of titles is clean", repeat("Mr Mr Dr. "), 0},
		{"256 KB of @ is clean", repeat("@"), 0},
		{"256 KB of capitals is clean", repeat("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), 0},
		{"256 KB of one lower-case word is clean", repeat("a"), 0},
		{"256 KB of labels without values is clean", repeat("NHS number: DOB: MRN: name: postcode "), 0},
		{"256 KB of zero-width spaces is clean", repeat("\u200b"), 0},
		{"256 KB of spelt-out at and dot is clean", repeat("at dot "), 0},
		{"256 KB of spaced digits is clean", repeat("9 4 3 4 7 6 5 9 1 "), 0},
		{"256 KB of fullwidth NHS numbers finds every one", repeat("９４３ ４７６ ５９１９ "), size / len("９４３ ４７６ ５９１９ ")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Scan(tt.text)
			if len(got) != tt.count {
				t.Fatalf("%d findings, want %d", len(got), tt.count)
			}
			checkFindings(t, tt.text, got)
		})
	}
}

// checkFindings fails the test unless findings are within text, not empty,
// in order of Start and without overlaps.
func checkFindings(t *testing.T, text string, findings []Finding) {
	t.Helper()
	end := 0
	for _, f := range findings {
		if f.Start < end || f.End <= f.Start || f.End > len(text) {
			t.Fatalf("finding %+v is out of order, empty, overlapping or out of bounds (previous end %d, text length %d)", f, end, len(text))
		}
		if f.Kind.Label() == "identifier" {
			t.Fatalf("finding %+v has an unknown kind", f)
		}
		end = f.End
	}
}

func TestDescribeSaysWhereInWordsWithoutTheIdentifier(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		question string
		want     string
	}{
		{"a finding in a one-sentence answer follows the words before it", "The patient's NHS number 943 476 5919 was wrong", "",
			"Remove the NHS number in your answer, after “The patient's NHS number”. Nothing that could identify a person can be recorded"},
		{"a finding in a later sentence names the sentence and how it starts", "He fell. Later that day the patient with NHS number 9434765919 was moved.", "What happened",
			"Remove the NHS number in the 2nd sentence of ‘What happened’, which starts “Later that day the”. Nothing that could identify a person can be recorded"},
		{"a line counts as a sentence", "Ward 4\nBed 2\nCall 07700 900123 for the family", "",
			"Remove the phone number in the 3rd sentence, which starts “Call”. Nothing that could identify a person can be recorded"},
		{"a finding at the start of the answer is placed there", "Patient name: Patel", "What happened",
			"Remove the name in ‘What happened’, after “Patient name:”. Nothing that could identify a person can be recorded"},
		{"the quote stops before another identifier", "Seen. Mr Jones and Mrs Patel fell.", "",
			"Remove the name in the 2nd sentence, which starts “Mr”. Nothing that could identify a person can be recorded"},
		{"the quote stops at a word with digits", "Seen. On 12/03/2026 Dr Smith came.", "",
			"Remove the name in the 2nd sentence, which starts “On”. Nothing that could identify a person can be recorded"},
		{"an identifier at the very start is not quoted", "07700 900123 is the ward phone", "",
			"Remove the phone number at the start of your answer. Nothing that could identify a person can be recorded"},
		{"a word of an identifier is not quoted where it is written without its title", "Smith said that Mr Smith fell.", "",
			"Remove the name at the start of your answer. Nothing that could identify a person can be recorded"},
		{"the 11th sentence is the 11th", strings.Repeat("Fine. ", 10) + "Then Mrs Patel fell.", "",
			"Remove the name in the 11th sentence, which starts “Then Mrs”. Nothing that could identify a person can be recorded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			found := Scan(tt.text)
			if len(found) == 0 {
				t.Fatal("nothing found")
			}
			f := found[len(found)-1]
			if tt.name == "the quote stops before another identifier" {
				f = found[1]
			}
			got := Message(tt.text, f, found, tt.question)
			if got != tt.want {
				t.Errorf("Message = %q, want %q", got, tt.want)
			}
			for _, g := range found {
				if strings.Contains(got, tt.text[g.Start:g.End]) {
					t.Errorf("Message = %q repeats an identifier", got)
				}
			}
			if strings.Contains(got, "character") {
				t.Errorf("Message = %q counts characters", got)
			}
		})
	}
}

func TestDescribeCopesWithFindingsOutsideTheText(t *testing.T) {
	for _, f := range []Finding{{Name, 10, 12}, {Name, -1, 2}} {
		if got := Describe("abc", f); got != "the name at the start of your answer" && got != "the name in your answer, after “abc”" {
			t.Errorf("Describe(%+v) = %q", f, got)
		}
	}
}

func TestKindLabels(t *testing.T) {
	tests := []struct {
		kind Kind
		want string
	}{
		{NHSNumber, "NHS number"},
		{Postcode, "postcode"},
		{DateOfBirth, "date of birth"},
		{Phone, "phone number"},
		{Email, "email address"},
		{RecordNumber, "hospital or medical record number"},
		{Name, "name"},
		{Kind("something else"), "identifier"},
	}
	for _, tt := range tests {
		t.Run("the label of "+string(tt.kind)+" is "+tt.want, func(t *testing.T) {
			if got := tt.kind.Label(); got != tt.want {
				t.Errorf("Label() = %q, want %q", got, tt.want)
			}
		})
	}
}
