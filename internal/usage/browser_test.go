package usage

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// Browsers that build on another name it in their User-Agent too: each is
// told apart by its own token, whatever else the string says.
func TestParseBrowserNamesFamilyAndMajorVersion(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		ua   string
		want Browser
	}{
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
			Browser{FamilyChrome, 131}},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86",
			Browser{FamilyEdge, 131}},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", Browser{FamilyFirefox, 133}},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
			Browser{FamilySafari, 18}},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
			Browser{FamilyChrome, 131}},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/133.0 Mobile/15E148 Safari/605.1.15",
			Browser{FamilyFirefox, 133}},
		{"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
			Browser{FamilySamsung, 26}},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0",
			Browser{FamilyOpera, 115}},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
			Browser{FamilyChrome, 131}},
		{"Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko", Browser{FamilyInternetExplorer, 11}},
		{"Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.1; Trident/6.0)", Browser{FamilyInternetExplorer, 10}},
		{"curl/8.5.0", Browser{FamilyOther, 0}},
		{"", Browser{FamilyOther, 0}},
		// A version too large to be one, or none at all.
		{"Firefox/123456789", Browser{FamilyFirefox, 0}},
		{"Chrome/", Browser{FamilyChrome, 0}},
		// Only the start of a very long header is read.
		{strings.Repeat("x", maxUserAgent) + " Firefox/133.0", Browser{FamilyOther, 0}},
	} {
		if got := ParseBrowser(c.ua); got != c.want {
			t.Errorf("ParseBrowser(%.60q…) = %+v, want %+v", c.ua, got, c.want)
		}
	}
	if s := (Browser{FamilyFirefox, 133}).String(); s != "Firefox 133" {
		t.Errorf("String() = %q", s)
	}
	if s := (Browser{FamilyOther, 0}).String(); s != "Other" {
		t.Errorf("String() = %q", s)
	}
}

// Whatever a header holds, the browser is one of the families, with a
// bounded version, and its name is plain text.
func FuzzParseBrowser(f *testing.F) {
	for _, seed := range []string{"", "Chrome/131.0", "Edg/1 Chrome/2", "MSIE ", "Trident/ rv:", "Version/18 Safari/1", "Firefox/\x00\xff"} {
		f.Add(seed)
	}
	families := map[string]bool{FamilyEdge: true, FamilyOpera: true, FamilySamsung: true, FamilyFirefox: true,
		FamilyChrome: true, FamilySafari: true, FamilyInternetExplorer: true, FamilyOther: true}
	f.Fuzz(func(t *testing.T, ua string) {
		b := ParseBrowser(ua)
		if !families[b.Family] || b.Major < 0 || b.Major > maxMajor {
			t.Fatalf("ParseBrowser(%q) = %+v", ua, b)
		}
		if s := b.String(); !utf8.ValidString(s) || len(s) > 40 {
			t.Fatalf("String() = %q", s)
		}
	})
}
