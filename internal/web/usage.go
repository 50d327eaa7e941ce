package web

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/usage"
)

// UsageRecorder takes usage events to be written later (usage.Writer). It
// must return at once: a request never waits for its usage to be stored.
type UsageRecorder interface {
	Record(e usage.Event) bool
}

// recordUsage records every request of a signed-in person as a usage
// event once it has been answered (T9, P2, P4): the route pattern that
// served it, never the address with its ids and query; the status; the
// person and their organisation; a hash of the session, never its token;
// the client's address; and the browser's family and major version,
// never the whole User-Agent. A document of the library opened is recorded
// as a usage.KindDocument event naming it. Visitors who are not signed in
// are not recorded. It sits just inside authenticate, which finds the person.
func (s *Server) recordUsage(next http.Handler) http.Handler {
	if s.Usage == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := viewerFrom(r.Context())
		if v == nil {
			next.ServeHTTP(w, r)
			return
		}
		// The time spent here, outside next, is what recording adds to
		// the request (psims_usage_record_seconds).
		start := time.Now()
		rec := recorderFor(w)
		spent := time.Since(start)
		next.ServeHTTP(rec, r)
		start = time.Now()
		e := s.usageEvent(r, usage.KindPage, "unmatched", rec.finalStatus(), v.user, v.session.Token)
		if info := infoFrom(r.Context()); info != nil {
			if info.pattern != "" {
				e.Route = info.pattern
			}
			// A document of the library opened is an event of its own
			// kind, naming the document (markDocumentOpen).
			if info.documentID != 0 {
				e.Kind, e.DocumentID = usage.KindDocument, info.documentID
			}
		}
		s.Usage.Record(e)
		s.Metrics.UsageRecorded(spent + time.Since(start))
	})
}

// recordSignIn records a successful sign-in as a usage event of its own
// kind. The request that signs someone in is not yet a signed-in
// person's, so recordUsage does not see it.
func (s *Server) recordSignIn(r *http.Request, u account.User, sessionToken string) {
	if s.Usage != nil {
		s.Usage.Record(s.usageEvent(r, usage.KindSignIn, "POST /sign-in", http.StatusSeeOther, u, sessionToken))
	}
}

// usageEvent is the usage event of a request of u's, in the session with
// sessionToken, answered with status.
func (s *Server) usageEvent(r *http.Request, kind, route string, status int, u account.User, sessionToken string) usage.Event {
	return usage.Event{At: s.now(), Kind: kind, Route: route, Status: status, UserID: u.ID, OrgCode: u.OrgCode,
		SessionHash: usageSession(sessionToken), IP: s.ClientIPs.From(r), Browser: usage.ParseBrowser(r.UserAgent())}
}

// usageSession names a session in usage events: a hash of its token made
// for this use alone, so that it tells one session's events from
// another's but is not the key the sessions table is looked up by, and
// cannot be turned back into the token.
func usageSession(token string) string {
	sum := sha256.Sum256([]byte("psims usage session\x00" + token))
	return hex.EncodeToString(sum[:16])
}
