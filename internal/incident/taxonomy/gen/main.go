// Command gen writes the taxonomy file from the LFPSE reference pages:
//
//	go run ./gen -ref ../../../../shared/reference -out taxonomy.json
//
// It is run by `go generate ./internal/incident/taxonomy`. It fails, writing
// nothing, on any line of the reference it cannot read, and the same
// reference always gives the same bytes.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/psims/psims/internal/incident/taxonomy"
	"github.com/psims/psims/internal/incident/taxonomy/refparse"
)

func main() {
	ref := flag.String("ref", "", "the folder of the reference pages (lfpse-v5-*.md)")
	out := flag.String("out", "", "the taxonomy file to write")
	flag.Parse()
	if *ref == "" || *out == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: gen -ref DIR -out FILE")
		os.Exit(2)
	}
	if err := run(*ref, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// run parses the reference in ref and writes the taxonomy file to out. The
// file is written to a temporary name and renamed, so a failed run leaves
// the old file in place.
func run(ref, out string) error {
	t, err := refparse.Parse(ref)
	if err != nil {
		return err
	}
	data, err := taxonomy.Encode(t)
	if err != nil {
		return err
	}
	// What is written must load.
	if _, err := taxonomy.Parse(data); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".taxonomy-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}
