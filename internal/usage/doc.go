// Package usage is how PSIMS records and reports the use of the service
// (terms T9, privacy policy P2 and P4): which pages signed-in people visit
// and when, with their session, browser and network address, kept only as
// long as the privacy policy says and then reduced.
//
// So far it holds the Writer, which stores usage events in batches off
// the path of the requests that make them (dropping and counting them
// rather than slowing a request when the database is slow), and the two
// reductions an event goes through: a browser named by family and major
// version rather than its whole User-Agent string (ParseBrowser), and an
// address cut to its network (TruncateIP). The web server records each
// request of a signed-in person through the Writer (web.recordUsage);
// document opens, retention and reports follow (issue 12).
package usage
