package org

import (
	"context"
	"fmt"
	"testing"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
)

// TestLoadWritesOrganisationsInTheCallersTransaction loads more than one
// statement's worth, with parents, and checks that a failing load leaves
// nothing behind.
func TestLoadWritesOrganisationsInTheCallersTransaction(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := NewStore(d)
		mustImport(t, s, "RM1,Existing Hospital\n")
		icb := Organisation{Code: mustCode(t, "Q01"), Name: "Demo Board", Type: TypeICB, Active: true}
		orgs := []Organisation{icb}
		for i := range loadBatch + 7 {
			orgs = append(orgs, Organisation{Code: mustCode(t, fmt.Sprintf("P%05d", i)), Name: fmt.Sprintf("Demo Practice %d", i),
				Type: TypeGPPractice, Parent: icb.Code, Active: i%2 == 0})
		}
		err := d.InTx(ctx, func(tx *db.Tx) error {
			taken, err := s.Codes(ctx, tx)
			if err != nil {
				return err
			}
			if len(taken) != 1 || !taken["RM1"] {
				t.Errorf("codes before the load: %v", taken)
			}
			return s.Load(ctx, tx, orgs)
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Analyze(ctx); err != nil {
			t.Fatal(err)
		}
		if n, err := s.Count(ctx); err != nil || n != len(orgs)+1 {
			t.Fatalf("count %d, %v; want %d", n, err, len(orgs)+1)
		}
		for _, want := range []Organisation{icb, orgs[1], orgs[2], orgs[len(orgs)-1]} {
			got, err := s.Get(ctx, want.Code)
			if err != nil || got != want {
				t.Errorf("stored %+v, %v; want %+v", got, err, want)
			}
		}

		// A code already stored fails the load, and the caller's
		// transaction with it.
		again := []Organisation{{Code: mustCode(t, "Q02"), Name: "New Board", Type: TypeICB, Active: true}, orgs[5]}
		if err := d.InTx(ctx, func(tx *db.Tx) error { return s.Load(ctx, tx, again) }); !db.IsUniqueViolation(err) {
			t.Fatalf("loading a stored code: %v, want a unique violation", err)
		}
		if n, _ := s.Count(ctx); n != len(orgs)+1 {
			t.Errorf("%d organisations after a failed load, want %d", n, len(orgs)+1)
		}

		for _, bad := range []Organisation{
			{Name: "No code", Type: TypeTrust},
			{Code: mustCode(t, "R99"), Type: TypeTrust},
			{Code: mustCode(t, "R99"), Name: "No type"},
		} {
			if err := d.InTx(ctx, func(tx *db.Tx) error { return s.Load(ctx, tx, []Organisation{bad}) }); err == nil {
				t.Errorf("loaded %+v", bad)
			}
		}
	})
}
