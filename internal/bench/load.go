package bench

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/psims/psims/internal/password"
)

// Names of the cookies the forms use; see internal/web/session.go.
const sessionCookie = "psims_session"

// requestTimeout bounds one request, so a stuck server cannot hang the bench.
const requestTimeout = time.Minute

// worker is one simulated visitor: it fetches a form once, then posts it
// again and again.
type worker interface {
	// prepare fetches the form: the CSRF cookie and token. It is not timed.
	prepare(ctx context.Context) error
	// post sends the form once and says whether the answer was the
	// expected redirect; kind and detail describe a failure.
	post(ctx context.Context) (ok bool, kind, detail string)
}

// visitorJar is a cookie jar that keeps every cookie except the session
// cookie. Sign-in responses set a session cookie; a browser keeping it would
// bind its next form token to that session and make the following sign-in
// an already-signed-in visitor's. Dropping it keeps each worker a
// signed-out visitor whose psims_csrf cookie and token stay valid, so every
// timed POST is exactly one sign-in and the form is fetched only once.
type visitorJar struct{ http.CookieJar }

func (j visitorJar) SetCookies(u *url.URL, cookies []*http.Cookie) {
	kept := make([]*http.Cookie, 0, len(cookies))
	for _, c := range cookies {
		if c.Name != sessionCookie {
			kept = append(kept, c)
		}
	}
	j.CookieJar.SetCookies(u, kept)
}

// newClient returns a client of its own for one worker: its own cookie jar
// and connection (kept alive), and redirects returned rather than followed.
func newClient() *http.Client {
	jar, _ := cookiejar.New(nil) // never fails without options
	return &http.Client{
		Jar:     visitorJar{jar},
		Timeout: requestTimeout,
		Transport: &http.Transport{
			MaxIdleConnsPerHost: 1,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

var tokenPattern = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// fetchToken GETs the form page at base+path and returns its CSRF token;
// the client's jar keeps the psims_csrf cookie the token is bound to.
func fetchToken(ctx context.Context, c *http.Client, base, path string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return "", fmt.Errorf("bench: GET %s: %w", path, err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("bench: GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("bench: GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("bench: GET %s: status %s", path, resp.Status)
	}
	m := tokenPattern.FindSubmatch(body)
	if m == nil {
		return "", fmt.Errorf("bench: GET %s: no csrf_token in the page", path)
	}
	return string(m[1]), nil
}

// postForm posts form to base+path and checks for a 303 to wantLocation.
func postForm(ctx context.Context, c *http.Client, base, path string, form url.Values, wantLocation string) (ok bool, kind, detail string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return false, "request", err.Error()
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		return false, "transport", err.Error()
	}
	// Read the body so the connection can be reused.
	_, readErr := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return false, fmt.Sprintf("HTTP %d", resp.StatusCode), fmt.Sprintf("POST %s: status %s", path, resp.Status)
	}
	if loc := resp.Header.Get("Location"); loc != wantLocation {
		return false, "wrong redirect", fmt.Sprintf("POST %s: redirected to %q, want %q", path, loc, wantLocation)
	}
	if readErr != nil {
		return false, "transport", readErr.Error()
	}
	return true, "", ""
}

// signInWorker signs in to one account again and again.
type signInWorker struct {
	client *http.Client
	base   string
	creds  credentials
	token  string
}

func (w *signInWorker) prepare(ctx context.Context) error {
	t, err := fetchToken(ctx, w.client, w.base, "/sign-in")
	w.token = t
	return err
}

func (w *signInWorker) post(ctx context.Context) (bool, string, string) {
	form := url.Values{
		"email":      {w.creds.Email},
		"password":   {w.creds.Password},
		"next":       {"/account"},
		"csrf_token": {w.token},
	}
	return postForm(ctx, w.client, w.base, "/sign-in", form, "/account")
}

// registerWorker registers a new address on each post.
type registerWorker struct {
	client  *http.Client
	base    string
	orgCode string
	prefix  string // start of the local part of every address, unique to the run and worker
	n       int
	token   string
}

func (w *registerWorker) prepare(ctx context.Context) error {
	t, err := fetchToken(ctx, w.client, w.base, "/register")
	w.token = t
	return err
}

func (w *registerWorker) post(ctx context.Context) (bool, string, string) {
	w.n++
	form := url.Values{
		"name":             {"Bench Registrant"},
		"job_role":         {"Nurse"},
		"org_query":        {w.orgCode},
		"email":            {fmt.Sprintf("%s-%d@example.invalid", w.prefix, w.n)},
		"password":         {benchPassword},
		"confirm_password": {benchPassword},
		"action":           {"register"},
		"csrf_token":       {w.token},
	}
	return postForm(ctx, w.client, w.base, "/register", form, "/register/check-email")
}

// runLoad runs every (prepared) worker for warmup plus duration, and
// returns the latencies of the successful requests and the failures that
// completed inside the measured window (the duration after warmup). Only
// the POST is timed. A request in flight when the window closes is waited
// for but not counted, unless nothing has finished inside the window: then
// the window stays open until the first request finishes (at most
// maxStretch longer), so a window shorter than the slowest request still
// measures one, and the window reported is as long as it really was.
func runLoad(ctx context.Context, workers []worker, warmup, duration time.Duration) (LoadResult, error) {
	start := time.Now()
	from, until := start.Add(warmup), start.Add(warmup+duration)
	// finished counts what completed inside the window; last is when the
	// last of them did, in nanoseconds after from.
	var finished, last atomic.Int64

	type outcome struct {
		samples    []time.Duration
		errors     map[string]int
		firstError string
		firstAt    time.Time
	}
	outcomes := make([]outcome, len(workers))
	var wg sync.WaitGroup
	for i, w := range workers {
		wg.Go(func() {
			o := outcome{errors: map[string]int{}}
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(until) && (finished.Load() > 0 || t0.After(until.Add(maxStretch))) {
					break
				}
				ok, kind, detail := w.post(ctx)
				t1 := time.Now()
				if t1.Before(from) || (t1.After(until) && finished.Load() > 0) {
					continue
				}
				finished.Add(1)
				for at := int64(t1.Sub(from)); ; {
					seen := last.Load()
					if at <= seen || last.CompareAndSwap(seen, at) {
						break
					}
				}
				if ok {
					o.samples = append(o.samples, t1.Sub(t0))
					continue
				}
				o.errors[kind]++
				if o.firstError == "" {
					o.firstError, o.firstAt = detail, t1
				}
			}
			outcomes[i] = o
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return LoadResult{}, fmt.Errorf("bench: load interrupted: %w", err)
	}
	res := LoadResult{Errors: map[string]int{}, Window: max(duration, time.Duration(last.Load()))}
	var firstAt time.Time
	for _, o := range outcomes {
		res.Samples = append(res.Samples, o.samples...)
		for k, n := range o.errors {
			res.Errors[k] += n
		}
		if o.firstError != "" && (firstAt.IsZero() || o.firstAt.Before(firstAt)) {
			res.FirstError, firstAt = o.firstError, o.firstAt
		}
	}
	return res, nil
}

// maxStretch is how much longer than asked runLoad keeps a window open
// in which nothing has finished.
const maxStretch = 30 * time.Second

// add merges the result of another window into l.
func (l *LoadResult) add(o LoadResult) {
	l.Samples = append(l.Samples, o.Samples...)
	if l.Errors == nil {
		l.Errors = map[string]int{}
	}
	for k, n := range o.Errors {
		l.Errors[k] += n
	}
	if l.FirstError == "" {
		l.FirstError = o.FirstError
	}
	l.Window += o.Window
}

// twoStepWorker signs in to accounts with an authenticator app: the
// password, then a code at the second step, timed together. A code is
// accepted once per account and 30-second step (one step ahead is
// forgiven), so the worker goes round accounts of its own, each used
// again only at a later step.
type twoStepWorker struct {
	client   *http.Client
	base     string
	accounts []credentials
	next     int
	token    string
}

// totpPeriod is the length of a time step of the codes, in seconds.
const totpPeriod = 30

func (w *twoStepWorker) prepare(ctx context.Context) error {
	if len(w.accounts) == 0 {
		return errors.New("bench: a two-step worker has no accounts")
	}
	t, err := fetchToken(ctx, w.client, w.base, "/sign-in")
	w.token = t
	return err
}

func (w *twoStepWorker) post(ctx context.Context) (bool, string, string) {
	now := time.Now().Unix() / totpPeriod
	var acct *credentials
	step := int64(0)
	for range w.accounts {
		a := &w.accounts[w.next]
		w.next = (w.next + 1) % len(w.accounts)
		if s := max(now, a.TOTPStep+1); s <= now+1 {
			acct, step = a, s
			break
		}
	}
	if acct == nil {
		return false, "no account free", "every account of the worker has used its code of this time step; give the bench more accounts"
	}
	form := url.Values{"email": {acct.Email}, "password": {acct.Password}, "next": {"/account"}, "csrf_token": {w.token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.base+"/sign-in", strings.NewReader(form.Encode()))
	if err != nil {
		return false, "request", err.Error()
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := w.client.Do(req)
	if err != nil {
		return false, "transport", err.Error()
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return false, "transport", err.Error()
	}
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Sprintf("HTTP %d", resp.StatusCode), fmt.Sprintf("POST /sign-in: status %s, want the code page", resp.Status)
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			session = c
		}
	}
	m := tokenPattern.FindSubmatch(body)
	if session == nil || m == nil {
		return false, "no code page", "POST /sign-in: no session cookie or form token in the code page"
	}
	code, err := totp.GenerateCode(acct.TOTPSecret, time.Unix(step*totpPeriod, 0))
	if err != nil {
		return false, "code", err.Error()
	}
	acct.TOTPStep = step
	form = url.Values{"code": {code}, "next": {"/account"}, "csrf_token": {html.UnescapeString(string(m[1]))}}
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, w.base+"/sign-in/two-step", strings.NewReader(form.Encode()))
	if err != nil {
		return false, "request", err.Error()
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// The jar keeps no session cookie (see visitorJar): this one is sent
	// by hand, for this request only.
	req.AddCookie(session)
	resp, err = w.client.Do(req)
	if err != nil {
		return false, "transport", err.Error()
	}
	_, readErr := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account" {
		return false, fmt.Sprintf("HTTP %d", resp.StatusCode), fmt.Sprintf("POST /sign-in/two-step: status %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	if readErr != nil {
		return false, "transport", readErr.Error()
	}
	return true, "", ""
}

// mfaAccountsPerWorker is how many accounts each two-step worker needs so
// that it never waits for a new time step: as many sign-ins as it could
// make in the whole run, at one password hash each, and a few more. The
// hash is timed at its fastest of five after one to warm up: timing a
// single cold one made too few accounts, and the workers ran out of codes
// within the first time step.
func mfaAccountsPerWorker(ctx context.Context, hasher *password.Hasher, opts Options) int {
	one := time.Duration(0)
	for i := range 6 {
		start := time.Now()
		if _, err := hasher.Hash(ctx, benchPassword); err != nil {
			return 64
		}
		if took := time.Since(start); i > 0 && (one == 0 || took < one) {
			one = took
		}
	}
	one = max(one, time.Millisecond)
	run := min(opts.Warmup+opts.Duration, 2*totpPeriod*time.Second)
	return min(int(run/one)+8, 5000)
}
