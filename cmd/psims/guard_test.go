package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// T12: psims guard check prints each identifier as a JSON line with its
// kind and offsets, never the text, and exits 3 when it found any.
func TestGuardCheck(t *testing.T) {
	env := map[string]string{}
	t.Run("text with an NHS number exits 3 and prints kind and offsets without the digits", func(t *testing.T) {
		in := "Wristband said NHS number 943 476 5919.\nPhone 07700 900123.\n"
		out, stderr, code := psims(t, env, in, "guard", "check")
		if code != 3 {
			t.Fatalf("exit %d, want 3 (stderr %q)", code, stderr)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		want := []struct {
			kind, text string
		}{{"nhs_number", "943 476 5919"}, {"phone", "07700 900123"}}
		if len(lines) != len(want) {
			t.Fatalf("%d lines, want %d: %q", len(lines), len(want), out)
		}
		for i, line := range lines {
			var f map[string]any
			if err := json.Unmarshal([]byte(line), &f); err != nil {
				t.Fatalf("line %d is not JSON: %q", i+1, line)
			}
			if len(f) != 3 {
				t.Errorf("line %d has fields %v, want kind, start and end only", i+1, f)
			}
			start, end := int(f["start"].(float64)), int(f["end"].(float64))
			if f["kind"] != want[i].kind || in[start:end] != want[i].text {
				t.Errorf("line %d = %q, want %s at %q", i+1, line, want[i].kind, want[i].text)
			}
		}
		for _, digits := range []string{"943", "476", "5919", "07700", "900123"} {
			if strings.Contains(out, digits) || strings.Contains(stderr, digits) {
				t.Errorf("the output repeats %q: %q %q", digits, out, stderr)
			}
		}
		if !strings.Contains(stderr, "2 identifiers found") {
			t.Errorf("stderr %q does not say how many were found", stderr)
		}
	})
	t.Run("clean text exits 0 and prints nothing", func(t *testing.T) {
		out, stderr, code := psims(t, env, "Paracetamol 1 g at 10:00 on Ward 10, bed 12, on 12/03/2024.\n", "guard", "check")
		if code != 0 || out != "" || stderr != "" {
			t.Fatalf("exit %d, stdout %q, stderr %q; want 0 and nothing", code, out, stderr)
		}
	})
	t.Run("empty input is clean", func(t *testing.T) {
		if out, _, code := psims(t, env, "", "guard", "check"); code != 0 || out != "" {
			t.Fatalf("exit %d, stdout %q", code, out)
		}
	})
	t.Run("invalid flags are bad usage", func(t *testing.T) {
		for _, args := range [][]string{
			{"guard", "check", "--nope"},
			{"guard", "check", "--database", "postgres://x"},
			{"guard", "check", "file.txt"},
			{"guard", "scan"},
			{"guard"},
		} {
			if _, stderr, code := psims(t, env, "NHS number 943 476 5919", args...); code != 2 || stderr == "" {
				t.Errorf("%v: exit %d, stderr %q; want 2 with a message", args, code, stderr)
			}
		}
	})
	t.Run("help succeeds", func(t *testing.T) {
		out, _, code := psims(t, env, "", "guard", "check", "--help")
		if code != 0 || !strings.Contains(out, "psims guard check") {
			t.Fatalf("exit %d, %q", code, out)
		}
	})
}
