package fhir

// The conformance resources: what the API says about itself. Every value
// here is built from the taxonomy and the base URL alone, so the same input
// always gives the same JSON; the handlers marshal what these functions
// return and add nothing.

import (
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/incident/taxonomy"
)

// FHIR facts the conformance resources state.
const (
	confFHIRVersion   = "4.0.1"
	confMediaType     = "application/fhir+json"
	confPublisher     = "PSIMS"
	confBaseEvent     = "http://hl7.org/fhir/StructureDefinition/AdverseEvent"
	confBaseExtension = "http://hl7.org/fhir/StructureDefinition/Extension"
)

// confResourceOf returns the FHIR resource type whose profile is profile
// (see resourceTypeOf). A profile it does not know (a later taxonomy) gets
// the widest context, Element, rather than a wrong one.
func confResourceOf(tax *taxonomy.Taxonomy, profile string) string {
	if rt, ok := resourceTypeOf(tax, profile); ok {
		return rt
	}
	return "Element"
}

// confElementType maps a taxonomy element type to the FHIR type of the
// inner extension's value[x].
var confElementType = map[string]string{
	taxonomy.TypeCode:    "Coding",
	taxonomy.TypeString:  "string",
	taxonomy.TypeBoolean: "boolean",
	taxonomy.TypeInteger: "integer",
	taxonomy.TypeDate:    "date",
	taxonomy.TypeTime:    "time",
}

// confStructureDefinitionURL and confValueSetURL are the canonical URLs of
// PSIMS's own definitions.
func confStructureDefinitionURL(base, id string) string {
	return base + TaxonomyPath + "/StructureDefinition/" + id
}

func confValueSetURL(base, id string) string {
	return base + TaxonomyPath + "/ValueSet/" + id
}

// The code systems keep the national canonical URL, which is what the
// codings of every resource (PSIMS's own included) name as their system;
// PSIMS serves a copy of each at its own address.
func confCodeSystemURL(tax *taxonomy.Taxonomy, id string) string {
	root, _, _ := strings.Cut(tax.ProfileURL, "/StructureDefinition/")
	return root + "/CodeSystem/" + id
}

// confNextVersionURL returns url with its version suffix ("-5") replaced by
// "-6": the name the national service gives the next version of the same
// definition, which PSIMS also accepts. ok is false when url does not end
// in the taxonomy's version.
func confNextVersionURL(tax *taxonomy.Taxonomy, url string) (string, bool) {
	suffix := "-" + tax.Version
	if !strings.HasSuffix(url, suffix) {
		return "", false
	}
	return strings.TrimSuffix(url, suffix) + "-6", true
}

// confName turns an ID such as "level-of-physical-harm-5" into a name a
// computer can use, "LevelOfPhysicalHarm5", as FHIR asks of the name
// element.
func confName(id string) string {
	var b strings.Builder
	for part := range strings.SplitSeq(id, "-") {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]))
		b.WriteString(part[1:])
	}
	return b.String()
}

// confNational says where a definition's national equivalent is and that
// PSIMS accepts it as sent, naming the -6 form too when there is one.
func confNational(tax *taxonomy.Taxonomy, url string) string {
	s := "The national equivalent is " + url + "; PSIMS accepts resources that name it as they send it"
	if next, ok := confNextVersionURL(tax, url); ok {
		s += ", and equally the same name ending in -6 (" + next + ")"
	}
	return s + "."
}

// CapabilityStatement returns the server's CapabilityStatement (FHIR R4,
// JSON-ready value), listing exactly what the API supports: one resource,
// AdverseEvent, read, versioned and searched. base is the service's base URL
// without a trailing slash, software the PSIMS version string and now the
// time stated as the statement's date.
func CapabilityStatement(base string, tax *taxonomy.Taxonomy, software string, now time.Time) any {
	api := base + EventsPath
	return confCapabilityStatement{
		ResourceType: "CapabilityStatement",
		URL:          api + "/metadata",
		Version:      software,
		Name:         "PSIMSAdverseEventAPI",
		Title:        "PSIMS patient safety event API",
		Status:       "active",
		Experimental: false,
		Date:         now.UTC().Truncate(time.Second).Format(time.RFC3339),
		Publisher:    confPublisher,
		Description: "Local risk management systems record patient safety events in PSIMS as FHIR R4 AdverseEvent resources " +
			"shaped on the national LFPSE profile (taxonomy version " + tax.Version + "), and read, version and search " +
			"their organisation's events.",
		Kind: "instance",
		Software: confSoftware{
			Name:    "PSIMS",
			Version: software,
		},
		Implementation: confImplementation{
			Description: "PSIMS patient safety event API",
			URL:         api,
		},
		FHIRVersion: confFHIRVersion,
		Format:      []string{confMediaType},
		Rest: []confRest{{
			Mode: "server",
			Security: confSecurity{
				Description: "Every request carries the organisation's API key, either in the Ocp-Apim-Subscription-Key header " +
					"(as LFPSE clients send it) or as \"Authorization: Bearer <key>\". A key acts for its organisation alone. " +
					"SMART on FHIR and OAuth are not supported. The definitions under " + base + TaxonomyPath +
					" are public and need no key.",
			},
			Resource: []confRestResource{{
				Type:             "AdverseEvent",
				Profile:          confStructureDefinitionURL(base, tax.Profile),
				SupportedProfile: []string{tax.ProfileURL},
				Documentation: "Events are identified by their PSIMS reference number (PSE-XXXX-XXXX). " +
					"An event is read and changed only with a key of the organisation it happened in.",
				Interaction: []confInteraction{
					{Code: "read"},
					{Code: "vread"},
					{Code: "update"},
					{Code: "create"},
					{Code: "history-instance"},
					{Code: "search-type"},
				},
				Versioning:        "versioned-update",
				ReadHistory:       true,
				UpdateCreate:      false,
				ConditionalCreate: false,
				ConditionalRead:   "not-supported",
				ConditionalUpdate: false,
				// R4 codes conditionalDelete (not a boolean): no
				// conditional delete is "not-supported".
				ConditionalDelete: "not-supported",
				SearchParam: []confSearchParam{
					{
						Name:       "date",
						Definition: "http://hl7.org/fhir/SearchParameter/AdverseEvent-date",
						Type:       "date",
						Documentation: "When the event happened (AdverseEvent.date). Takes the prefixes ge, le, gt, lt and eq; " +
							"repeat the parameter for a range.",
					},
					{
						Name:          "_lastUpdated",
						Definition:    "http://hl7.org/fhir/SearchParameter/Resource-lastUpdated",
						Type:          "date",
						Documentation: "When the event was last recorded or changed in PSIMS (meta.lastUpdated), with the same prefixes.",
					},
					{
						Name:          "location.organization",
						Type:          "token",
						Documentation: "The ODS code of the organisation the event happened in.",
					},
					{
						Name:          "_count",
						Type:          "number",
						Documentation: "How many events a page holds: 1 to 100, 20 when not given. Follow the bundle's next link for more.",
					},
				},
			}},
		}},
	}
}

// StructureDefinition returns the StructureDefinition with the given id:
// PSIMS's copy of the national profile (tax.Profile) or of one of its
// extensions (tax.Extensions[i].Profile). ok is false for any other id,
// including the -6 names, which PSIMS accepts on events but does not serve.
func StructureDefinition(base string, tax *taxonomy.Taxonomy, id string) (v any, ok bool) {
	if id == tax.Profile {
		return confProfile(base, tax), true
	}
	for _, x := range tax.Extensions {
		if x.Profile == id {
			return confExtension(base, tax, x), true
		}
	}
	return nil, false
}

// confProfile is the profile: AdverseEvent with one extension slice per
// extension the event itself carries. The extensions of the contained
// resources are defined on their own and name those resources as context.
func confProfile(base string, tax *taxonomy.Taxonomy) confStructureDefinition {
	elements := []confElement{{
		ID:   "AdverseEvent.extension",
		Path: "AdverseEvent.extension",
		Slicing: &confSlicing{
			Discriminator: []confDiscriminator{{Type: "value", Path: "url"}},
			Rules:         "open",
		},
	}}
	for _, x := range tax.Extensions {
		if x.Resource != tax.Profile {
			continue
		}
		elements = append(elements, confElement{
			ID:        "AdverseEvent.extension:" + x.ID,
			Path:      "AdverseEvent.extension",
			SliceName: x.ID,
			Min:       confInt(x.Min),
			Max:       strconv.Itoa(x.Max),
			Type: []confType{{
				Code:    "Extension",
				Profile: []string{confStructureDefinitionURL(base, x.Profile)},
			}},
		})
	}
	return confStructureDefinition{
		ResourceType: "StructureDefinition",
		ID:           tax.Profile,
		URL:          confStructureDefinitionURL(base, tax.Profile),
		Version:      tax.Version,
		Name:         confName(tax.Profile),
		Title:        "Patient safety event",
		Status:       "active",
		Publisher:    confPublisher,
		Description: "A patient safety event recorded in PSIMS, on the LFPSE taxonomy version " + tax.Version +
			": the extensions the event carries. " + confNational(tax, tax.ProfileURL),
		FHIRVersion:    confFHIRVersion,
		Kind:           "resource",
		Abstract:       false,
		Type:           "AdverseEvent",
		BaseDefinition: confBaseEvent,
		Derivation:     "constraint",
		Differential:   confDifferential{Element: elements},
	}
}

// confExtension is one extension: a complex extension whose inner
// extensions are the taxonomy's elements, each named by its element name.
func confExtension(base string, tax *taxonomy.Taxonomy, x taxonomy.Extension) confStructureDefinition {
	elements := []confElement{{
		ID:   "Extension.extension",
		Path: "Extension.extension",
		Slicing: &confSlicing{
			Discriminator: []confDiscriminator{{Type: "value", Path: "url"}},
			Rules:         "closed",
		},
	}}
	for _, e := range tax.Elements {
		if e.Extension != x.ID {
			continue
		}
		slice := "Extension.extension:" + e.Name
		value := confElement{
			ID:   slice + ".value[x]",
			Path: "Extension.extension.value[x]",
			Min:  confInt(1),
			Type: []confType{{Code: confElementType[e.Type]}},
		}
		if e.Type == taxonomy.TypeCode {
			value.Binding = &confBinding{
				Strength: "required",
				ValueSet: confValueSetURL(base, e.CodeList),
			}
		}
		elements = append(elements,
			confElement{
				ID:        slice,
				Path:      "Extension.extension",
				SliceName: e.Name,
				Min:       confInt(e.Min),
				Max:       strconv.Itoa(e.Max),
			},
			confElement{
				ID:       slice + ".url",
				Path:     "Extension.extension.url",
				FixedURI: e.Name,
			},
			value,
		)
	}
	elements = append(elements,
		confElement{
			ID:       "Extension.url",
			Path:     "Extension.url",
			FixedURI: x.URL,
		},
		confElement{
			ID:   "Extension.value[x]",
			Path: "Extension.value[x]",
			Max:  "0",
		},
	)
	resource := confResourceOf(tax, x.Resource)
	carrier := "the event"
	if resource != "AdverseEvent" {
		carrier = "a contained " + resource
	}
	return confStructureDefinition{
		ResourceType: "StructureDefinition",
		ID:           x.Profile,
		URL:          confStructureDefinitionURL(base, x.Profile),
		Version:      tax.Version,
		Name:         x.ID,
		Status:       "active",
		Publisher:    confPublisher,
		Description: "The " + x.ID + " group of answers of the LFPSE taxonomy version " + tax.Version +
			", carried by " + carrier + " (" + strconv.Itoa(x.Min) + " to " + strconv.Itoa(x.Max) + " times). " +
			confNational(tax, x.URL),
		FHIRVersion:    confFHIRVersion,
		Kind:           "complex-type",
		Abstract:       false,
		Context:        []confContextItem{{Type: "element", Expression: resource}},
		Type:           "Extension",
		BaseDefinition: confBaseExtension,
		Derivation:     "constraint",
		Differential:   confDifferential{Element: elements},
	}
}

// ValueSet returns the ValueSet of the code list with the given id, such as
// "level-of-physical-harm-5": the whole of its CodeSystem, or for a list
// whose codes the reference states among its facts, exactly those codes.
// ok is false when there is no such list.
func ValueSet(base string, tax *taxonomy.Taxonomy, id string) (v any, ok bool) {
	l, ok := tax.List(id)
	if !ok {
		return nil, false
	}
	include := confInclude{System: confCodeSystemURL(tax, l.ID)}
	if l.Source == taxonomy.SourceFacts {
		include.Concept = confConcepts(l)
	}
	return confValueSet{
		ResourceType: "ValueSet",
		ID:           l.ID,
		URL:          confValueSetURL(base, l.ID),
		Version:      tax.Version,
		Name:         confName(l.ID),
		Title:        l.Name,
		Status:       "active",
		Publisher:    confPublisher,
		Description:  confListDescription(tax, l),
		Compose:      confCompose{Include: []confInclude{include}},
	}, true
}

// CodeSystem returns the CodeSystem of the code list with the given id,
// with its codes in the list's order. The organisations list holds no
// codes: its codes are the organisations' ODS codes, so its content is
// "not-present". A list whose codes the reference states among its facts is
// a "fragment": the codes it has are right, but there may be more. ok is
// false when there is no such list.
func CodeSystem(base string, tax *taxonomy.Taxonomy, id string) (v any, ok bool) {
	l, ok := tax.List(id)
	if !ok {
		return nil, false
	}
	cs := confCodeSystem{
		ResourceType:  "CodeSystem",
		ID:            l.ID,
		URL:           confCodeSystemURL(tax, l.ID),
		Version:       tax.Version,
		Name:          confName(l.ID),
		Title:         l.Name,
		Status:        "active",
		Publisher:     confPublisher,
		Description:   confListDescription(tax, l),
		CaseSensitive: true,
		ValueSet:      confValueSetURL(base, l.ID),
	}
	switch l.Source {
	case taxonomy.SourceOrganisations:
		cs.Content = "not-present"
	case taxonomy.SourceFacts:
		cs.Content = "fragment"
		cs.Count = confInt(len(l.Codes))
		cs.Concept = confConcepts(l)
	default:
		cs.Content = "complete"
		cs.Count = confInt(len(l.Codes))
		cs.Concept = confConcepts(l)
	}
	return cs, true
}

// confListDescription describes a code list: where its codes come from and
// its national equivalent.
func confListDescription(tax *taxonomy.Taxonomy, l taxonomy.CodeList) string {
	var s string
	switch l.Source {
	case taxonomy.SourceOrganisations:
		s = l.Name + ": the codes are the ODS codes of the organisations PSIMS knows (as in " +
			"https://fhir.nhs.uk/Id/ods-organization-code); they are not listed here."
	case taxonomy.SourceFacts:
		s = l.Name + ": only the codes the national service is known to use; more are added as they become known."
	default:
		s = l.Name + ", as the LFPSE taxonomy version " + tax.Version + " codes it."
	}
	if national, ok := confNationalListURL(tax, l.ID); ok {
		s += " The national value set is " + national + "."
	}
	return s
}

// confNationalListURL returns the national ValueSet URL of the list with the
// given ID, found next to the national profile's URL. ok is false for lists
// without the version suffix, which are not national value sets.
func confNationalListURL(tax *taxonomy.Taxonomy, id string) (string, bool) {
	if !strings.HasSuffix(id, "-"+tax.Version) {
		return "", false
	}
	root, _, found := strings.Cut(tax.ProfileURL, "/StructureDefinition/")
	if !found {
		return "", false
	}
	return root + "/ValueSet/" + id, true
}

// confConcepts returns the list's codes as CodeSystem concepts, in order.
func confConcepts(l taxonomy.CodeList) []confConcept {
	concepts := make([]confConcept, 0, len(l.Codes))
	for _, c := range l.Codes {
		concepts = append(concepts, confConcept(c))
	}
	return concepts
}

// confInt returns a pointer to n, for numbers that must be written even when
// they are zero.
func confInt(n int) *int { return &n }

// The JSON shapes of the conformance resources: only the elements PSIMS
// fills, in the order the FHIR specification lists them.

type confCapabilityStatement struct {
	ResourceType   string             `json:"resourceType"`
	URL            string             `json:"url"`
	Version        string             `json:"version,omitempty"`
	Name           string             `json:"name"`
	Title          string             `json:"title"`
	Status         string             `json:"status"`
	Experimental   bool               `json:"experimental"`
	Date           string             `json:"date"`
	Publisher      string             `json:"publisher"`
	Description    string             `json:"description"`
	Kind           string             `json:"kind"`
	Software       confSoftware       `json:"software"`
	Implementation confImplementation `json:"implementation"`
	FHIRVersion    string             `json:"fhirVersion"`
	Format         []string           `json:"format"`
	Rest           []confRest         `json:"rest"`
}

type confSoftware struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

type confImplementation struct {
	Description string `json:"description"`
	URL         string `json:"url"`
}

type confRest struct {
	Mode     string             `json:"mode"`
	Security confSecurity       `json:"security"`
	Resource []confRestResource `json:"resource"`
}

type confSecurity struct {
	Description string `json:"description"`
}

type confRestResource struct {
	Type              string            `json:"type"`
	Profile           string            `json:"profile"`
	SupportedProfile  []string          `json:"supportedProfile"`
	Documentation     string            `json:"documentation"`
	Interaction       []confInteraction `json:"interaction"`
	Versioning        string            `json:"versioning"`
	ReadHistory       bool              `json:"readHistory"`
	UpdateCreate      bool              `json:"updateCreate"`
	ConditionalCreate bool              `json:"conditionalCreate"`
	ConditionalRead   string            `json:"conditionalRead"`
	ConditionalUpdate bool              `json:"conditionalUpdate"`
	ConditionalDelete string            `json:"conditionalDelete"`
	SearchParam       []confSearchParam `json:"searchParam"`
}

type confInteraction struct {
	Code string `json:"code"`
}

type confSearchParam struct {
	Name          string `json:"name"`
	Definition    string `json:"definition,omitempty"`
	Type          string `json:"type"`
	Documentation string `json:"documentation"`
}

type confStructureDefinition struct {
	ResourceType   string            `json:"resourceType"`
	ID             string            `json:"id"`
	URL            string            `json:"url"`
	Version        string            `json:"version"`
	Name           string            `json:"name"`
	Title          string            `json:"title,omitempty"`
	Status         string            `json:"status"`
	Publisher      string            `json:"publisher"`
	Description    string            `json:"description"`
	FHIRVersion    string            `json:"fhirVersion"`
	Kind           string            `json:"kind"`
	Abstract       bool              `json:"abstract"`
	Context        []confContextItem `json:"context,omitempty"`
	Type           string            `json:"type"`
	BaseDefinition string            `json:"baseDefinition"`
	Derivation     string            `json:"derivation"`
	Differential   confDifferential  `json:"differential"`
}

type confContextItem struct {
	Type       string `json:"type"`
	Expression string `json:"expression"`
}

type confDifferential struct {
	Element []confElement `json:"element"`
}

type confElement struct {
	ID        string       `json:"id"`
	Path      string       `json:"path"`
	SliceName string       `json:"sliceName,omitempty"`
	Slicing   *confSlicing `json:"slicing,omitempty"`
	Min       *int         `json:"min,omitempty"`
	Max       string       `json:"max,omitempty"`
	Type      []confType   `json:"type,omitempty"`
	FixedURI  string       `json:"fixedUri,omitempty"`
	Binding   *confBinding `json:"binding,omitempty"`
}

type confSlicing struct {
	Discriminator []confDiscriminator `json:"discriminator"`
	Rules         string              `json:"rules"`
}

type confDiscriminator struct {
	Type string `json:"type"`
	Path string `json:"path"`
}

type confType struct {
	Code    string   `json:"code"`
	Profile []string `json:"profile,omitempty"`
}

type confBinding struct {
	Strength string `json:"strength"`
	ValueSet string `json:"valueSet"`
}

type confValueSet struct {
	ResourceType string      `json:"resourceType"`
	ID           string      `json:"id"`
	URL          string      `json:"url"`
	Version      string      `json:"version"`
	Name         string      `json:"name"`
	Title        string      `json:"title"`
	Status       string      `json:"status"`
	Publisher    string      `json:"publisher"`
	Description  string      `json:"description"`
	Compose      confCompose `json:"compose"`
}

type confCompose struct {
	Include []confInclude `json:"include"`
}

type confInclude struct {
	System  string        `json:"system"`
	Concept []confConcept `json:"concept,omitempty"`
}

type confCodeSystem struct {
	ResourceType  string        `json:"resourceType"`
	ID            string        `json:"id"`
	URL           string        `json:"url"`
	Version       string        `json:"version"`
	Name          string        `json:"name"`
	Title         string        `json:"title"`
	Status        string        `json:"status"`
	Publisher     string        `json:"publisher"`
	Description   string        `json:"description"`
	CaseSensitive bool          `json:"caseSensitive"`
	ValueSet      string        `json:"valueSet"`
	Content       string        `json:"content"`
	Count         *int          `json:"count,omitempty"`
	Concept       []confConcept `json:"concept,omitempty"`
}

type confConcept struct {
	Code    string `json:"code"`
	Display string `json:"display"`
}
