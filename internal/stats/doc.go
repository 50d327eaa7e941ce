// Package stats builds and keeps the official statistics publications of
// PSIMS (issue 15, T16, T17, T14's national aggregates).
//
// A publication is a period (six-monthly by default: 1 April to 30
// September and 1 October to 31 March; any range allowed), a basis (events
// occurring in the period, or submitted in it), a title and a release
// time. Build turns the period's counts (from incident.StatCounts) into
// tables: national totals; national counts by type and physical harm, by
// service type, by safety challenge and by agent, published as they are;
// counts by organisation, type and physical harm and organisation totals,
// under statistical disclosure control (internal/stats/sdc), with every
// published sum that ties figures together given to the checker; and
// reporting rates where a denominator has been loaded, worked out from the
// published (rounded) count and suppressed with it. Build is a pure
// function: no clock, randomness or map order reaches the bytes, so the
// same data and metadata always give the same CSV, XLSX and HTML.
//
// Outputs: one CSV per table (two lines naming the publication and the
// terms of use, a blank line, then a header and the rows: wide tables, as
// the HTML shows them), one XLSX workbook (a sheet per table and a Notes
// sheet, with fixed document properties) and the HTML page, which the web
// package renders (HTMLFunc) so its charts are drawn as the rest of the
// service draws them. Every output carries TermsLabel (T17).
//
// Publishing stores version 1 as an immutable snapshot (migration 0028:
// each file's bytes and SHA-256, the rules, the fingerprint of the counts
// and every figure in words; triggers refuse UPDATE and DELETE). A
// revision needs a reason and stores the next version with the list of
// figures that changed; earlier versions stay public. Creating,
// publishing, revising, the pre-release access list and loading
// denominators are audited in the same transaction.
package stats
