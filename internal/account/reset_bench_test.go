package account_test

import (
	"context"
	"testing"

	"github.com/psims/psims/internal/db/dbtest"
)

// BenchmarkRequestReset times a reset request for an address with an
// account and for one without, on each engine. The two must cost the same
// (the figures are in docs/benchmarks.md):
//
//	go test ./internal/account -run x -bench RequestReset -benchtime 2000x
func BenchmarkRequestReset(b *testing.B) {
	for _, e := range dbtest.Engines(b) {
		d := dbtest.Open(b, e)
		f := newFixture(b, d)
		f.activeUser(b, "known@nhs.net")
		for _, email := range []string{"known@nhs.net", "unknown@nhs.net"} {
			b.Run(e.Name+"/"+email[:len(email)-len("@nhs.net")], func(b *testing.B) {
				ctx := context.Background()
				for b.Loop() {
					if err := f.svc.RequestReset(ctx, email, "192.0.2.1"); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
