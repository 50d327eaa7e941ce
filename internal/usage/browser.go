package usage

import (
	"strconv"
	"strings"
)

// Browser is the browser a request came from, as a usage event keeps it:
// its family and major version, never the whole User-Agent string, which
// can be rare enough to pick a person out.
type Browser struct {
	Family string // one of the Family… constants
	Major  int    // 0 when not known
}

// The browser families a usage event names. Anything else is FamilyOther.
const (
	FamilyEdge             = "Edge"
	FamilyOpera            = "Opera"
	FamilySamsung          = "Samsung Internet"
	FamilyFirefox          = "Firefox"
	FamilyChrome           = "Chrome"
	FamilySafari           = "Safari"
	FamilyInternetExplorer = "Internet Explorer"
	FamilyOther            = "Other"
)

// maxUserAgent is how much of a User-Agent header ParseBrowser reads: the
// tokens it looks for come early, and a crafted header can be long.
const maxUserAgent = 1024

// maxMajor bounds a major version, so a crafted header cannot store a
// huge number.
const maxMajor = 9999

// String is the browser as reports show it: "Firefox 128", or the family
// alone when the version is not known.
func (b Browser) String() string {
	if b.Major == 0 {
		return b.Family
	}
	return b.Family + " " + strconv.Itoa(b.Major)
}

// ParseBrowser reads the browser family and major version from a
// User-Agent header. Browsers that build on another name it too (Edge and
// Opera say "Chrome", Chrome says "Safari"), so the more particular tokens
// are looked for first. What it does not recognise is FamilyOther.
func ParseBrowser(userAgent string) Browser {
	ua := userAgent
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	for _, t := range []struct{ token, family string }{
		{"Edg/", FamilyEdge}, {"EdgA/", FamilyEdge}, {"EdgiOS/", FamilyEdge}, {"Edge/", FamilyEdge},
		{"OPR/", FamilyOpera}, {"OPiOS/", FamilyOpera},
		{"SamsungBrowser/", FamilySamsung},
		{"Firefox/", FamilyFirefox}, {"FxiOS/", FamilyFirefox},
		{"CriOS/", FamilyChrome}, {"HeadlessChrome/", FamilyChrome}, {"Chrome/", FamilyChrome},
	} {
		if major, ok := versionAfter(ua, t.token); ok {
			return Browser{Family: t.family, Major: major}
		}
	}
	if strings.Contains(ua, "Safari/") {
		if major, ok := versionAfter(ua, "Version/"); ok {
			return Browser{Family: FamilySafari, Major: major}
		}
	}
	if major, ok := versionAfter(ua, "MSIE "); ok {
		return Browser{Family: FamilyInternetExplorer, Major: major}
	}
	if strings.Contains(ua, "Trident/") {
		major, _ := versionAfter(ua, "rv:")
		return Browser{Family: FamilyInternetExplorer, Major: major}
	}
	return Browser{Family: FamilyOther}
}

// versionAfter finds token in ua and reads the whole number straight
// after it (the major version). It reports whether token was there; the
// version is 0 when no digits follow or they exceed maxMajor.
func versionAfter(ua, token string) (int, bool) {
	i := strings.Index(ua, token)
	if i < 0 {
		return 0, false
	}
	rest := ua[i+len(token):]
	end := 0
	for end < len(rest) && end < 5 && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	major, err := strconv.Atoi(rest[:end])
	if err != nil || major > maxMajor {
		return 0, true
	}
	return major, true
}
