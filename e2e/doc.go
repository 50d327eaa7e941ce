// Package e2e holds the end-to-end tests of PSIMS: they run the real server
// in-process, deliver its email to a real SMTP server, and drive Chromium
// through its pages with chromedp, checking every page with axe-core and the
// browser console as they go.
//
// The tests skip when /usr/bin/chromium is missing, unless
// PSIMS_REQUIRE_CHROMIUM=1 is set (as CI sets it), when they fail instead.
// They need `make assets` first, for axe-core.
//
// The tests run one at a time, unlike those of the other packages: on two
// cores, two browsers and two race-instrumented servers at once took as long
// as one after the other, and over a quarter more processor time, which the
// other packages' tests running alongside then lack.
package e2e
