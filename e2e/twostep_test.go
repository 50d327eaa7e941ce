package e2e

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/mail/smtptest"
)

// The org admin of the two-step journey.
const (
	twoStepEmail    = "tove.twostep@nhs.net"
	twoStepName     = "Tove Twostep"
	twoStepPassword = "saffron quarry lantern widget"
)

// The pages of two-step verification, by their headings.
const (
	setUpHeading    = "Set up an authenticator app"
	codesHeading    = "Save your recovery codes"
	codePageHeading = "Enter the code from your authenticator app"
)

// pageSignOut is the code page's own "Sign out" button, not the one of the
// session timeout's dialog, which is also in main but closed.
var pageSignOut = chromedp.Search(`//main//button[normalize-space()="Sign out"][not(ancestor::dialog)]`)

// totpPeriod is the seconds one code of an authenticator app lasts.
const totpPeriod = 30

var (
	// secretPattern is the secret key as the set-up page shows it: base32
	// in groups of four separated by spaces.
	secretPattern = regexp.MustCompile(`^[A-Z2-7]{4}( [A-Z2-7]{1,4})*$`)
	// recoveryPattern is a recovery code as the codes page shows it.
	recoveryPattern = regexp.MustCompile(`^[a-z2-9]{5}-[a-z2-9]{5}$`)
)

// TestTwoStepTestCodesMatchTheRFC6238Vectors checks this file's own TOTP
// code, which the journey types into the pages, against the SHA-1 test
// vectors of RFC 6238 (appendix B), so the journey does not trust the
// product's code (or the library it uses) to check itself.
func TestTwoStepTestCodesMatchTheRFC6238Vectors(t *testing.T) { // T3
	key := []byte("12345678901234567890")
	for _, v := range []struct {
		unix int64
		want string // 8 digits
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	} {
		step := v.unix / totpPeriod
		if got := totpCode(key, step, 8); got != v.want {
			t.Errorf("T=%d: 8-digit code %s, want %s", v.unix, got, v.want)
		}
		if got, want := totpCode(key, step, 6), v.want[2:]; got != want {
			t.Errorf("T=%d: 6-digit code %s, want %s", v.unix, got, want)
		}
	}
	// The secret as the set-up page shows it decodes to the key.
	shown := "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ"
	if got := string(decodeSecret(t, shown)); got != string(key) {
		t.Errorf("secret %q decodes to %q, want %q", shown, got, key)
	}
}

// TestTwoStepAnOrgAdminSetsUpAnAppAndSignsInWithCodes walks two-step
// verification (issue 17) as an org admin meets it, their role requiring
// it: at their first sign-in the password leads to setting up an
// authenticator app (a QR code and the key to type; a wrong code is
// refused), then to ten recovery codes shown once. At each later sign-in
// the password leads to the code page, which keeps every other page shut
// (the gate) but lets them sign out; a code already used is refused
// (replay), a recovery code works once, typed in capitals and without its
// hyphen too, and a fresh code from the app signs them in and on to where
// they were going. The security settings page then counts the unused
// recovery codes and offers no way to turn two-step verification off.
//
// The codes of the app are worked out here, from the key read off the
// page, by RFC 6238 (see totpCode), not by the product's code. The
// journey runs in Chromium with JavaScript on, then the sign-ins again
// with it off; every page is checked with axe-core and the console. It
// runs on SQLite, and on PostgreSQL too when PSIMS_TEST_POSTGRES_URL is
// set.
//
// With PSIMS_SCREENSHOTS set to a directory, the pages of the SQLite run
// are saved there as twostep-JS-NN-NAME.png.
func TestTwoStepAnOrgAdminSetsUpAnAppAndSignsInWithCodes(t *testing.T) { // T3
	chromium(t)
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			site, mail := startTwoStepSite(t, e)
			readyUser(t, site, account.NewUser{Email: twoStepEmail, Name: twoStepName, JobRole: "Patient safety lead",
				OrgCode: "RM1", Role: account.RoleOrgAdmin, Password: twoStepPassword})
			shots := ""
			if e.Name == "sqlite" {
				shots = os.Getenv("PSIMS_SCREENSHOTS")
			}

			var app *authenticator
			var codes []string
			if !t.Run("with JavaScript", func(t *testing.T) {
				j := &twoStepJourney{t: t, b: newBrowser(t, site.URL, true), shots: shots, prefix: "js"}
				app, codes = j.setUp(mail)
				j.signIns(app, codes[0], codes[1], 8)
				// The recovery code's email counts what is left.
				used := waitForMail(t, mail, twoStepEmail, "A recovery code was used to sign in to PSIMS")
				if text := strings.Join(strings.Fields(used.Text()), " "); !strings.Contains(text, "You have 9 left") {
					t.Errorf("the email about the first recovery code says %q, want \"You have 9 left\"", text)
				}
				t.Logf("pages checked with axe-core and the console: %s", strings.Join(j.b.checked, "; "))
			}) {
				return
			}
			t.Run("without JavaScript", func(t *testing.T) {
				j := &twoStepJourney{t: t, b: newBrowser(t, site.URL, false), shots: shots, prefix: "nojs"}
				j.signIns(app, codes[2], codes[3], 6)
				t.Logf("pages checked with axe-core and the console: %s", strings.Join(j.b.checked, "; "))
			})
		})
	}
}

// startTwoStepSite runs PSIMS on the engine with its mail going to a real
// SMTP server of the test's own, and two-step verification required of
// the privileged roles, as psims serve requires it by default (apptest
// requires it of nobody).
func startTwoStepSite(t *testing.T, e dbtest.Engine) (*apptest.Site, *smtptest.Server) {
	t.Helper()
	mail := smtptest.Start(t)
	site := apptest.Start(t, e, func(cfg *config.Config) {
		cfg.SMTP = mail.URL()
		cfg.TwoStepRoles = []account.Role{account.RoleOrgAdmin, account.RoleReadOnly, account.RoleNationalAdmin}
	})
	return site, mail
}

// twoStepJourney is the org admin in one browser.
type twoStepJourney struct {
	t      *testing.T
	b      *browser
	shots  string // directory for screenshots, or "" for none
	prefix string // start of the screenshots' names
	n      int    // screenshots taken
}

// shot saves a screenshot of the page when screenshots were asked for.
func (j *twoStepJourney) shot(name string) {
	j.t.Helper()
	if j.shots == "" {
		return
	}
	j.n++
	j.b.screenshot(filepath.Join(j.shots, fmt.Sprintf("twostep-%s-%02d-%s.png", j.prefix, j.n, name)))
}

// setUp is the first sign-in: the password leads to setting up an
// authenticator app, whose key it reads off the page, and on to the
// recovery codes, which it returns with the app.
func (j *twoStepJourney) setUp(mail *smtptest.Server) (*authenticator, []string) {
	t, b := j.t, j.b
	t.Helper()

	// The password alone leads to setting up an app, which the role needs.
	b.open("/sign-in", 200)
	signIn(b, twoStepEmail, twoStepPassword, 200)
	b.wantPath("/account/two-step/set-up?next=%2F")
	b.wantHeading(setUpHeading)
	if got := b.text("main"); !strings.Contains(got, "Your account type needs two-step verification") {
		t.Errorf("the set-up page does not say the account type needs it: %q", got)
	}
	if b.exists("#totp-secret") || b.exists("#code") {
		t.Errorf("the set-up page shows a key or asks for a code before Continue")
	}
	j.shot("set-up-start")

	// Continue makes a key: a QR code, and the key in text for those who
	// cannot scan it.
	b.click("continue to set up the app", inMain("button", "Continue"), 200)
	b.wantPath("/account/two-step/set-up?next=%2F")
	b.wantHeading(setUpHeading)
	if !b.exists("main svg.app-qr-code") {
		t.Errorf("the set-up page has no QR code (main svg.app-qr-code)")
	}
	shown := b.text("#totp-secret")
	if !secretPattern.MatchString(shown) {
		t.Fatalf("the key on the set-up page is %q, want base32 in groups of four", shown)
	}
	app := &authenticator{key: decodeSecret(t, shown)}
	if len(app.key) < 10 {
		t.Errorf("the key %q is only %d bytes, want at least 80 bits (RFC 4226)", shown, len(app.key))
	}
	j.shot("set-up-key")

	// A wrong code is refused with the error summary, and the same key is
	// still shown.
	b.fill("code", app.wrongCode())
	b.click("turn on with a wrong code", inMain("button", "Turn on two-step verification"), 422)
	wantErrorPage(t, b, "#code")
	if got := b.text("#code-error"); !strings.Contains(got, "The code is not right") {
		t.Errorf("a wrong code at set-up says %q, want \"The code is not right...\"", got)
	}
	if got := b.text("#totp-secret"); got != shown {
		t.Errorf("after a wrong code the key is %q, want the same %q", got, shown)
	}
	j.shot("set-up-wrong-code")

	// The code the app shows now turns it on, and the recovery codes are
	// shown once.
	b.fill("code", app.codeNow())
	b.click("turn on with the right code", inMain("button", "Turn on two-step verification"), 200)
	b.wantHeading(codesHeading)
	codes := run(b, "the recovery codes", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('#recovery-codes li')].map(li => li.textContent.trim())`))
	if len(codes) != 10 {
		t.Fatalf("the page shows %d recovery codes %q, want 10", len(codes), codes)
	}
	for _, c := range codes {
		if !recoveryPattern.MatchString(c) {
			t.Errorf("recovery code %q is not two groups of five letters and digits", c)
		}
	}
	if sorted := slices.Sorted(slices.Values(codes)); len(slices.Compact(sorted)) != len(codes) {
		t.Errorf("the recovery codes %q are not all different", codes)
	}
	j.shot("recovery-codes")
	msg := waitForMail(t, mail, twoStepEmail, "Two-step verification is on")
	if !strings.Contains(msg.Text(), "/account/two-step") {
		t.Errorf("the email saying two-step verification is on does not link to the settings:\n%s", msg.Text())
	}

	// Saved: on to where they were going, signed in.
	b.click("say the codes are saved", inMain("a", "I have saved my codes"), 200)
	b.wantPath("/")
	b.wantHeading("Home")
	b.click("sign out after setting up", inHeader("button", "Sign out"), 200)
	b.wantHeading("You have signed out")
	return app, codes
}

// signIns signs in four times with the app set up, using the recovery
// codes first and second (each is used once), and checks that left
// recovery codes remain at the end.
func (j *twoStepJourney) signIns(app *authenticator, first, second string, left int) {
	t, b := j.t, j.b
	t.Helper()

	// The gate: waiting at the code page, every other page leads back to
	// it (keeping where they were going), but signing out works.
	j.password()
	j.shot("code-page")
	for _, path := range []string{"/events", "/account", "/account/two-step"} {
		b.open(path, 200)
		b.wantHeading(codePageHeading)
		want := "/sign-in/two-step?next=" + strings.ReplaceAll(path, "/", "%2F")
		b.wantPath(want)
		next := run(b, "the form's next", chromedp.Evaluate[string](`document.querySelector('main form input[name="next"]').value`))
		if next != path {
			t.Errorf("the code page reached from %s will go on to %q, want %q", path, next, path)
		}
	}
	j.shot("code-page-gate")
	b.click("sign out at the code page", pageSignOut, 200)
	b.wantHeading("You have signed out")
	b.open("/account", 200)
	if p := b.path(); !strings.HasPrefix(p, "/sign-in?") {
		t.Errorf("after signing out at the code page /account shows %s, want the sign-in page", p)
	}

	// Replay: the code last used is refused, the page still works, and a
	// recovery code typed in capitals without its hyphen signs in.
	j.password()
	j.code(app.lastCode, 422)
	wantErrorPage(t, b, "#code")
	if got := b.text("#code-error"); !strings.Contains(got, "That code has already been used") {
		t.Errorf("a code used before says %q, want \"That code has already been used...\"", got)
	}
	b.wantHeading(codePageHeading)
	j.shot("code-replayed")
	j.code(strings.ToUpper(strings.ReplaceAll(first, "-", "")), 200)
	b.wantPath("/")
	b.wantHeading("Home")
	b.click("sign out after the recovery code", inHeader("button", "Sign out"), 200)

	// A recovery code works once; another one works.
	j.password()
	j.code(first, 422)
	wantErrorPage(t, b, "#code")
	j.shot("recovery-code-reused")
	j.code(second, 200)
	b.wantPath("/")
	b.wantHeading("Home")
	b.click("sign out after the second recovery code", inHeader("button", "Sign out"), 200)

	// A fresh code from the app signs in and goes on to the page asked
	// for: the security settings, which count the unused recovery codes
	// and, as the role needs two-step verification, offer no turning off.
	j.password()
	b.open("/account/two-step", 200)
	b.wantPath("/sign-in/two-step?next=%2Faccount%2Ftwo-step")
	j.code(app.freshCode(t), 200)
	b.wantPath("/account/two-step")
	b.wantHeading("Two-step verification")
	page := strings.Join(strings.Fields(b.text("main")), " ")
	if !strings.Contains(page, "Two-step verification is on") {
		t.Errorf("the settings page does not say two-step verification is on: %q", page)
	}
	if want := fmt.Sprintf("You have %d unused recovery codes", left); !strings.Contains(page, want) {
		t.Errorf("the settings page says %q, want %q", page, want)
	}
	if !strings.Contains(page, "cannot be turned off") {
		t.Errorf("the settings page does not say it cannot be turned off: %q", page)
	}
	if b.exists(`form[action="/account/two-step/turn-off"]`) || b.exists("#code") {
		t.Errorf("the settings page offers to turn off two-step verification, which the role needs")
	}
	j.shot("settings")
	b.click("sign out at the end", inHeader("button", "Sign out"), 200)
	b.wantHeading("You have signed out")
}

// password signs in with the password from the sign-in page, which must
// lead to the code page.
func (j *twoStepJourney) password() {
	j.t.Helper()
	j.b.open("/sign-in", 200)
	signIn(j.b, twoStepEmail, twoStepPassword, 200)
	j.b.wantHeading(codePageHeading)
	if j.b.exists("#code-error") {
		j.t.Errorf("the code page shows an error before any code was entered")
	}
}

// code enters the code at the code page.
func (j *twoStepJourney) code(code string, wantStatus int) {
	j.t.Helper()
	j.b.fill("code", code)
	j.b.click("enter the code "+code, inMain("button", "Continue"), wantStatus)
}

// authenticator is the org admin's authenticator app: the key, and the
// last code typed from it, which the service will not take again.
type authenticator struct {
	key      []byte
	lastStep int64
	lastCode string
}

// step is the time step of now.
func step() int64 { return time.Now().Unix() / totpPeriod }

// codeNow returns the app's code for now, and remembers it as used.
func (a *authenticator) codeNow() string {
	a.lastStep = step()
	a.lastCode = totpCode(a.key, a.lastStep, 6)
	return a.lastCode
}

// freshCode returns a code of a step after the last one used, which the
// service accepts: the next step's code is accepted a step early, so it
// waits (polling the clock) only when that next step is more than one
// step ahead of now.
func (a *authenticator) freshCode(t *testing.T) string {
	t.Helper()
	next := max(step(), a.lastStep+1)
	deadline := time.Now().Add((totpPeriod + 1) * time.Second)
	for step() < next-1 {
		if time.Now().After(deadline) {
			t.Fatalf("the clock did not reach time step %d by %v", next-1, deadline)
		}
		time.Sleep(100 * time.Millisecond)
	}
	a.lastStep = next
	a.lastCode = totpCode(a.key, next, 6)
	return a.lastCode
}

// wrongCode returns six digits that are no code of the app near now.
func (a *authenticator) wrongCode() string {
	now := step()
	var near []string
	for s := now - 2; s <= now+2; s++ {
		near = append(near, totpCode(a.key, s, 6))
	}
	for n := 0; ; n++ {
		c := fmt.Sprintf("%06d", n*7919%1000000)
		if !slices.Contains(near, c) {
			return c
		}
	}
}

// totpCode is the TOTP code (RFC 6238) of the key for the time step: the
// HOTP value (RFC 4226) of the step as an 8-byte big-endian counter, by
// HMAC-SHA1 and dynamic truncation, as digits decimal digits.
func totpCode(key []byte, step int64, digits int) string {
	var counter [8]byte
	binary.BigEndian.PutUint64(counter[:], uint64(step))
	mac := hmac.New(sha1.New, key)
	mac.Write(counter[:])
	sum := mac.Sum(nil)
	offset := sum[len(sum)-1] & 0x0f
	value := binary.BigEndian.Uint32(sum[offset:offset+4]) & 0x7fffffff
	modulus := uint32(1)
	for range digits {
		modulus *= 10
	}
	return fmt.Sprintf("%0*d", digits, value%modulus)
}

// decodeSecret decodes the key as the set-up page shows it: base32 in
// groups separated by spaces, without padding.
func decodeSecret(t *testing.T, shown string) []byte {
	t.Helper()
	plain := strings.ToUpper(strings.ReplaceAll(shown, " ", ""))
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(plain)
	if err != nil {
		t.Fatalf("the key %q is not base32: %v", shown, err)
	}
	return key
}
