package web

import (
	"context"
	"net/http"
	"net/url"

	"github.com/psims/psims/internal/textcheck"
)

// cleanedCookie carries, across the redirect that follows a form which
// was saved, the news that hidden characters were taken out of it, so that
// the next page can say so. It holds no data.
const cleanedCookie = "psims_cleaned"

// cleanedMessage is what a page says when hidden characters were removed
// from what the visitor sent.
const cleanedMessage = "We removed hidden control characters from what you typed. They cannot be seen, and they cannot be stored. Check your answers before you go on."

// cleanedKey marks a request whose form values had hidden characters.
type cleanedKey struct{}

// cleanInput removes hidden control characters (see internal/textcheck)
// from every value of the query and of a posted form before any handler
// reads them, so that no page, query, store, email or log ever sees a NUL
// or an escape sequence. The characters cannot be seen, so removing them
// changes nothing the person meant; the page shown next says it was done
// (Renderer.Render), after a redirect too (cleanedCookie).
//
// It runs after checkCSRF, which parses the posted form within its size
// limit.
func (s *Server) cleanInput(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		changed := false
		if r.URL.RawQuery != "" {
			q := r.URL.Query()
			if cleanValues(q) {
				changed = true
				r.URL.RawQuery = q.Encode()
			}
		}
		if r.Form != nil && cleanValues(r.Form) {
			changed = true
		}
		if r.PostForm != nil && cleanValues(r.PostForm) {
			changed = true
		}
		if !changed {
			next.ServeHTTP(w, r)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), cleanedKey{}, true))
		next.ServeHTTP(&cleanedWriter{ResponseWriter: w, secure: s.SecureCookies}, r)
	})
}

// cleanValues removes hidden characters from every key and value of v, in
// place, and reports whether it removed any.
func cleanValues(v url.Values) bool {
	changed := false
	for k, vs := range v {
		for i, s := range vs {
			if c, ok := textcheck.Clean(s); ok {
				vs[i], changed = c, true
			}
		}
		if c, ok := textcheck.Clean(k); ok {
			delete(v, k)
			v[c] = append(v[c], vs...)
			changed = true
		}
	}
	return changed
}

// cleanedWriter sets cleanedCookie on a redirect, for the page it leads to.
type cleanedWriter struct {
	http.ResponseWriter
	secure, wrote bool
}

func (c *cleanedWriter) WriteHeader(code int) {
	if !c.wrote && code >= 300 && code < 400 {
		http.SetCookie(c.ResponseWriter, &http.Cookie{Name: cleanedCookie, Value: "1", Path: "/", MaxAge: 300,
			HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode})
	}
	c.wrote = true
	c.ResponseWriter.WriteHeader(code)
}

func (c *cleanedWriter) Write(b []byte) (int, error) {
	if !c.wrote {
		c.WriteHeader(http.StatusOK)
	}
	return c.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (c *cleanedWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// hadHidden reports whether hidden characters were removed from r's own
// form values: a handler whose answer is a file, which cannot say so,
// shows its form again instead.
func hadHidden(r *http.Request) bool {
	cleaned, _ := r.Context().Value(cleanedKey{}).(bool)
	return cleaned
}

// tookOutHidden reports whether the page answering r must say that hidden
// characters were removed, and forgets a cookie that said so.
func tookOutHidden(w http.ResponseWriter, r *http.Request) bool {
	cleaned := hadHidden(r)
	if _, err := r.Cookie(cleanedCookie); err == nil {
		http.SetCookie(w, &http.Cookie{Name: cleanedCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		cleaned = true
	}
	return cleaned
}
