package fhir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/form"
	"github.com/psims/psims/internal/incident/taxonomy"
)

// Snapshot is one version of an event, as a resource shows it.
type Snapshot struct {
	Reference incident.Reference
	Type      incident.Type
	Version   int
	Updated   time.Time
	Answers   incident.Answers
}

// The JSON of the resources PSIMS writes, in FHIR's order of elements.
type adverseEvent struct {
	ResourceType  string          `json:"resourceType"`
	ID            string          `json:"id,omitempty"`
	Meta          meta            `json:"meta"`
	Contained     []contained     `json:"contained"`
	Extension     []extension     `json:"extension,omitempty"`
	Actuality     string          `json:"actuality"`
	Event         codeableConcept `json:"event"`
	Subject       reference       `json:"subject"`
	Date          string          `json:"date,omitempty"`
	Location      reference       `json:"location"`
	Recorder      reference       `json:"recorder"`
	SuspectEntity []suspectEntity `json:"suspectEntity,omitempty"`
}

type meta struct {
	VersionID   string   `json:"versionId"`
	LastUpdated string   `json:"lastUpdated"`
	Profile     []string `json:"profile"`
}

type contained struct {
	ResourceType string      `json:"resourceType"`
	ID           string      `json:"id"`
	Extension    []extension `json:"extension,omitempty"`
}

type extension struct {
	URL          string      `json:"url"`
	Extension    []extension `json:"extension,omitempty"`
	ValueCoding  *coding     `json:"valueCoding,omitempty"`
	ValueString  *string     `json:"valueString,omitempty"`
	ValueBoolean *bool       `json:"valueBoolean,omitempty"`
	ValueInteger *int64      `json:"valueInteger,omitempty"`
	ValueDate    string      `json:"valueDate,omitempty"`
	ValueTime    string      `json:"valueTime,omitempty"`
}

type coding struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display,omitempty"`
}

type codeableConcept struct {
	Coding []coding `json:"coding"`
	Text   string   `json:"text,omitempty"`
}

type reference struct {
	Reference string `json:"reference"`
}

type suspectEntity struct {
	Instance reference `json:"instance"`
}

// Encode writes one version of an event as an AdverseEvent of the national
// profile, with the national addresses of extensions and code systems, the
// reference in the ReferenceNumber extension and whether it may be shared
// in DataSharingOptOut.
func (c *Codec) Encode(s Snapshot) ([]byte, error) {
	return marshal(c.resource(s))
}

// resource builds the resource of a snapshot.
func (c *Codec) resource(s Snapshot) adverseEvent {
	a := s.Answers
	ae := adverseEvent{ResourceType: typeAdverseEvent, ID: string(s.Reference),
		Meta: meta{VersionID: strconv.Itoa(s.Version), LastUpdated: s.Updated.UTC().Format(time.RFC3339Nano),
			Profile: []string{c.tax.ProfileURL}},
		Actuality: "actual",
		Event: codeableConcept{Coding: []coding{{System: c.systemURL(taxonomy.EventTypeList), Code: codeOfType(s.Type),
			Display: eventTypeDisplay[s.Type]}}, Text: first(a, form.Description)},
		Date: first(a, form.EventDate),
	}
	if s.Type == incident.Risk {
		ae.Actuality = "potential"
	}
	byResource := map[string][]extension{}
	for _, x := range c.tax.Extensions {
		rt := c.resourceOf[x.ID]
		if x.ID == extPatient {
			byResource[rt] = append(byResource[rt], c.patientExtensions(x, a)...)
			continue
		}
		inner := c.innerExtensions(x, a)
		if x.ID == extReference {
			// A resource not yet stored (as a client would send it) has
			// no reference.
			if ref := string(s.Reference); ref != "" {
				inner = append([]extension{{URL: "ReferenceNumber", ValueString: &ref}}, inner...)
			}
			optOut := first(a, form.MayShare) == "no"
			inner = append(inner, extension{URL: "DataSharingOptOut", ValueBoolean: &optOut})
		}
		if len(inner) > 0 {
			byResource[rt] = append(byResource[rt], extension{URL: x.URL, Extension: inner})
		}
	}
	ae.Extension = byResource[typeAdverseEvent]
	for _, rt := range containedOrder {
		exts := byResource[rt]
		optional := rt == typeMedication || rt == typeDevice
		if optional && len(exts) == 0 {
			continue
		}
		ae.Contained = append(ae.Contained, contained{ResourceType: rt, ID: containedIDs[rt], Extension: exts})
		if optional {
			ae.SuspectEntity = append(ae.SuspectEntity, suspectEntity{Instance: reference{Reference: "#" + containedIDs[rt]}})
		}
	}
	ae.Subject = reference{Reference: "#" + containedIDs[typePatient]}
	ae.Location = reference{Reference: "#" + containedIDs[typeLocation]}
	ae.Recorder = reference{Reference: "#" + containedIDs[typePractitioner]}
	return ae
}

// patientExtensions are the PatientInformation extensions: one a patient.
func (c *Codec) patientExtensions(x taxonomy.Extension, a incident.Answers) []extension {
	n, _ := strconv.Atoi(first(a, form.PatientCount))
	for _, el := range c.tax.Elements {
		if el.Extension == x.ID {
			n = max(n, len(a[el.ID]))
		}
	}
	var out []extension
	for p := 1; p <= n; p++ {
		seq := int64(p)
		inner := []extension{}
		for _, el := range c.tax.Elements {
			if el.Extension != x.ID {
				continue
			}
			if el.ID == elPatientSequence {
				inner = append(inner, extension{URL: el.Name, ValueInteger: &seq})
				continue
			}
			if vs := a[el.ID]; p <= len(vs) && vs[p-1] != "" {
				inner = append(inner, c.valueExtension(el, vs[p-1]))
			}
		}
		out = append(out, extension{URL: x.URL, Extension: inner})
	}
	return out
}

// innerExtensions are the elements of one extension instance with
// answers, in the profile's order.
func (c *Codec) innerExtensions(x taxonomy.Extension, a incident.Answers) []extension {
	var out []extension
	for _, el := range c.tax.Elements {
		if el.Extension != x.ID || el.ID == elReferenceNumber || el.ID == elSharingOptOut {
			continue
		}
		for _, v := range a[el.ID] {
			if v != "" {
				out = append(out, c.valueExtension(el, v))
			}
		}
	}
	return out
}

// valueExtension is one element's value, typed as the profile says.
func (c *Codec) valueExtension(el taxonomy.Element, v string) extension {
	e := extension{URL: el.Name}
	switch el.Type {
	case taxonomy.TypeCode:
		l := c.lists[el.CodeList]
		cd := coding{System: c.systemURL(el.CodeList), Code: v}
		if code, ok := l.Lookup(v); ok {
			cd.Display = code.Display
		}
		e.ValueCoding = &cd
	case taxonomy.TypeBoolean:
		b := v == "yes"
		e.ValueBoolean = &b
	case taxonomy.TypeInteger:
		n, _ := strconv.ParseInt(v, 10, 64)
		e.ValueInteger = &n
	case taxonomy.TypeDate:
		e.ValueDate = v
	case taxonomy.TypeTime:
		e.ValueTime = v
	default:
		s := v
		e.ValueString = &s
	}
	return e
}

// first is the first value of an answer, or "".
func first(a incident.Answers, element string) string {
	if vs := a[element]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// marshal writes v as JSON without escaping HTML characters, which FHIR
// text keeps as they are.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("fhir: encode: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
