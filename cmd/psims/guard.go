package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/psims/psims/internal/pii"
)

const guardCheckSummary = `Reads text on standard input and prints each identifier the guard finds
(NHS numbers, postcodes, dates of birth, phone numbers, email addresses,
hospital or medical record numbers, names) as one JSON object per line: its
kind and its start and end as byte offsets into the input (end exclusive),
never the text itself. Exits 3 when anything was found and 0 when the text
is clean, so that data can be vetted before an import.`

// guardFinding is one line of the output of psims guard check.
type guardFinding struct {
	Kind  pii.Kind `json:"kind"`
	Start int      `json:"start"`
	End   int      `json:"end"`
}

// cmdGuardCheck runs the identifier guard (issue 5) over standard input.
func cmdGuardCheck(_ context.Context, e env, args []string) error {
	// No flag groups: the command touches neither the database nor the
	// network.
	_, fs, err := parse(e, "guard check", guardCheckSummary, 0, args, nil)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("guard check takes no arguments; it reads standard input")
	}
	text, err := io.ReadAll(e.stdin)
	if err != nil {
		return fmt.Errorf("guard check: read standard input: %w", err)
	}
	findings := pii.Scan(string(text))
	out := bufio.NewWriter(e.stdout)
	enc := json.NewEncoder(out)
	for _, f := range findings {
		if err := enc.Encode(guardFinding{Kind: f.Kind, Start: f.Start, End: f.End}); err != nil {
			return fmt.Errorf("guard check: %w", err)
		}
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("guard check: %w", err)
	}
	switch len(findings) {
	case 0:
		return nil
	case 1:
		return foundError{"guard check: 1 identifier found"}
	default:
		return foundError{fmt.Sprintf("guard check: %d identifiers found", len(findings))}
	}
}
