package fhir_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
)

// clientDir holds the FHIR client library's npm package and the script
// that drives it; `make test` installs it.
const clientDir = "testdata/client"

// TestARealFHIRClientLibraryDrivesTheAPI runs fhir-kit-client (npm), a
// FHIR client library of its own, against a running PSIMS on each engine:
// it reads the CapabilityStatement, creates, reads, updates with If-Match
// (and is refused a stale one), reads the history and follows search's
// next links, changing nothing but its base URL and key. The test fails
// rather than skips in CI (PSIMS_REQUIRE_FHIR_CLIENT=1) when Node.js or
// the library is missing.
func TestARealFHIRClientLibraryDrivesTheAPI(t *testing.T) {
	node, err := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join(clientDir, "node_modules", "fhir-kit-client", "package.json"))
	if err != nil || modErr != nil {
		if os.Getenv("PSIMS_REQUIRE_FHIR_CLIENT") != "" {
			t.Fatalf("Node.js (%v) or fhir-kit-client (%v) is missing: run `make test`, which installs it", err, modErr)
		}
		t.Skip("Node.js or fhir-kit-client is missing; `make test` installs it")
	}
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s := newAPISite(t, e, nil)
			body, _ := s.resource(incident.Incident, nil)
			var ae map[string]any
			json.Unmarshal(body, &ae)
			delete(ae, "id")
			delete(ae, "meta")
			body, _ = json.Marshal(ae)
			file := filepath.Join(t.TempDir(), "incident.json")
			if err := os.WriteFile(file, body, 0o600); err != nil {
				t.Fatal(err)
			}
			// The events already there, which search must find too.
			first, _ := s.create(body)
			cmd := exec.Command(node, "client.mjs", s.site.URL, s.key, file)
			cmd.Dir = clientDir
			out, err := cmd.Output()
			if err != nil {
				var stderr []byte
				if ee, ok := err.(*exec.ExitError); ok {
					stderr = ee.Stderr
				}
				t.Fatalf("fhir-kit-client: %v\n%s\n%s", err, out, stderr)
			}
			var got struct {
				FhirVersion, ID, ReadVersion, UpdatedVersion, UpdatedText string
				StaleUpdate                                               any
				History, Searched                                         []string
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if got.FhirVersion != "4.0.1" || got.ReadVersion != "1" || got.UpdatedVersion != "2" ||
				got.UpdatedText != "Changed through fhir-kit-client." || got.StaleUpdate != float64(412) ||
				!slices.Equal(got.History, []string{"2", "1"}) || !slices.Equal(got.Searched, []string{string(first), got.ID}) {
				t.Fatalf("the client saw %+v", got)
			}
		})
	}
}
