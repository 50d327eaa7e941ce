package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

// P2: the command adds a document to the library through the same checks
// as the service's form, audited as done from the command line.
func TestDocsAdd(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			env := engineEnv(t, e)
			dir := t.TempDir()
			write := func(name, content string) string {
				p := filepath.Join(dir, name)
				if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
				return p
			}
			guide := write("guide.pdf", "%PDF-1.7 guidance")
			out, stderr, code := psims(t, env, "", "docs", "add", "--file", guide, "--title", "Recording guide",
				"--summary", "How to record.", "--audience", "reviewer, org-admin", "--version", "1.0")
			if code != 0 || !strings.Contains(out, `Added "Recording guide" to the library as document 1: version 1, PDF, 17 bytes, for reviewer, org-admin.`) {
				t.Fatalf("add: code %d, %q %q", code, out, stderr)
			}
			out, _, code = psims(t, env, "", "docs", "add", "--file", write("notes.md", "# Notes\n"), "--title", "Notes")
			if code != 0 || !strings.Contains(out, "Markdown text, 8 bytes, for everyone.") {
				t.Fatalf("add with the defaults: code %d, %q", code, out)
			}
			for _, bad := range [][]string{
				{"docs", "add", "--title", "No file"},
				{"docs", "add", "--file", guide},
				{"docs", "add", "--file", guide, "--title", "T", "--audience", "superuser"},
				{"docs", "add", "--file", guide, "--title", "T", "extra"},
				{"docs", "remove"},
			} {
				if _, stderr, code := psims(t, env, "", bad...); code != 2 || stderr == "" {
					t.Errorf("%v: code %d, want 2 with a message", bad, code)
				}
			}
			for _, c := range []struct {
				file, says string
			}{
				{write("guide.docx", "%PDF-1.7 misnamed"), "The file is a PDF, but its name ends in .docx"},
				{write("empty.pdf", ""), "The file is empty"},
				{filepath.Join(dir, "missing.pdf"), "no such file"},
			} {
				if _, stderr, code := psims(t, env, "", "docs", "add", "--file", c.file, "--title", "T"); code != 1 || !strings.Contains(stderr, c.says) {
					t.Errorf("%s: code %d, %q; want 1 saying %q", filepath.Base(c.file), code, stderr, c.says)
				}
			}
			big, err := os.Create(filepath.Join(dir, "big.pdf"))
			if err != nil {
				t.Fatal(err)
			}
			big.WriteString("%PDF-1.7")
			big.Truncate(21 << 20)
			big.Close()
			if _, stderr, code := psims(t, env, "", "docs", "add", "--file", big.Name(), "--title", "Big"); code != 1 || !strings.Contains(stderr, "20 MB or smaller") {
				t.Errorf("a file over 20 MB: code %d, %q", code, stderr)
			}

			d, err := db.Open(context.Background(), e.Database, e.SQLitePath)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			rows, err := audit.List(context.Background(), d, "library_document", "1", 5)
			if err != nil || len(rows) != 1 || rows[0].Action != "library.add" || rows[0].ActorID != 0 || rows[0].Details["label"] != "1.0" {
				t.Fatalf("audit: %v %+v", err, rows)
			}
		})
	}
}
