package mail_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/mail/smtptest"
)

// BenchmarkDelivery measures messages queued in one transaction and
// delivered through the worker to a real SMTP server with no rate limit:
// each carries the at-most-once bookkeeping (a committed try before SMTP,
// the outcome after). Run with -benchtime=Nx for N messages.
func BenchmarkDelivery(b *testing.B) {
	for _, e := range dbtest.Engines(b) {
		b.Run(e.Name, func(b *testing.B) {
			d := dbtest.Open(b, e)
			srv := smtptest.Start(b)
			sender, err := mail.NewSender(srv.URL(), "")
			if err != nil {
				b.Fatal(err)
			}
			sys := startSystemWith(b, d, sender, mail.WorkerOptions{}).outbox
			b.ResetTimer()
			start := time.Now()
			err = d.InTx(context.Background(), func(tx *db.Tx) error {
				for i := range b.N {
					if _, err := sys.Enqueue(context.Background(), tx, mail.AccountLocked(fmt.Sprintf("b%d@example.nhs.uk", i), "B")); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			for len(srv.Messages()) < b.N {
				if time.Since(start) > 5*time.Minute {
					b.Fatalf("%d of %d delivered after 5 minutes", len(srv.Messages()), b.N)
				}
				time.Sleep(5 * time.Millisecond)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}
