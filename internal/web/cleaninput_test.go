package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
)

// hidden is a run of characters nobody can see and no store should keep:
// NUL (which PostgreSQL refuses in text), a bell, an escape, DEL, a C1
// control, a byte that is not UTF-8 and a noncharacter.
const hidden = "\x00\a\x1b\x7f\u0085\xff\ufffe"

// cleanedNotice is what a page says after hidden characters were removed.
const cleanedNotice = "We removed hidden control characters from what you typed."

// followed returns r, or the page its redirects lead to on this site.
func followed(b *browser, r response) response {
	for i := 0; i < 3 && r.status >= 300 && r.status < 400 && strings.HasPrefix(r.location, "/"); i++ {
		r = b.get(r.location)
	}
	return r
}

// TestHiddenCharactersInEveryFormAreRemovedAndSaid posts hidden control
// characters in every value of every form route (each as a role allowed
// to use it, from the authorisation matrix), on both engines: no answer is
// a 500, and the page shown next, straight away or after a redirect, says
// they were removed. What the public and the recording forms store holds
// none of them.
func TestHiddenCharactersInEveryFormAreRemovedAndSaid(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			f := &matrixFixture{t: t, site: site}
			seen := map[string]bool{}
			for _, c := range matrixCases() {
				if c.method() != http.MethodPost || seen[c.pattern] {
					continue
				}
				seen[c.pattern] = true
				t.Run(c.pattern, func(t *testing.T) {
					f.t = t
					tg := f.target(ownOrg, c.pending, c.targetRole)
					var b *browser
					if len(c.own) > 0 {
						b = f.actor(c.own[len(c.own)-1])
					} else {
						// The target's own draft: only its author may post.
						b = newBrowser(t, site)
						signIn(t, b, tg.User.Email, passphrase)
					}
					form := url.Values{"note" + hidden: {"x" + hidden}}
					for k, vs := range c.form {
						for _, v := range vs {
							form.Add(k, v+hidden)
						}
					}
					r := b.request(c.method(), c.pathFor(tg), form)
					if r.status >= 500 {
						t.Fatalf("status %d", r.status)
					}
					if c.pattern == "POST /session/extend" || c.pattern == "POST /oidc/{name}/backchannel-logout" {
						return // answers a script, or a provider's server, not with a page
					}
					if page := followed(b, r); !strings.Contains(page.body, cleanedNotice) {
						t.Errorf("status %d then %d: the page does not say hidden characters were removed", r.status, page.status)
					}
				})
			}

			t.Run("the public form stores none", func(t *testing.T) {
				b := newBrowser(t, site)
				form := concern(t, site)
				form.Set("description", "My father"+hidden+" waited nine hours.")
				r := b.submit("/report", "/report", form)
				if r.status != http.StatusSeeOther {
					t.Fatalf("submit: %d %s", r.status, errorSummary(r.body))
				}
				ev, err := site.App.Incidents.ByReference(context.Background(), incident.Reference(strings.TrimPrefix(r.location, "/report/recorded/")))
				if err != nil {
					t.Fatal(err)
				}
				if got := ev.Answers["AdverseEvent.description"]; len(got) != 1 || got[0] != "My father waited nine hours." {
					t.Errorf("stored %q", got)
				}
				if page := b.get(r.location); !strings.Contains(page.body, cleanedNotice) {
					t.Error("the confirmation does not say hidden characters were removed")
				}
			})

			t.Run("a draft stores none", func(t *testing.T) {
				f.t = t
				tg := f.target(ownOrg, false, "")
				b := newBrowser(t, site)
				signIn(t, b, tg.User.Email, passphrase)
				r := b.request(http.MethodPost, fmt.Sprintf("/drafts/%d/description", tg.DraftID), url.Values{"answer": {"The pump" + hidden + " alarmed."}})
				if r.status >= 400 {
					t.Fatalf("answer: %d %s", r.status, errorSummary(r.body))
				}
				d, err := site.App.Incidents.Draft(context.Background(), tg.User.ID, tg.DraftID)
				if err != nil {
					t.Fatal(err)
				}
				if got := d.Answers["AdverseEvent.description"]; len(got) != 1 || got[0] != "The pump alarmed." {
					t.Errorf("stored %q", got)
				}
			})

			t.Run("a search address is cleaned too", func(t *testing.T) {
				b := f.actor("national-admin")
				r := b.get("/admin/users?q=" + url.QueryEscape("morgan"+hidden))
				if r.status != http.StatusOK || !strings.Contains(r.body, cleanedNotice) {
					t.Errorf("search: %d", r.status)
				}
			})
		})
	}
}
