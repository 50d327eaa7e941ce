package fhir

import (
	"fmt"
	"strings"

	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/form"
	"github.com/psims/psims/internal/incident/taxonomy"
)

// The resource types of the profile: the event, and those it contains.
const (
	typeAdverseEvent = "AdverseEvent"
	typePatient      = "Patient"
	typeLocation     = "Location"
	typePractitioner = "Practitioner"
	typeMedication   = "Medication"
	typeDevice       = "Device"
)

// The ids PSIMS gives the resources an event contains.
var containedIDs = map[string]string{
	typePatient: "patient", typeLocation: "location", typePractitioner: "practitioner",
	typeMedication: "medication", typeDevice: "device",
}

// containedOrder is the order contained resources are written in.
var containedOrder = []string{typePatient, typeLocation, typePractitioner, typeMedication, typeDevice}

// Elements the codec treats apart from the rest: they carry what the
// record is, not an answer to a question.
const (
	elReferenceNumber = "AdverseEventReferenceMetadata.ReferenceNumber"
	elSharingOptOut   = "AdverseEventReferenceMetadata.DataSharingOptOut"
	elPatientSequence = "PatientInformation.PatientSequence"
	elAgeDays         = "PatientInformation.AgeAtTimeOfIncidentDays"
	elApproximateDate = "AdverseEventEstimatedDate.ApproximateDate"
	extPatient        = "PatientInformation"
	extReference      = "AdverseEventReferenceMetadata"
)

// eventTypeCodes are the codes of the national event-type list. The
// reference states incident (1) and good care (4); outcome (2) and risk
// (3) follow the order the national form offers them in.
var eventTypeCodes = map[string]incident.Type{"1": incident.Incident, "2": incident.Outcome, "3": incident.Risk, "4": incident.GoodCare}

// eventTypeDisplay names the codes of eventTypeCodes.
var eventTypeDisplay = map[incident.Type]string{incident.Incident: "Incident", incident.Outcome: "Outcome",
	incident.Risk: "Risk", incident.GoodCare: "Good care"}

// codeOfType is the event-type code of t.
func codeOfType(t incident.Type) string {
	for code, typ := range eventTypeCodes {
		if typ == t {
			return code
		}
	}
	return ""
}

// Codec turns AdverseEvent resources into records of answers and events
// back into resources, on the national taxonomy.
type Codec struct {
	tax *taxonomy.Taxonomy
	// national is the base of the national taxonomy's addresses, such as
	// "https://psims-uat.azure-api.net/taxonomy/fhir": resources PSIMS
	// writes use the national addresses, as LFPSE clients expect.
	national string
	// extensions are the profile's extensions by name without version
	// ("adverse-event-agent"); elements are each extension's elements by
	// name.
	extensions map[string]taxonomy.Extension
	elements   map[string]map[string]taxonomy.Element
	lists      map[string]taxonomy.CodeList
	// resourceOf is the resource type carrying each extension, by ID.
	resourceOf map[string]string
}

// NewCodec returns a codec on the taxonomy.
func NewCodec(tax *taxonomy.Taxonomy) (*Codec, error) {
	i := strings.Index(tax.ProfileURL, "/StructureDefinition/")
	if i < 0 {
		return nil, fmt.Errorf("fhir: the taxonomy's profile URL %q has no /StructureDefinition/", tax.ProfileURL)
	}
	c := &Codec{tax: tax, national: tax.ProfileURL[:i], extensions: map[string]taxonomy.Extension{},
		elements: map[string]map[string]taxonomy.Element{}, lists: map[string]taxonomy.CodeList{}, resourceOf: map[string]string{}}
	for _, x := range tax.Extensions {
		c.extensions[unversioned(x.Profile)] = x
		c.elements[x.ID] = map[string]taxonomy.Element{}
		rt, ok := resourceTypeOf(tax, x.Resource)
		if !ok {
			return nil, fmt.Errorf("fhir: no resource type for the profile %q", x.Resource)
		}
		c.resourceOf[x.ID] = rt
	}
	for _, el := range tax.Elements {
		c.elements[el.Extension][el.Name] = el
	}
	for _, l := range tax.CodeLists {
		c.lists[l.ID] = l
	}
	return c, nil
}

// resourceTypeOf names the resource type of a profile of the taxonomy:
// AdverseEvent for the event's own, and "adverse-event-patient-5" and the
// like for the resources it contains. ok is false for any other.
func resourceTypeOf(tax *taxonomy.Taxonomy, profile string) (rt string, ok bool) {
	if profile == tax.Profile {
		return typeAdverseEvent, true
	}
	for _, rt := range containedOrder {
		if unversioned(profile) == "adverse-event-"+strings.ToLower(rt) {
			return rt, true
		}
	}
	return "", false
}

// unversioned is a profile or list ID without its version: "-5", or "-6"
// as the national service's later profiles name the same things.
func unversioned(id string) string {
	for _, v := range []string{"-5", "-6"} {
		if s, ok := strings.CutSuffix(id, v); ok {
			return s
		}
	}
	return id
}

// named returns the part of a canonical URL after kind ("StructureDefinition",
// "CodeSystem" or "ValueSet"), without version: ok is false when the URL is
// not an http(s) address of a FHIR taxonomy.
func named(url, kind string) (string, bool) {
	if !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://") {
		return "", false
	}
	_, name, ok := strings.Cut(url, "/taxonomy/fhir/"+kind+"/")
	if !ok || name == "" || strings.ContainsAny(name, "/?#") {
		return "", false
	}
	return unversioned(name), true
}

// systemURL is the national address of a code list's code system, as
// every coding PSIMS writes names it.
func (c *Codec) systemURL(list string) string { return c.national + "/CodeSystem/" + list }

// elementPath is where an answer is, or would be, in a resource, for an
// issue: a FHIRPath using the extension() function of FHIR's FHIRPath.
func (c *Codec) elementPath(field string, seen map[string]string) string {
	if p, ok := seen[field]; ok {
		return p
	}
	element, patient := form.SplitField(field)
	switch element {
	case form.DateKnown, form.EventDate:
		return "AdverseEvent.date"
	case form.Description:
		return "AdverseEvent.event.text"
	case form.PatientCount:
		return "AdverseEvent.contained.ofType(Patient)"
	case form.MayShare:
		return c.elementPath(elSharingOptOut, seen)
	case form.AgeKnown:
		return c.elementPath(form.FieldOf(elAgeDays, patient), seen)
	case "type":
		return "AdverseEvent.event.coding"
	case "organisation", "org":
		return c.elementPath(incident.OrganisationField, seen)
	}
	el, ok := c.tax.Element(element)
	if !ok {
		return ""
	}
	x := c.extensionOf(el)
	if p, ok := seen[x.ID]; ok {
		return p + ".extension('" + el.Name + "')"
	}
	base := "AdverseEvent"
	if rt := c.resourceOf[x.ID]; rt != typeAdverseEvent {
		base = "AdverseEvent.contained.ofType(" + rt + ")"
	}
	return base + ".extension('" + x.URL + "').extension('" + el.Name + "')"
}

// extensionOf is the extension an element belongs to.
func (c *Codec) extensionOf(el taxonomy.Element) taxonomy.Extension {
	for _, x := range c.tax.Extensions {
		if x.ID == el.Extension {
			return x
		}
	}
	return taxonomy.Extension{}
}
