// Package usage is how PSIMS records and reports the use of the service
// (terms T9, privacy policy P2, P4, P6, P10 and P19): which pages
// signed-in people visit and when, the documents they open and their
// sign-ins, with their session, browser and network address, kept only as
// long as the privacy policy says and then reduced.
//
// The Writer stores usage events in batches off the path of the requests
// that make them, dropping and counting them rather than slowing a request
// when the database is slow. An event names the browser by family and
// major version (ParseBrowser), never the whole User-Agent. Three hourly
// jobs (AddWorkers) roll each finished day up into aggregates (RollUp),
// cut addresses to their network after --usage-ip-retention (TruncateIPs,
// TruncateIP) and delete raw events and per-person rows after
// --usage-retention (DeleteExpired). Reports makes the usage reports of an
// organisation and of the whole service, withholding every figure fewer
// than MinUsers people stand for and naming only people who consent to the
// analysis of their own use.
package usage
