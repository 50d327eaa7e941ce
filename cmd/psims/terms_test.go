package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psims/psims/internal/db/dbtest"
)

// T2, T19: the command publishes numbered versions; a material one of the
// terms says everyone must accept it again.
func TestTermsPublish(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			env := engineEnv(t, e)
			file := filepath.Join(t.TempDir(), "terms.md")
			if err := os.WriteFile(file, []byte("## Using PSIMS\n\nKeep your password to yourself.\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			// The first start publishes the defaults as version 1.
			out, stderr, code := psims(t, env, "", "terms", "publish", "--kind", "terms", "--file", file, "--material", "--summary", "Shorter.")
			if code != 0 || !strings.Contains(out, "Published version 2 of the terms of use (material") {
				t.Fatalf("publish: code %d, %q %q", code, out, stderr)
			}
			out, _, code = psims(t, env, "", "terms", "publish", "--kind", "privacy", "--file", file)
			if code != 0 || !strings.Contains(out, "version 2 of the privacy policy (not material") {
				t.Fatalf("publish privacy: code %d, %q", code, out)
			}
			for _, bad := range [][]string{
				{"terms", "publish", "--kind", "cookies", "--file", file},
				{"terms", "publish", "--kind", "terms"},
				{"terms", "publish", "--kind", "terms", "--file", file, "extra"},
			} {
				if _, stderr, code := psims(t, env, "", bad...); code != 2 || stderr == "" {
					t.Errorf("%v: code %d, want 2 with a message", bad, code)
				}
			}
			empty := filepath.Join(t.TempDir(), "empty.md")
			os.WriteFile(empty, nil, 0o600)
			if _, stderr, code := psims(t, env, "", "terms", "publish", "--kind", "terms", "--file", empty); code != 1 || !strings.Contains(stderr, "Enter the text") {
				t.Errorf("empty file: code %d, %q", code, stderr)
			}
		})
	}
}
