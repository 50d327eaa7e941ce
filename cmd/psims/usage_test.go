package main

import (
	"encoding/csv"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/db/dbtest"
)

var biggestLine = regexp.MustCompile(`The biggest organisation is ([A-Z0-9]+),`)

// P6, P10, P19: demo seed --usage adds synthetic usage and rolls it up;
// usage report prints weeks, months and a total for an organisation or
// the whole service, as CSV or JSON, with figures under five people
// suppressed, and rows per person only with --org and consent (nobody
// has consented in a demo). Bad flags are bad usage; an unknown
// organisation is a failure.
func TestUsageReport(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			vars := engineEnv(t, e)
			out, stderr, code := psims(t, vars, "", "demo", "seed", "--orgs", "3", "--users", "30", "--usage", "4000", "--seed", "5")
			if code != 0 || !strings.Contains(out, "Added 4000 usage events") {
				t.Fatalf("seed: exit %d: %s%s", code, out, stderr)
			}
			m := biggestLine.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("no biggest organisation in %s", out)
			}
			org := m[1]
			today := time.Now().UTC()
			from := time.Date(today.Year(), today.Month()-2, 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
			to := today.Format(time.DateOnly)

			out, stderr, code = psims(t, vars, "", "usage", "report", "--org", strings.ToLower(org), "--from", from, "--to", to, "--individuals")
			if code != 0 {
				t.Fatalf("csv: exit %d: %s", code, stderr)
			}
			tables := strings.Split(out, "\n\n")
			if len(tables) != 2 {
				t.Fatalf("want the periods and the people apart:\n%s", out)
			}
			rows, err := csv.NewReader(strings.NewReader(tables[0])).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if rows[0][0] != "period" || rows[0][3] != "active_users" || rows[0][len(rows[0])-1] != "views_other" {
				t.Fatalf("header %v", rows[0])
			}
			months, total := 0, rows[len(rows)-1]
			for _, r := range rows[1:] {
				if r[0] == "month" {
					months++
				}
			}
			if months != 3 || total[0] != "total" || total[1] != from || total[2] != to {
				t.Fatalf("%d months, total %v", months, total)
			}
			if !strings.Contains(tables[0], "<5") {
				t.Errorf("nothing suppressed in a report of a few people:\n%s", tables[0])
			}
			if people := strings.TrimSpace(tables[1]); people != "user_id,name,email,sign_ins,page_views,documents_opened,active_days,last_active" {
				t.Errorf("people without consent:\n%s", people)
			}

			out, stderr, code = psims(t, vars, "", "usage", "report", "--from", from, "--to", to, "--format", "json")
			if code != 0 {
				t.Fatalf("json: exit %d: %s", code, stderr)
			}
			var rep struct {
				Org      *string
				MinUsers int `json:"min_users"`
				Months   []map[string]any
				Total    struct {
					ActiveUsers *int64 `json:"active_users"`
					PageViews   *int64 `json:"page_views"`
					Views       map[string]*int64
					Suppressed  []string
				}
				People []any
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("%v:\n%s", err, out)
			}
			if rep.Org != nil || rep.MinUsers != 5 || len(rep.Months) != 3 || rep.Total.ActiveUsers == nil || *rep.Total.ActiveUsers < 5 ||
				rep.Total.PageViews == nil || *rep.Total.PageViews == 0 || len(rep.Total.Views) != 10 || rep.People != nil {
				t.Fatalf("national report %+v:\n%s", rep, out)
			}

			for _, bad := range [][]string{
				{"usage", "report", "--from", from},
				{"usage", "report", "--from", "yesterday", "--to", to},
				{"usage", "report", "--from", to, "--to", from},
				{"usage", "report", "--from", from, "--to", to, "--format", "xml"},
				{"usage", "report", "--from", from, "--to", to, "--individuals"},
				{"usage", "report", "--org", "not a code", "--from", from, "--to", to},
				{"usage", "report", "--from", from, "--to", to, "extra"},
			} {
				if _, stderr, code := psims(t, vars, "", bad...); code != 2 || stderr == "" {
					t.Errorf("%v: exit %d, want 2 with a message", bad, code)
				}
			}
			if _, stderr, code := psims(t, vars, "", "usage", "report", "--org", "ZZZ9", "--from", from, "--to", to); code != 1 || stderr == "" {
				t.Errorf("an unknown organisation: exit %d, %q; want 1", code, stderr)
			}
		})
	}
}
