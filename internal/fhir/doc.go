// Package fhir is PSIMS's FHIR R4 API for local risk management systems
// (issue 16): trusts' systems send patient safety events as AdverseEvent
// resources shaped on the national LFPSE profile, with one of their
// organisation's API keys, and read, change and search them.
//
// The package turns resources into the answers the recording form keeps
// (decode.go) and back (encode.go), keyed by the same taxonomy elements,
// so an event recorded through the API and one recorded on the pages are
// the same record. What is checked, and the business rules, are the form's
// (form.CompleteRecord) and the store's, not a copy. The handlers
// (handler.go) parse, make one call into incident, and answer; problems
// are answered as an OperationOutcome with a FHIRPath to each.
package fhir
