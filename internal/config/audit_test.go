package config

import (
	"strings"
	"testing"
)

// --audit-anchor (PSIMS_AUDIT_ANCHOR) takes a file path or an http(s) URL;
// any other URL is refused by name.
func TestAuditAnchor(t *testing.T) {
	for _, ok := range []string{"", "/var/lib/psims/anchors.txt", "anchors", "https://anchors.example.org/psims", "http://10.0.0.5:8080/a?token=x"} {
		c, err := parse(t, nil, map[string]string{"PSIMS_AUDIT_ANCHOR": ok})
		if err != nil || c.AuditAnchor != ok {
			t.Errorf("%q: %v, %q", ok, err, c.AuditAnchor)
		}
	}
	for _, bad := range []string{"ftp://example.org/anchors", "https://", "file:///tmp/x://y"} {
		if _, err := parse(t, []string{"--audit-anchor", bad}, nil); err == nil || !strings.Contains(err.Error(), "--audit-anchor") {
			t.Errorf("%q: %v, want refused naming --audit-anchor", bad, err)
		}
	}
}
