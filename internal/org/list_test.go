package org

import (
	"context"
	"testing"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

const listFixture = `ods_code,name,type,parent
QMM,NHS NORFOLK AND WAVENEY INTEGRATED CARE BOARD,icb,
RM1,NORFOLK AND NORWICH UNIVERSITY HOSPITALS NHS FOUNDATION TRUST,trust,QMM
RGN,NORTH WEST ANGLIA NHS FOUNDATION TRUST,trust,
D82044,UNIVERSITY MEDICAL PARTNERSHIP,gp-practice,QMM
D82001,ALDBOROUGH SURGERY,gp-practice,QMM
FL479,CORNER PHARMACY 100%_SURE,other,
`

func listedCodes(ls []Listed) string {
	orgs := make([]Organisation, 0, len(ls))
	for _, l := range ls {
		orgs = append(orgs, l.Organisation)
	}
	return codes(orgs)
}

func TestListFiltersPagesAndCountsUsers(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := NewStore(d)
		mustImport(t, s, listFixture)
		now := d.Now()
		err := d.InTx(ctx, func(tx *db.Tx) error {
			for i, org := range []string{"RM1", "RM1", "D82001"} {
				if _, err := tx.ExecContext(ctx, `INSERT INTO users (email, name, job_role, org_ods, role, status, password_hash, created_at, updated_at)
					VALUES ($1, 'List Person', 'Tester', $2, 'reporter', 'active', 'x', $3, $3)`,
					"list"+string(rune('a'+i))+"@example.invalid", org, now); err != nil {
					return err
				}
			}
			_, err := tx.ExecContext(ctx, `UPDATE organisations SET active = FALSE WHERE ods_code = 'RGN'`)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		yes, no := true, false
		tests := []struct {
			name  string
			f     OrgFilter
			want  string
			total int
		}{
			{"everything by name", OrgFilter{}, "D82001 FL479 QMM RM1 RGN D82044", 6},
			{"code prefix in any case", OrgFilter{Query: "d82"}, "D82001 D82044", 2},
			{"exact code first", OrgFilter{Query: "rm1"}, "RM1", 1},
			{"part of the name", OrgFilter{Query: "norfolk"}, "QMM RM1", 2},
			{"percent and underscore are literal", OrgFilter{Query: "100%_"}, "FL479", 1},
			{"percent alone matches nothing special", OrgFilter{Query: "%"}, "FL479", 1},
			{"type", OrgFilter{Type: TypeTrust}, "RM1 RGN", 2},
			{"unknown type", OrgFilter{Type: "castle"}, "", 0},
			{"active only", OrgFilter{Type: TypeTrust, Active: &yes}, "RM1", 1},
			{"inactive only", OrgFilter{Active: &no}, "RGN", 1},
			{"second page", OrgFilter{Page: 2, PerPage: 4}, "RGN D82044", 6},
			{"past the end", OrgFilter{Page: 9, PerPage: 4}, "", 6},
		}
		for _, tt := range tests {
			p, err := s.List(ctx, tt.f)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if got := listedCodes(p.Orgs); got != tt.want || p.Total != tt.total {
				t.Errorf("%s: got %q (total %d), want %q (total %d)", tt.name, got, p.Total, tt.want, tt.total)
			}
		}

		p, err := s.List(ctx, OrgFilter{Query: "RM1"})
		if err != nil || len(p.Orgs) != 1 {
			t.Fatalf("RM1: %v %+v", err, p)
		}
		if l := p.Orgs[0]; l.Users != 2 || l.Parent.String() != "QMM" || !l.Active || l.Type != TypeTrust {
			t.Errorf("RM1 listed as %+v", l)
		}
		if p.Page != 1 || p.PerPage != DefaultPerPage || p.Pages() != 1 {
			t.Errorf("paging %d/%d/%d", p.Page, p.PerPage, p.Pages())
		}
		if p, _ := s.List(ctx, OrgFilter{PerPage: 1000}); p.PerPage != MaxPerPage {
			t.Errorf("per page %d, want at most %d", p.PerPage, MaxPerPage)
		}
		if got := (OrgPage{Total: 51, PerPage: 25}).Pages(); got != 3 {
			t.Errorf("Pages() = %d, want 3", got)
		}

		kids, err := s.Children(ctx, mustCode(t, "QMM"))
		if err != nil {
			t.Fatal(err)
		}
		if got := listedCodes(kids); got != "D82001 RM1 D82044" {
			t.Errorf("children of QMM: %q", got)
		}
		if kids, err := s.Children(ctx, mustCode(t, "RM1")); err != nil || len(kids) != 0 {
			t.Errorf("children of RM1: %v %v", kids, err)
		}

		counts, err := s.UserCounts(ctx, mustCode(t, "RM1"))
		if err != nil {
			t.Fatal(err)
		}
		if len(counts) != 1 || counts[0] != (UserCount{Role: "reporter", Status: "active", Users: 2}) {
			t.Errorf("user counts of RM1: %+v", counts)
		}
	})
}
