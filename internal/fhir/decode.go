package fhir

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/form"
	"github.com/psims/psims/internal/incident/taxonomy"
	"github.com/psims/psims/internal/org"
	"github.com/psims/psims/internal/pii"
	"github.com/psims/psims/internal/textcheck"
)

// maxStringRunes bounds a free-text value of an element the form does not
// ask (the form bounds its own questions' answers).
const maxStringRunes = 5000

// Record is an AdverseEvent as PSIMS keeps it: the event's type and its
// answers by taxonomy element, with the steering answers of the form
// (form.DateKnown and the rest) worked out from the resource.
type Record struct {
	Type    incident.Type
	Answers incident.Answers
	// ID is the resource's id as sent; "" when it had none.
	ID string
	// paths is where each answer came from (by form.FieldOf), and where
	// each extension instance is (by extension ID), for issues.
	paths map[string]string
}

// answered reports whether the record has an answer for field
// (form.FieldOf).
func (r Record) answered(field string) bool {
	element, patient := form.SplitField(field)
	vs := r.Answers[element]
	if patient == 0 {
		return len(vs) > 0
	}
	return patient <= len(vs) && vs[patient-1] != ""
}

// requiredMessage says what is missing: the element by its name in the
// profile, then what the form would say.
func requiredMessage(field, message string) string {
	element, _ := form.SplitField(field)
	name := element[strings.LastIndexByte(element, '.')+1:]
	switch element {
	case form.Description:
		name = "event.text"
	case form.EventDate, form.DateKnown:
		return "Give the date it happened in date (YYYY-MM-DD) or, when only roughly known, the month in the ApproximateDate element of the AdverseEventEstimatedDate extension (YYYY-MM)"
	case form.MayShare:
		name = "DataSharingOptOut"
	}
	return name + " is needed here. " + message
}

// Path is the FHIRPath of the answer named by field (form.FieldOf, or a
// field of incident's problems), or of where it would go.
func (c *Codec) Path(r Record, field string) string { return c.elementPath(field, r.paths) }

// decoding is one resource being read.
type decoding struct {
	c       *Codec
	rec     Record
	issues  []Issue
	byID    map[string]string // contained resources' types by id
	patient []patientInfo
}

// patientInfo is one PatientInformation extension: one patient.
type patientInfo struct {
	sequence int
	values   map[string]string // by element name
	path     string
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// Decode reads an AdverseEvent resource. Every problem found is an issue
// with the FHIRPath of where it is; the record is usable only when there
// are none. Strings are run through the identifier guard wherever they
// are, and a finding is an issue that says what kind of identifier it is
// and where, never what it is.
func (c *Codec) Decode(body []byte) (Record, []Issue) {
	d := &decoding{c: c, rec: Record{Answers: incident.Answers{}, paths: map[string]string{}}, byID: map[string]string{}}
	v, err := readJSON(body)
	if err != nil {
		return Record{}, []Issue{{Severity: severityError, Code: codeStructure, Message: "The body is not a resource PSIMS can read: " + err.Error()}}
	}
	d.guard("AdverseEvent", v)
	if len(d.issues) > 0 {
		return Record{}, d.issues
	}
	root, ok := v.(map[string]any)
	if !ok || root["resourceType"] != typeAdverseEvent {
		return Record{}, []Issue{{Severity: severityError, Code: codeStructure, Expression: "resourceType",
			Message: "Send one AdverseEvent resource: a JSON object with \"resourceType\": \"AdverseEvent\""}}
	}
	d.event(root)
	if len(d.issues) > 0 {
		return Record{}, d.issues
	}
	return d.rec, nil
}

// guard runs the identifier guard, and the check for hidden control
// characters, over every string in v.
func (d *decoding) guard(path string, v any) {
	switch t := v.(type) {
	case string:
		if !textcheck.Valid(t) {
			d.fail(codeValue, path, textcheck.Message("This text"))
			return
		}
		found := pii.Scan(t)
		for _, f := range found {
			d.fail(codeValue, path, pii.Message(t, f, found, ""))
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(t)) {
			d.guard(path+"."+safeName(k), t[k])
		}
	case []any:
		for i, item := range t {
			d.guard(path+"["+strconv.Itoa(i)+"]", item)
		}
	}
}

func (d *decoding) fail(code, path, message string) {
	d.issues = append(d.issues, Issue{Severity: severityError, Code: code, Expression: path, Message: message})
}

// members checks obj has only the members allowed, each unknown one an
// issue.
func (d *decoding) members(path string, obj map[string]any, allowed ...string) {
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if !slices.Contains(allowed, k) {
			d.fail(codeStructure, path+"."+safeName(k), "PSIMS does not take "+safeName(k)+" here. Leave it out")
		}
	}
}

// object returns v as an object, or records that it is not one.
func (d *decoding) object(path string, v any) (map[string]any, bool) {
	obj, ok := v.(map[string]any)
	if !ok {
		d.fail(codeStructure, path, "This must be a JSON object")
	}
	return obj, ok
}

// array returns v as an array, or records that it is not one.
func (d *decoding) array(path string, v any) ([]any, bool) {
	arr, ok := v.([]any)
	if !ok {
		d.fail(codeStructure, path, "This must be a JSON array")
	}
	return arr, ok
}

// str returns v as a non-empty string, or records that it is not one.
func (d *decoding) str(path string, v any) (string, bool) {
	s, ok := v.(string)
	if !ok || strings.TrimSpace(s) == "" {
		d.fail(codeValue, path, "This must be a string with something in it")
		return "", false
	}
	return s, true
}

// event reads the AdverseEvent itself.
func (d *decoding) event(root map[string]any) {
	const p = "AdverseEvent"
	d.members(p, root, "resourceType", "id", "meta", "contained", "extension", "actuality", "event", "subject",
		"date", "location", "recorder", "suspectEntity")
	if v, ok := root["id"]; ok {
		if id, ok := v.(string); ok && idPattern.MatchString(id) {
			d.rec.ID = id
		} else {
			d.fail(codeValue, p+".id", "The id must be 1 to 64 letters, digits, hyphens or full stops")
		}
	}
	if v, ok := root["meta"]; ok {
		d.meta(p+".meta", v)
	}
	if v, ok := root["contained"]; ok {
		d.contained(p+".contained", v)
	}
	if v, ok := root["extension"]; ok {
		d.extensions(p, v, typeAdverseEvent)
	}
	if v, ok := root["actuality"]; ok {
		if s, _ := v.(string); s != "actual" && s != "potential" {
			d.fail(codeValue, p+".actuality", "The actuality must be actual or potential")
		}
	}
	if v, ok := root["event"]; ok {
		d.eventType(p+".event", v)
	} else {
		d.fail(codeRequired, p+".event", "Give the type of event in event.coding: 1 incident, 2 outcome, 3 risk or 4 good care")
	}
	if v, ok := root["date"]; ok {
		d.date(p+".date", v)
	}
	refs := map[string]string{"subject": typePatient, "location": typeLocation, "recorder": typePractitioner}
	for _, k := range slices.Sorted(maps.Keys(refs)) {
		if v, ok := root[k]; ok {
			d.reference(p+"."+k, v, refs[k])
		}
	}
	if v, ok := root["suspectEntity"]; ok {
		if arr, ok := d.array(p+".suspectEntity", v); ok {
			for i, item := range arr {
				ip := p + ".suspectEntity[" + strconv.Itoa(i) + "]"
				if obj, ok := d.object(ip, item); ok {
					d.members(ip, obj, "instance")
					d.reference(ip+".instance", obj["instance"], typeMedication, typeDevice)
				}
			}
		}
	}
	d.patients()
}

// meta reads the resource's meta: the profiles it claims, and the version
// and time a client sends back, which the server decides.
func (d *decoding) meta(path string, v any) {
	obj, ok := d.object(path, v)
	if !ok {
		return
	}
	d.members(path, obj, "profile", "versionId", "lastUpdated")
	if pv, ok := obj["profile"]; ok {
		if arr, ok := d.array(path+".profile", pv); ok {
			for i, item := range arr {
				ip := path + ".profile[" + strconv.Itoa(i) + "]"
				s, _ := item.(string)
				if name, ok := named(s, "StructureDefinition"); !ok || name != unversioned(d.c.tax.Profile) {
					d.fail(codeValue, ip, "PSIMS takes events on the national profile "+d.c.tax.ProfileURL+" only")
				}
			}
		}
	}
}

// contained reads the resources the event contains, and their extensions.
func (d *decoding) contained(path string, v any) {
	arr, ok := d.array(path, v)
	if !ok {
		return
	}
	seenType := map[string]bool{}
	for i, item := range arr {
		ip := path + "[" + strconv.Itoa(i) + "]"
		obj, ok := d.object(ip, item)
		if !ok {
			continue
		}
		rt, _ := obj["resourceType"].(string)
		if _, known := containedIDs[rt]; !known {
			d.fail(codeStructure, ip+".resourceType", "An event contains only Patient, Location, Practitioner, Medication and Device resources")
			continue
		}
		if seenType[rt] {
			d.fail(codeStructure, ip, "An event contains one "+rt+" resource at most; give each patient a PatientInformation extension of the one Patient")
			continue
		}
		seenType[rt] = true
		d.members(ip, obj, "resourceType", "id", "meta", "extension")
		id, ok := obj["id"].(string)
		if !ok || !idPattern.MatchString(id) {
			d.fail(codeValue, ip+".id", "Give each contained resource an id of 1 to 64 letters, digits, hyphens or full stops")
		} else if _, dup := d.byID[id]; dup {
			d.fail(codeValue, ip+".id", "Two contained resources have the same id")
		} else {
			d.byID[id] = rt
		}
		if mv, ok := obj["meta"]; ok {
			if m, ok := d.object(ip+".meta", mv); ok {
				d.members(ip+".meta", m, "profile")
			}
		}
		if ev, ok := obj["extension"]; ok {
			d.extensions(ip, ev, rt)
		}
	}
}

// reference checks a reference to a contained resource of one of types.
func (d *decoding) reference(path string, v any, types ...string) {
	obj, ok := d.object(path, v)
	if !ok {
		return
	}
	d.members(path, obj, "reference")
	ref, _ := obj["reference"].(string)
	id, local := strings.CutPrefix(ref, "#")
	if !local || !slices.Contains(types, d.byID[id]) {
		d.fail(codeValue, path+".reference", "Refer to a contained "+strings.Join(types, " or ")+" resource, as \"#\" and its id")
	}
}

// eventType reads the type of event, and the description in its text.
func (d *decoding) eventType(path string, v any) {
	obj, ok := d.object(path, v)
	if !ok {
		return
	}
	d.members(path, obj, "coding", "text")
	codings, _ := obj["coding"].([]any)
	if len(codings) != 1 {
		d.fail(codeRequired, path+".coding", "Give the type of event as one coding: 1 incident, 2 outcome, 3 risk or 4 good care")
	} else if c, ok := d.coding(path+".coding[0]", codings[0], taxonomy.EventTypeList); ok {
		typ, known := eventTypeCodes[c]
		if !known {
			d.fail(codeCodeInvalid, path+".coding[0].code", "The type of event must be 1 incident, 2 outcome, 3 risk or 4 good care")
		}
		d.rec.Type = typ
	}
	if tv, ok := obj["text"]; ok {
		if s, ok := d.str(path+".text", tv); ok {
			d.rec.Answers[form.Description] = []string{s}
			d.rec.paths[form.Description] = path + ".text"
		}
	}
}

// coding reads a Coding of the list with the given ID, returning its code.
func (d *decoding) coding(path string, v any, list string) (string, bool) {
	obj, ok := d.object(path, v)
	if !ok {
		return "", false
	}
	d.members(path, obj, "system", "code", "display")
	if sv, ok := obj["system"]; ok {
		s, _ := sv.(string)
		if name, ok := named(s, "CodeSystem"); !ok || name != unversioned(list) {
			d.fail(codeValue, path+".system", "The code system must be the national "+list+" list")
			return "", false
		}
	}
	code, ok := obj["code"].(string)
	if !ok || code == "" {
		d.fail(codeRequired, path+".code", "Give the code")
		return "", false
	}
	if dv, ok := obj["display"]; ok {
		if _, ok := dv.(string); !ok {
			d.fail(codeValue, path+".display", "The display must be a string")
		}
	}
	return code, true
}

// date reads when the event happened: a date, or a date and time of which
// the date (as written) is kept.
func (d *decoding) date(path string, v any) {
	s, _ := v.(string)
	day := s
	if len(s) > 10 {
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			day = ""
		} else {
			day = s[:10]
		}
	}
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		d.fail(codeValue, path, "Give the date it happened as YYYY-MM-DD, or a full date and time with its offset")
		return
	}
	d.rec.Answers[form.EventDate] = []string{day}
	d.rec.Answers[form.DateKnown] = []string{"exact"}
	d.rec.paths[form.EventDate] = path
	d.rec.paths[form.DateKnown] = path
}

// extensions reads the extensions of one resource of type rt.
func (d *decoding) extensions(path string, v any, rt string) {
	arr, ok := d.array(path+".extension", v)
	if !ok {
		return
	}
	count := map[string]int{}
	for i, item := range arr {
		ip := path + ".extension[" + strconv.Itoa(i) + "]"
		obj, ok := d.object(ip, item)
		if !ok {
			continue
		}
		d.members(ip, obj, "url", "extension")
		url, _ := obj["url"].(string)
		name, ok := named(url, "StructureDefinition")
		x, known := d.c.extensions[name]
		if !ok || !known {
			d.fail(codeExtension, ip+".url", "PSIMS does not know this extension. Use the extensions of the national profile "+d.c.tax.ProfileURL)
			continue
		}
		if d.c.resourceOf[x.ID] != rt {
			d.fail(codeStructure, ip+".url", "The "+x.ID+" extension belongs on the "+d.c.resourceOf[x.ID]+" resource")
			continue
		}
		count[x.ID]++
		if count[x.ID] > x.Max {
			d.fail(codeStructure, ip, fmt.Sprintf("The %s extension may appear %d times at most", x.ID, x.Max))
			continue
		}
		values := d.inner(ip, obj["extension"], x)
		if x.ID == extPatient {
			info := patientInfo{values: map[string]string{}, path: ip}
			for name, vs := range values {
				info.values[name] = vs[0]
			}
			info.sequence, _ = strconv.Atoi(info.values["PatientSequence"])
			d.patient = append(d.patient, info)
			continue
		}
		d.rec.paths[x.ID] = ip
		for name, vs := range values {
			d.answer(x.ID+"."+name, vs, ip+".extension('"+name+"')")
		}
	}
}

// answer keeps the values of an element not given per patient.
func (d *decoding) answer(element string, vs []string, path string) {
	switch element {
	case elReferenceNumber:
		// The reference is the server's; a client sends it back as it was
		// given, and it is not kept as an answer.
		return
	case elSharingOptOut:
		may := "yes"
		if vs[0] == "yes" {
			may = "no"
		}
		d.rec.Answers[form.MayShare] = []string{may}
		d.rec.paths[form.MayShare] = path
		return
	}
	if element == elApproximateDate {
		if _, exact := d.rec.Answers[form.DateKnown]; !exact {
			d.rec.Answers[form.DateKnown] = []string{"approximate"}
		}
	}
	d.rec.Answers[element] = vs
	d.rec.paths[element] = path
}

// inner reads the elements of one extension instance, as the answers'
// encoded values by element name.
func (d *decoding) inner(path string, v any, x taxonomy.Extension) map[string][]string {
	values := map[string][]string{}
	arr, ok := d.array(path+".extension", v)
	if !ok {
		return values
	}
	elements := d.c.elements[x.ID]
	for i, item := range arr {
		ip := path + ".extension[" + strconv.Itoa(i) + "]"
		obj, ok := d.object(ip, item)
		if !ok {
			continue
		}
		name, _ := obj["url"].(string)
		el, known := elements[name]
		if !known {
			d.fail(codeStructure, ip+".url", "The "+x.ID+" extension has no element of that name. Its elements are named in the national profile")
			continue
		}
		key := "value" + valueType(el.Type)
		d.members(ip, obj, "url", key)
		raw, present := obj[key]
		if !present {
			d.fail(codeRequired, ip+"."+key, "Give the value of "+name+" as "+key)
			continue
		}
		value, ok := d.value(ip+"."+key, raw, el)
		if !ok {
			continue
		}
		if len(values[name]) >= el.Max {
			d.fail(codeStructure, ip, fmt.Sprintf("%s may have %d value%s at most", name, el.Max, plural(el.Max)))
			continue
		}
		if !slices.Contains(values[name], value) {
			values[name] = append(values[name], value)
		}
	}
	for _, el := range d.c.tax.Elements {
		if el.Extension == x.ID && el.Min > 0 && len(values[el.Name]) == 0 {
			d.fail(codeRequired, path+".extension('"+el.Name+"')", "The "+x.ID+" extension needs "+el.Name)
		}
	}
	return values
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// valueType is the FHIR type of an element's value, as in "value" + it.
func valueType(t string) string {
	switch t {
	case taxonomy.TypeCode:
		return "Coding"
	case taxonomy.TypeBoolean:
		return "Boolean"
	case taxonomy.TypeInteger:
		return "Integer"
	case taxonomy.TypeDate:
		return "Date"
	case taxonomy.TypeTime:
		return "Time"
	}
	return "String"
}

// value reads one value of an element as the answers encode it: a code,
// "yes" or "no", a whole number in decimal, a date, a time, or text.
func (d *decoding) value(path string, raw any, el taxonomy.Element) (string, bool) {
	switch el.Type {
	case taxonomy.TypeCode:
		code, ok := d.coding(path, raw, el.CodeList)
		if !ok {
			return "", false
		}
		l := d.c.lists[el.CodeList]
		if l.Source == taxonomy.SourceOrganisations {
			c, err := org.ParseCode(code)
			if err != nil {
				d.fail(codeCodeInvalid, path+".code", "Give an ODS code of an organisation, such as RM1")
				return "", false
			}
			return c.String(), true
		}
		if _, ok := l.Lookup(code); !ok {
			d.fail(codeCodeInvalid, path+".code", "This code is not in the national "+el.CodeList+" list")
			return "", false
		}
		return code, true
	case taxonomy.TypeBoolean:
		b, ok := raw.(bool)
		if !ok {
			d.fail(codeValue, path, "This must be true or false")
			return "", false
		}
		if b {
			return "yes", true
		}
		return "no", true
	case taxonomy.TypeInteger:
		n, ok := raw.(json.Number)
		i, err := strconv.ParseInt(string(n), 10, 32)
		if !ok || err != nil {
			d.fail(codeValue, path, "This must be a whole number")
			return "", false
		}
		return strconv.FormatInt(i, 10), true
	case taxonomy.TypeDate:
		s, _ := raw.(string)
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			d.fail(codeValue, path, "This must be a date as YYYY-MM-DD")
			return "", false
		}
		return s, true
	case taxonomy.TypeTime:
		s, _ := raw.(string)
		if _, err := time.Parse(time.TimeOnly, s); err != nil {
			d.fail(codeValue, path, "This must be a time as hh:mm:ss")
			return "", false
		}
		return s, true
	}
	s, ok := d.str(path, raw)
	if !ok {
		return "", false
	}
	if n := utf8.RuneCountInString(s); n > maxStringRunes {
		d.fail(codeTooLong, path, fmt.Sprintf("This text must be %d characters or fewer; it has %d", maxStringRunes, n))
		return "", false
	}
	return s, true
}

// patients turns the PatientInformation extensions into the form's
// answers given per patient, in order of PatientSequence.
func (d *decoding) patients() {
	ps := d.patient
	slices.SortStableFunc(ps, func(a, b patientInfo) int { return a.sequence - b.sequence })
	for i, p := range ps {
		if p.sequence != i+1 {
			d.fail(codeValue, p.path+".extension('PatientSequence')",
				"Number the patients 1, 2, 3 and so on in PatientSequence, each once, with none left out")
			return
		}
	}
	n := len(ps)
	d.rec.Answers[form.PatientCount] = []string{strconv.Itoa(n)}
	if n == 0 {
		return
	}
	for _, el := range d.c.tax.Elements {
		if el.Extension != extPatient || el.ID == elPatientSequence {
			continue
		}
		vs := make([]string, n)
		some := false
		for i, p := range ps {
			vs[i] = p.values[el.Name]
			some = some || vs[i] != ""
			d.rec.paths[form.FieldOf(el.ID, i+1)] = p.path + ".extension('" + el.Name + "')"
		}
		if some {
			d.rec.Answers[el.ID] = vs
		}
	}
	known := make([]string, n)
	for i, p := range ps {
		switch {
		case p.values["AgeAtTimeOfIncidentDays"] != "":
			known[i] = "exact"
		case p.values["AgeBracket"] != "":
			known[i] = "estimated"
		default:
			known[i] = "unknown"
		}
		d.rec.paths[form.FieldOf(form.AgeKnown, i+1)] = p.path + ".extension('AgeAtTimeOfIncidentDays')"
	}
	d.rec.Answers[form.AgeKnown] = known
}
