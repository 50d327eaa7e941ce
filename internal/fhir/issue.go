package fhir

import (
	"encoding/json"
	"net/http"
)

// Severities and codes of an issue (FHIR's IssueSeverity and IssueType).
const (
	severityError = "error"
	severityFatal = "fatal"

	codeStructure    = "structure"     // the JSON or the resource's shape is wrong
	codeRequired     = "required"      // something required is missing
	codeValue        = "value"         // a value is not valid
	codeCodeInvalid  = "code-invalid"  // a code is not in its list
	codeExtension    = "extension"     // an extension PSIMS does not know
	codeBusinessRule = "business-rule" // the national business rules refuse it
	codeSecurity     = "security"      // credentials refused
	codeForbidden    = "forbidden"     // not this key's organisation
	codeNotFound     = "not-found"
	codeConflict     = "conflict"
	codeTooLong      = "too-long"
	codeThrottled    = "throttled"
	codeNotSupported = "not-supported"
	codeException    = "exception"
)

// Issue is one problem with a request: an issue of an OperationOutcome.
type Issue struct {
	Severity string
	Code     string
	// Message says what is wrong and what to do, in plain words. It never
	// repeats text that was sent.
	Message string
	// Expression is the FHIRPath of what is wrong, such as
	// "AdverseEvent.extension[2].extension[0].valueCoding"; "" when it is
	// the request as a whole.
	Expression string
}

// outcome is the JSON of an OperationOutcome.
type outcome struct {
	ResourceType string         `json:"resourceType"`
	Issue        []outcomeIssue `json:"issue"`
}

type outcomeIssue struct {
	Severity    string   `json:"severity"`
	Code        string   `json:"code"`
	Details     *text    `json:"details,omitempty"`
	Diagnostics string   `json:"diagnostics,omitempty"`
	Expression  []string `json:"expression,omitempty"`
}

type text struct {
	Text string `json:"text"`
}

// operationOutcome returns the JSON of an OperationOutcome holding issues.
func operationOutcome(issues []Issue) []byte {
	o := outcome{ResourceType: "OperationOutcome"}
	for _, is := range issues {
		oi := outcomeIssue{Severity: is.Severity, Code: is.Code, Details: &text{Text: is.Message}, Diagnostics: is.Message}
		if is.Expression != "" {
			oi.Expression = []string{is.Expression}
		}
		o.Issue = append(o.Issue, oi)
	}
	b, _ := json.Marshal(o)
	return b
}

// writeOutcome answers with an OperationOutcome and the status.
func writeOutcome(w http.ResponseWriter, status int, issues ...Issue) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(operationOutcome(issues))
}
