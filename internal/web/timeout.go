package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/psims/psims/internal/account"
	// The zone database is built in, so pages can give UK times on a
	// host without one (a scratch container).
	_ "time/tzdata"
)

// sessionTimeout is what a signed-in page says about the idle timeout: a
// sentence that works without JavaScript, and the figures app's
// session-timeout.js uses to offer "Stay signed in" before the end.
type sessionTimeout struct {
	// Ends is the time of day the session ends if nothing is done before,
	// in UK time, such as "2:35pm".
	Ends string
	// Idle says how long without activity ends a session, such as "30
	// minutes".
	Idle string
	// Remaining is how many seconds are left now, and Warn how many
	// seconds before the end the prompt appears.
	Remaining, Warn int
}

// ukTime is the zone UK users read times in.
func ukTime() *time.Location {
	if loc, err := time.LoadLocation("Europe/London"); err == nil {
		return loc
	}
	return time.UTC
}

// timeoutFor works out when a session ends if left idle: its idle timeout
// (which depends on its person's role) after it was last seen, or its
// absolute end if sooner.
func (s *Server) timeoutFor(sess account.Session) *sessionTimeout {
	idle, last, absolute := sess.Idle, sess.LastSeenAt, sess.ExpiresAt
	if idle <= 0 {
		return nil
	}
	ends := last.Add(idle)
	if !absolute.IsZero() && absolute.Before(ends) {
		ends = absolute
	}
	remaining := int(ends.Sub(s.now()).Seconds())
	return &sessionTimeout{
		Ends:      ends.In(s.uk).Format("3:04pm"),
		Idle:      durationWords(idle),
		Remaining: max(remaining, 0),
		Warn:      int(min(2*time.Minute, idle/2).Seconds()),
	}
}

// durationWords writes d in minutes, or seconds when shorter than one.
func durationWords(d time.Duration) string {
	n, unit := int(d.Minutes()), "minute"
	if n == 0 {
		n, unit = int(d.Seconds()), "second"
	}
	if n != 1 {
		unit += "s"
	}
	return fmt.Sprintf("%d %s", n, unit)
}

// extendSession is "Stay signed in": it records activity on the session
// and answers, in JSON, when the session now ends and the form token to
// use. Pages call it from JavaScript only.
func (s *Server) extendSession(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	v := viewerFrom(r.Context())
	if v == nil {
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]string{"error": "signed_out"})
		return
	}
	sess, err := s.Accounts.KeepAlive(r.Context(), v.session)
	if err != nil {
		s.Logger.ErrorContext(r.Context(), "keep session alive", "err", err, "request_id", RequestID(r.Context()))
		w.WriteHeader(http.StatusInternalServerError)
		json.NewEncoder(w).Encode(map[string]string{"error": "server_error"})
		return
	}
	t := s.timeoutFor(sess)
	json.NewEncoder(w).Encode(map[string]any{
		"csrf_token": csrfToken(r),
		"ends":       t.Ends,
		"remaining":  t.Remaining,
		"warn":       t.Warn,
	})
}
