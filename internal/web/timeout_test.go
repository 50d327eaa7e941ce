package web_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/db/dbtest"
)

var remainingPattern = regexp.MustCompile(`id="session-timeout" data-remaining="(\d+)" data-warn="(\d+)"`)

// Issue 11 item 4: every signed-in page says, without JavaScript, when the
// session ends if left idle, and holds the "Stay signed in" dialog the
// script opens; "Stay signed in" posts to /session/extend, which keeps
// the session going and answers with the form token to use.
func TestPagesSayWhenAnIdleSessionEnds(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	b, _ := staff(t, site, "tim.timeout@nhs.net", account.RoleReporter)

	page := b.get("/account")
	if page.status != http.StatusOK || !regexp.MustCompile(`you will be signed out at <span class="psims-session-timeout__ends">\d{1,2}:\d\d[ap]m</span> if you do not open a page or save anything before then \(30 minutes after your last action\)`).MatchString(page.body) {
		t.Fatalf("the page does not say when the session ends: %d", page.status)
	}
	m := remainingPattern.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatal("no figures for the prompt")
	}
	if left, _ := strconv.Atoi(m[1]); left < 25*60 || left > 30*60 {
		t.Errorf("%d seconds left, want about 30 minutes", left)
	}
	if m[2] != "120" {
		t.Errorf("the prompt comes %s seconds before the end, want 120", m[2])
	}
	for _, want := range []string{`<dialog class="psims-timeout-dialog" id="session-timeout-dialog"`, ">Stay signed in</button>"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if r := newBrowser(t, site).get("/sign-in"); strings.Contains(r.body, `id="session-timeout"`) {
		t.Error("a signed-out page talks about a session")
	}

	// Nearly idle for 30 minutes; staying signed in starts the 30 again.
	setLastSeen(t, site, time.Now().UTC().Add(-29*time.Minute))
	token := html.UnescapeString(csrfPattern.FindStringSubmatch(page.body)[1])
	req, _ := http.NewRequest(http.MethodPost, site.URL+"/session/extend", strings.NewReader(url.Values{"csrf_token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Token     string `json:"csrf_token"`
		Remaining int    `json:"remaining"`
		Ends      string `json:"ends"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("extend: %d %v", resp.StatusCode, err)
	}
	if body.Token != token || body.Remaining < 29*60 || body.Ends == "" {
		t.Fatalf("extend answered %+v", body)
	}

	// Without a form token, nothing is extended.
	r := b.post("/session/extend", url.Values{})
	if r.status != http.StatusForbidden {
		t.Fatalf("extend without a token: %d", r.status)
	}
}
