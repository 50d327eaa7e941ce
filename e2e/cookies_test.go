package e2e

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/psims/psims/internal/db/dbtest"
)

// cookieBanner selects the cookie banner by its landmark.
const cookieBanner = `[role="region"][aria-label="Cookies on PSIMS"]`

// inCookieBanner is inMain for the cookie banner.
func inCookieBanner(tag, text string) chromedp.Search {
	return byText(`*[@role="region"][@aria-label="Cookies on PSIMS"]`, tag, text)
}

// siteCookies returns the cookies the browser holds for the site, by name.
// It asks the browser itself, as PSIMS's cookies are all HttpOnly and so
// hidden from page scripts.
func siteCookies(b *browser) map[string]*network.Cookie {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{b.base + "/"}})
	if err != nil {
		b.t.Fatalf("read cookies: %v", err)
	}
	cookies := map[string]*network.Cookie{}
	for _, c := range res.Cookies {
		cookies[c.Name] = c
	}
	return cookies
}

// TestCookieChoice answers the cookie banner and then changes the answer on
// the cookies page, with JavaScript on and off: a fresh browser is asked,
// rejecting brings it back to the same page with no banner and no analytics
// cookie, and choosing analytics cookies on the cookies page sets one.
func TestCookieChoice(t *testing.T) { // P5
	chromium(t)
	site, _ := startSite(t, dbtest.SQLite(t))
	for _, tc := range []struct {
		name string
		js   bool
	}{{"with JavaScript", true}, {"without JavaScript", false}} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBrowser(t, site.URL, tc.js)

			b.open("/accessibility", 200)
			if !b.exists(cookieBanner) {
				t.Fatal("a fresh browser is not shown the cookie banner")
			}
			if got := b.text(cookieBanner + " h2"); got != "Cookies on PSIMS" {
				t.Errorf("the banner's heading is %q", got)
			}
			if tc.js {
				b.screenshot("/tmp/cookie-banner.png")
			}
			b.click("reject analytics cookies", inCookieBanner("button", "Reject analytics cookies"), 200)
			b.wantPath("/accessibility")
			b.wantHeading("Accessibility statement")
			if b.exists(cookieBanner) {
				t.Error("the banner is still shown after rejecting")
			}
			cookies := siteCookies(b)
			if c := cookies["psims_analytics"]; c != nil {
				t.Errorf("psims_analytics is set after rejecting: %q", c.Value)
			}
			if c := cookies["psims_cookie_policy"]; c == nil || c.Value != "rejected" {
				t.Errorf("psims_cookie_policy is %+v, want rejected", c)
			}

			b.click("follow the footer's Cookies link", byText("footer", "a", "Cookies"), 200)
			b.wantHeading("Cookies")
			b.step("choose to use analytics cookies", chromedp.Click(chromedp.CSS(`label[for="analytics"]`)))
			b.click("save cookie settings", inMain("button", "Save cookie settings"), 200)
			b.wantPath("/cookies?saved=1")
			if got := b.text(".nhsuk-notification-banner__heading"); got != "Your cookie settings were saved" {
				t.Errorf("after saving the page says %q", got)
			}
			if !b.exists(`#analytics:checked`) {
				t.Error("the cookies page does not show analytics cookies as chosen")
			}
			cookies = siteCookies(b)
			if c := cookies["psims_analytics"]; c == nil || c.Value == "" || !c.HTTPOnly {
				t.Errorf("psims_analytics is %+v, want an HttpOnly identifier", c)
			}
			if c := cookies["psims_cookie_policy"]; c == nil || c.Value != "accepted" {
				t.Errorf("psims_cookie_policy is %+v, want accepted", c)
			}

			b.open("/", 200)
			if b.exists(cookieBanner) {
				t.Error("the banner came back after the choice was changed")
			}
		})
	}
}
