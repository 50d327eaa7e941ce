package fhir

// contentType is the media type of every resource PSIMS reads and writes.
const contentType = "application/fhir+json"
