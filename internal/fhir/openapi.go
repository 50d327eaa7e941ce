package fhir

// The OpenAPI document of the API. It describes the endpoints the handlers
// serve and nothing more; the FHIR resources are described loosely (their
// main properties, anything else allowed), since the FHIR specification
// and the StructureDefinitions are where their full shape lives.

import (
	"bytes"
	"encoding/json"
)

// oaReferencePattern is the shape of a PSIMS reference number: "PSE-" and
// two groups of four characters from the reference alphabet (no 0, 1, I, L,
// O or U), as incident.NewReference makes them.
const oaReferencePattern = `^PSE-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}$`

// OpenAPI returns the OpenAPI 3.1 document of the API as indented JSON, with
// servers[0].url = base (the service's base URL, no trailing slash). The
// same base always gives the same bytes.
func OpenAPI(base string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(oaDocumentFor(base)); err != nil {
		// The document is plain structs, maps, strings and numbers:
		// encoding it cannot fail, and the tests encode it.
		panic("fhir: encoding the OpenAPI document: " + err.Error())
	}
	return buf.Bytes()
}

// oaDocumentFor builds the document.
func oaDocumentFor(base string) oaDocument {
	api := EventsPath
	defs := TaxonomyPath
	keyed := []oaSecurityRequirement{{"subscriptionKey": {}}, {"bearerKey": {}}}
	public := []oaSecurityRequirement{}

	fhirErrors := func(codes ...string) map[string]oaResponse {
		r := map[string]oaResponse{}
		for _, c := range codes {
			r[c] = oaRef("#/components/responses/" + oaErrorResponses[c].name)
		}
		return r
	}
	with := func(r map[string]oaResponse, code string, resp oaResponse) map[string]oaResponse {
		r[code] = resp
		return r
	}
	definition := func(kind, example string) *oaPathItem {
		return &oaPathItem{Get: &oaOperation{
			Tags:        []string{"Definitions"},
			Summary:     "Read a " + kind,
			Description: "PSIMS's own " + kind + " of the LFPSE taxonomy, by id (such as the ids in the taxonomy's URLs). Needs no key.",
			OperationID: "read" + kind,
			Security:    &public,
			Parameters: []oaParameter{{
				Name:        "id",
				In:          "path",
				Description: "The " + kind + "'s id, such as " + example + ".",
				Required:    true,
				// A FHIR id.
				Schema: oaSchema{"type": "string", "pattern": `^[A-Za-z0-9\-.]{1,64}$`},
			}},
			Responses: with(fhirErrors("404", "406"), "200", oaFHIRResponse("The "+kind+".", "Resource", nil)),
		}}
	}

	return oaDocument{
		OpenAPI: "3.1.0",
		Info: oaInfo{
			Title:   "PSIMS patient safety event API",
			Version: "1.0",
			Description: "A FHIR R4 API through which local risk management systems record patient safety events in PSIMS, " +
				"compatible with the LFPSE AdverseEvent API. Events are AdverseEvent resources on the profile " +
				"patient-safety-adverse-event-5 (see /taxonomy/fhir/StructureDefinition/patient-safety-adverse-event-5), " +
				"sent and returned as application/fhir+json.\n\n" +
				"Every call under /adverse-event/fhir needs the organisation's API key, in the Ocp-Apim-Subscription-Key header " +
				"or as Authorization: Bearer <key>. The definitions under /taxonomy/fhir need none.\n\n" +
				"Each write makes a new version: the ETag header carries it as W/\"n\". Send If-Match with the version you read " +
				"to update only that version. Errors come back as an OperationOutcome. A method a path does not list gets 405; " +
				"an Accept header that excludes application/fhir+json gets 406.",
		},
		Servers:  []oaServer{{URL: base, Description: "This PSIMS service"}},
		Security: keyed,
		Tags: []oaTag{
			{Name: "AdverseEvent", Description: "Recording, reading and searching patient safety events."},
			{Name: "Conformance", Description: "What the API supports."},
			{Name: "Definitions", Description: "The profile, extensions, value sets and code systems of the taxonomy."},
		},
		Paths: map[string]*oaPathItem{
			api + "/metadata": {Get: &oaOperation{
				Tags:        []string{"Conformance"},
				Summary:     "Read the CapabilityStatement",
				Description: "What the API supports: the AdverseEvent interactions, search parameters and profiles.",
				OperationID: "readMetadata",
				Security:    &public,
				Responses:   with(fhirErrors("406"), "200", oaFHIRResponse("The CapabilityStatement.", "Resource", nil)),
			}},
			api + "/openapi.json": {Get: &oaOperation{
				Tags:        []string{"Conformance"},
				Summary:     "Read this OpenAPI document",
				OperationID: "readOpenAPI",
				Security:    &public,
				Responses: with(fhirErrors("406"), "200", oaResponse{
					Description: "This document.",
					Content:     map[string]oaMediaType{"application/json": {Schema: oaSchema{"type": "object"}}},
				}),
			}},
			api + "/AdverseEvent": {
				Get: &oaOperation{
					Tags:    []string{"AdverseEvent"},
					Summary: "Search the organisation's events",
					Description: "Returns a Bundle of type searchset holding the key's organisation's events that match, " +
						"with a self link and, when there are more, a next link to follow as given.",
					OperationID: "searchAdverseEvent",
					Parameters: []oaParameter{
						{Ref: "#/components/parameters/date"},
						{Ref: "#/components/parameters/lastUpdated"},
						{Ref: "#/components/parameters/organization"},
						{Ref: "#/components/parameters/count"},
					},
					Responses: with(fhirErrors("400", "401", "403", "406", "429"), "200", oaFHIRResponse("The matching events.", "Bundle", nil)),
				},
				Post: &oaOperation{
					Tags:    []string{"AdverseEvent"},
					Summary: "Record an event",
					Description: "Records a new event for the key's organisation. The response holds the stored event with its id " +
						"(its reference number), meta.versionId 1 and its ReferenceNumber extension.",
					OperationID: "createAdverseEvent",
					RequestBody: oaEventBody("The event to record."),
					Responses: with(fhirErrors("400", "401", "403", "406", "413", "415", "422", "429"), "201",
						oaFHIRResponse("Recorded: the stored event.", "AdverseEvent", map[string]oaRefOnly{
							"Location": {Ref: "#/components/headers/Location"},
							"ETag":     {Ref: "#/components/headers/ETag"},
						})),
				},
			},
			api + "/AdverseEvent/{id}": {
				Parameters: []oaParameter{{Ref: "#/components/parameters/id"}},
				Get: &oaOperation{
					Tags:        []string{"AdverseEvent"},
					Summary:     "Read an event",
					Description: "The current version of the event.",
					OperationID: "readAdverseEvent",
					Responses: with(fhirErrors("401", "404", "406", "429"), "200",
						oaFHIRResponse("The event.", "AdverseEvent", map[string]oaRefOnly{"ETag": {Ref: "#/components/headers/ETag"}})),
				},
				Put: &oaOperation{
					Tags:    []string{"AdverseEvent"},
					Summary: "Amend an event",
					Description: "Records a new version of an existing event (an update never creates one). With If-Match, " +
						"the update applies only when the event is still at that version; otherwise 412.",
					OperationID: "updateAdverseEvent",
					Parameters:  []oaParameter{{Ref: "#/components/parameters/ifMatch"}},
					RequestBody: oaEventBody("The event as it should now be; its id must be the one in the path."),
					Responses: with(fhirErrors("400", "401", "404", "406", "409", "412", "413", "415", "422", "429"), "200",
						oaFHIRResponse("Amended: the new version.", "AdverseEvent", map[string]oaRefOnly{"ETag": {Ref: "#/components/headers/ETag"}})),
				},
			},
			api + "/AdverseEvent/{id}/_history": {
				Parameters: []oaParameter{{Ref: "#/components/parameters/id"}},
				Get: &oaOperation{
					Tags:        []string{"AdverseEvent"},
					Summary:     "Read an event's versions",
					Description: "A Bundle of type history holding every version of the event, newest first.",
					OperationID: "historyAdverseEvent",
					Responses:   with(fhirErrors("401", "404", "406", "429"), "200", oaFHIRResponse("The versions.", "Bundle", nil)),
				},
			},
			api + "/AdverseEvent/{id}/_history/{vid}": {
				Parameters: []oaParameter{{Ref: "#/components/parameters/id"}, {Ref: "#/components/parameters/vid"}},
				Get: &oaOperation{
					Tags:        []string{"AdverseEvent"},
					Summary:     "Read one version of an event",
					OperationID: "vreadAdverseEvent",
					Responses: with(fhirErrors("401", "404", "406", "429"), "200",
						oaFHIRResponse("That version of the event.", "AdverseEvent", map[string]oaRefOnly{"ETag": {Ref: "#/components/headers/ETag"}})),
				},
			},
			defs + "/StructureDefinition/{id}": definition("StructureDefinition", "patient-safety-adverse-event-5"),
			defs + "/ValueSet/{id}":            definition("ValueSet", "level-of-physical-harm-5"),
			defs + "/CodeSystem/{id}":          definition("CodeSystem", "level-of-physical-harm-5"),
		},
		Components: oaComponents{
			Schemas:         oaSchemas(),
			Responses:       oaErrorResponseComponents(),
			Parameters:      oaParameters(),
			Headers:         oaHeaders(),
			SecuritySchemes: oaSecuritySchemes(),
		},
	}
}

// oaErrorResponses names and describes each error status the API returns.
var oaErrorResponses = map[string]struct{ name, description string }{
	"400": {"BadRequest", "The body is not well-formed JSON or not a valid AdverseEvent, or a search parameter is malformed."},
	"401": {"Unauthorized", "No API key was sent, or the key is unknown, revoked or expired."},
	"403": {"Forbidden", "The key's organisation is not the event's."},
	"404": {"NotFound", "There is no such event, version or definition."},
	"405": {"MethodNotAllowed", "The path does not support this method."},
	"406": {"NotAcceptable", "The Accept header does not allow application/fhir+json."},
	"409": {"Conflict", "The event was changed by another request at the same time; read it again and retry."},
	"412": {"PreconditionFailed", "If-Match does not name the event's current version."},
	"413": {"PayloadTooLarge", "The body is over 1 MB."},
	"415": {"UnsupportedMediaType", "The body's Content-Type is not application/fhir+json."},
	"422": {"Unprocessable", "The event breaks a business rule, uses a code the taxonomy does not have, or its free text " +
		"seems to hold something that identifies a person. Each issue names the element in expression (FHIRPath)."},
	"429": {"TooManyRequests", "Too many requests with this key; retry after the number of seconds in Retry-After."},
}

// oaErrorResponseComponents returns every error response, each an
// OperationOutcome.
func oaErrorResponseComponents() map[string]oaResponse {
	r := map[string]oaResponse{}
	for code, e := range oaErrorResponses {
		resp := oaFHIRResponse(e.description, "OperationOutcome", nil)
		if code == "429" {
			resp.Headers = map[string]oaRefOnly{"Retry-After": {Ref: "#/components/headers/RetryAfter"}}
		}
		r[e.name] = resp
	}
	return r
}

// oaFHIRResponse is a response whose body is the named FHIR schema.
func oaFHIRResponse(description, schema string, headers map[string]oaRefOnly) oaResponse {
	return oaResponse{
		Description: description,
		Headers:     headers,
		Content:     map[string]oaMediaType{confMediaType: {Schema: oaSchema{"$ref": "#/components/schemas/" + schema}}},
	}
}

// oaEventBody is a request body holding an AdverseEvent.
func oaEventBody(description string) *oaRequestBody {
	return &oaRequestBody{
		Description: description + " At most 1 MB.",
		Required:    true,
		Content:     map[string]oaMediaType{confMediaType: {Schema: oaSchema{"$ref": "#/components/schemas/AdverseEvent"}}},
	}
}

// oaRef is a response that points at a component.
func oaRef(ref string) oaResponse { return oaResponse{Ref: ref} }

// oaParameters returns the reusable parameters.
func oaParameters() map[string]oaParameter {
	fhirDate := func(name, what string) oaParameter {
		return oaParameter{
			Name: name,
			In:   "query",
			Description: what + " A FHIR date or dateTime with an optional prefix: ge, le, gt, lt or eq (eq when none). " +
				"Repeat the parameter for a range, such as " + name + "=ge2025-01-01&" + name + "=lt2025-02-01.",
			Style:   "form",
			Explode: true,
			Schema:  oaSchema{"type": "array", "items": oaSchema{"type": "string"}},
		}
	}
	return map[string]oaParameter{
		"id": {
			Name:        "id",
			In:          "path",
			Description: "The event's PSIMS reference number.",
			Required:    true,
			Schema:      oaSchema{"type": "string", "pattern": oaReferencePattern, "examples": []string{"PSE-7K2M-9QXH"}},
		},
		"vid": {
			Name:        "vid",
			In:          "path",
			Description: "A version of the event, as in meta.versionId: 1 for the first.",
			Required:    true,
			Schema:      oaSchema{"type": "string", "pattern": "^[1-9][0-9]*$"},
		},
		"ifMatch": {
			Name:        "If-Match",
			In:          "header",
			Description: "The version the update is based on, as the ETag gave it, such as W/\"2\".",
			Schema:      oaSchema{"type": "string", "pattern": `^W/"[1-9][0-9]*"$`},
		},
		"date":        fhirDate("date", "When the event happened."),
		"lastUpdated": fhirDate("_lastUpdated", "When the event was last recorded or amended in PSIMS."),
		"organization": {
			Name:        "location.organization",
			In:          "query",
			Description: "The ODS code of the organisation the event happened in.",
			Schema:      oaSchema{"type": "string"},
		},
		"count": {
			Name:        "_count",
			In:          "query",
			Description: "How many events a page holds.",
			Schema:      oaSchema{"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
		},
	}
}

// oaHeaders returns the reusable response headers.
func oaHeaders() map[string]oaHeader {
	return map[string]oaHeader{
		"ETag": {
			Description: "The version of the event returned, as W/\"n\" where n is its meta.versionId.",
			Schema:      oaSchema{"type": "string", "examples": []string{`W/"1"`}},
		},
		"Location": {
			Description: "Where the recorded event is, as FHIR gives it: …/AdverseEvent/{id}/_history/{vid}.",
			Schema:      oaSchema{"type": "string", "format": "uri"},
		},
		"RetryAfter": {
			Description: "How many seconds to wait before trying again.",
			Schema:      oaSchema{"type": "integer", "minimum": 0},
		},
	}
}

// oaSecuritySchemes returns the two ways of sending the API key.
func oaSecuritySchemes() map[string]oaSecurityScheme {
	return map[string]oaSecurityScheme{
		"subscriptionKey": {
			Type:        "apiKey",
			In:          "header",
			Name:        "Ocp-Apim-Subscription-Key",
			Description: "The organisation's API key, in the header LFPSE clients use.",
		},
		"bearerKey": {
			Type:        "http",
			Scheme:      "bearer",
			Description: "The same API key as a bearer token: Authorization: Bearer <key>.",
		},
	}
}

// oaSchemas returns loose schemas of the FHIR resources the API exchanges:
// their main properties, every other property allowed.
func oaSchemas() map[string]oaSchema {
	ref := func(name string) oaSchema { return oaSchema{"$ref": "#/components/schemas/" + name} }
	str := oaSchema{"type": "string"}
	arrayOf := func(items oaSchema) oaSchema { return oaSchema{"type": "array", "items": items} }
	object := func(description string, required []string, properties map[string]oaSchema) oaSchema {
		s := oaSchema{"type": "object", "properties": properties, "additionalProperties": true}
		if description != "" {
			s["description"] = description
		}
		if len(required) > 0 {
			s["required"] = required
		}
		return s
	}
	return map[string]oaSchema{
		"Resource": object("Any FHIR resource.", []string{"resourceType"}, map[string]oaSchema{
			"resourceType": str,
			"id":           str,
			"meta":         ref("Meta"),
		}),
		"Meta": object("", nil, map[string]oaSchema{
			"versionId":   str,
			"lastUpdated": {"type": "string", "format": "date-time"},
			"profile":     arrayOf(oaSchema{"type": "string", "format": "uri"}),
		}),
		"Coding": object("", nil, map[string]oaSchema{
			"system":  {"type": "string", "format": "uri"},
			"code":    str,
			"display": str,
		}),
		"CodeableConcept": object("", nil, map[string]oaSchema{
			"coding": arrayOf(ref("Coding")),
			"text":   str,
		}),
		"Reference": object("", nil, map[string]oaSchema{
			"reference":  str,
			"identifier": object("", nil, map[string]oaSchema{"system": str, "value": str}),
			"display":    str,
		}),
		"Extension": object("An extension of the profile, or one of its inner extensions (url = the element's name).",
			[]string{"url"}, map[string]oaSchema{
				"url":          str,
				"extension":    arrayOf(ref("Extension")),
				"valueCoding":  ref("Coding"),
				"valueString":  str,
				"valueBoolean": {"type": "boolean"},
				"valueInteger": {"type": "integer"},
				"valueDate":    {"type": "string", "format": "date"},
				"valueTime":    str,
			}),
		"AdverseEvent": object("A patient safety event on the profile patient-safety-adverse-event-5. "+
			"Its answers are in extension, and in the extensions of the contained Patient, Location, Practitioner, "+
			"Medication and Device resources.", []string{"resourceType"}, map[string]oaSchema{
			"resourceType": {"const": "AdverseEvent"},
			"id":           oaSchema{"type": "string", "description": "The PSIMS reference number; set by PSIMS on create."},
			"meta":         ref("Meta"),
			"contained":    arrayOf(ref("Resource")),
			"extension":    arrayOf(ref("Extension")),
			"identifier":   object("", nil, map[string]oaSchema{"system": str, "value": str}),
			"actuality":    {"type": "string", "enum": []string{"actual", "potential"}},
			"event":        ref("CodeableConcept"),
			"subject":      ref("Reference"),
			"date":         {"type": "string", "description": "When the event happened."},
			"recordedDate": str,
			"location":     ref("Reference"),
		}),
		"Bundle": object("A page of search results (searchset) or the versions of an event (history).",
			[]string{"resourceType", "type"}, map[string]oaSchema{
				"resourceType": {"const": "Bundle"},
				"type":         {"type": "string", "enum": []string{"searchset", "history"}},
				"total":        {"type": "integer", "minimum": 0},
				"link": arrayOf(object("", []string{"relation", "url"}, map[string]oaSchema{
					"relation": {"type": "string", "examples": []string{"self", "next"}},
					"url":      {"type": "string", "format": "uri"},
				})),
				"entry": arrayOf(object("", nil, map[string]oaSchema{
					"fullUrl":  {"type": "string", "format": "uri"},
					"resource": ref("AdverseEvent"),
					"search":   object("", nil, map[string]oaSchema{"mode": str}),
					"request":  object("", nil, map[string]oaSchema{"method": str, "url": str}),
					"response": object("", nil, map[string]oaSchema{"status": str, "etag": str, "lastModified": str}),
				})),
			}),
		"OperationOutcome": object("Why a request failed: one issue per problem.", []string{"resourceType", "issue"}, map[string]oaSchema{
			"resourceType": {"const": "OperationOutcome"},
			"issue": arrayOf(object("", []string{"severity", "code"}, map[string]oaSchema{
				"severity":    {"type": "string", "enum": []string{"fatal", "error", "warning", "information"}},
				"code":        {"type": "string", "description": "The FHIR issue type, such as invalid, business-rule or code-invalid."},
				"details":     object("", nil, map[string]oaSchema{"text": {"type": "string", "description": "What is wrong, for people."}}),
				"diagnostics": str,
				"expression":  arrayOf(oaSchema{"type": "string", "description": "The element at fault, as FHIRPath."}),
			})),
		}),
	}
}

// The JSON shapes of the OpenAPI document: only the fields it uses.

type oaDocument struct {
	OpenAPI    string                  `json:"openapi"`
	Info       oaInfo                  `json:"info"`
	Servers    []oaServer              `json:"servers"`
	Security   []oaSecurityRequirement `json:"security"`
	Tags       []oaTag                 `json:"tags"`
	Paths      map[string]*oaPathItem  `json:"paths"`
	Components oaComponents            `json:"components"`
}

type oaInfo struct {
	Title       string `json:"title"`
	Version     string `json:"version"`
	Description string `json:"description"`
}

type oaServer struct {
	URL         string `json:"url"`
	Description string `json:"description"`
}

type oaTag struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// oaSecurityRequirement maps a scheme's name to its scopes (none here).
type oaSecurityRequirement map[string][]string

type oaPathItem struct {
	Parameters []oaParameter `json:"parameters,omitempty"`
	Get        *oaOperation  `json:"get,omitempty"`
	Put        *oaOperation  `json:"put,omitempty"`
	Post       *oaOperation  `json:"post,omitempty"`
}

type oaOperation struct {
	Tags        []string                 `json:"tags"`
	Summary     string                   `json:"summary"`
	Description string                   `json:"description,omitempty"`
	OperationID string                   `json:"operationId"`
	Security    *[]oaSecurityRequirement `json:"security,omitempty"`
	Parameters  []oaParameter            `json:"parameters,omitempty"`
	RequestBody *oaRequestBody           `json:"requestBody,omitempty"`
	Responses   map[string]oaResponse    `json:"responses"`
}

// oaParameter is a parameter, or with Ref alone a reference to one.
type oaParameter struct {
	Ref         string   `json:"$ref,omitempty"`
	Name        string   `json:"name,omitempty"`
	In          string   `json:"in,omitempty"`
	Description string   `json:"description,omitempty"`
	Required    bool     `json:"required,omitempty"`
	Style       string   `json:"style,omitempty"`
	Explode     bool     `json:"explode,omitempty"`
	Schema      oaSchema `json:"schema,omitempty"`
}

type oaRequestBody struct {
	Description string                 `json:"description"`
	Required    bool                   `json:"required"`
	Content     map[string]oaMediaType `json:"content"`
}

// oaResponse is a response, or with Ref alone a reference to one.
type oaResponse struct {
	Ref         string                 `json:"$ref,omitempty"`
	Description string                 `json:"description,omitempty"`
	Headers     map[string]oaRefOnly   `json:"headers,omitempty"`
	Content     map[string]oaMediaType `json:"content,omitempty"`
}

type oaRefOnly struct {
	Ref string `json:"$ref"`
}

type oaMediaType struct {
	Schema oaSchema `json:"schema"`
}

type oaHeader struct {
	Description string   `json:"description"`
	Schema      oaSchema `json:"schema"`
}

type oaSecurityScheme struct {
	Type        string `json:"type"`
	Scheme      string `json:"scheme,omitempty"`
	In          string `json:"in,omitempty"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description"`
}

type oaComponents struct {
	Schemas         map[string]oaSchema         `json:"schemas"`
	Responses       map[string]oaResponse       `json:"responses"`
	Parameters      map[string]oaParameter      `json:"parameters"`
	Headers         map[string]oaHeader         `json:"headers"`
	SecuritySchemes map[string]oaSecurityScheme `json:"securitySchemes"`
}

// oaSchema is a JSON Schema. A map, so its keys come out sorted and the
// document stays the same from run to run.
type oaSchema map[string]any
