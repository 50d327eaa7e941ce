package synth

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/form"
)

// FillBatch is how many events Fill hands to its store at once, unless
// the plan says otherwise: as many as incident.Service.Load writes in one
// transaction.
const FillBatch = 10000

// Plan says what Fill makes.
type Plan struct {
	Events int
	Seed   uint64
	// Now is when the events are recorded; they happened in the two years
	// before.
	Now time.Time
	// Reporters record the events, each event by one of them at random,
	// in the reporter's organisation: repeat a reporter, or give an
	// organisation more reporters, to give it more events.
	Reporters []Reporter
	// StatementVersion is the recording statement every reporter saw.
	StatementVersion int
	// Workers is how many goroutines generate; runtime.NumCPU() when <= 0.
	Workers int
	// Batch is how many events each call of the store gets (the last may
	// get fewer); FillBatch when <= 0.
	Batch int
}

// Fill makes plan.Events events and hands them, in batches of plan.Batch
// and in order, to store (such as incident.Service.Load). Generating runs
// on several goroutines while store works on the batch before. Batch k is
// made by a generator of its own, seeded from plan.Seed and k, so the same
// plan makes the same events however many workers there are. It stops at
// the first error, from store or from generating.
func Fill(ctx context.Context, f *form.Form, plan Plan, store func(context.Context, []incident.Submission) error) error {
	if plan.Events < 0 || len(plan.Reporters) == 0 || plan.StatementVersion < 1 {
		return errors.New("synth: a plan needs events, reporters and a statement version")
	}
	if plan.Workers <= 0 {
		plan.Workers = runtime.NumCPU()
	}
	if plan.Batch <= 0 {
		plan.Batch = FillBatch
	}
	var orgs []string
	for _, r := range plan.Reporters {
		if r.OrgCode == "" {
			return errors.New("synth: every reporter of a plan needs an organisation")
		}
		if !slices.Contains(orgs, r.OrgCode) {
			orgs = append(orgs, r.OrgCode)
		}
	}
	if _, err := New(f, orgs, plan.Seed); err != nil {
		return err
	}
	batches := (plan.Events + plan.Batch - 1) / plan.Batch
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	// Each batch has a slot of its own; window bounds how many batches are
	// in memory at once: one being stored, one being made by each worker.
	slots := make([]chan []incident.Submission, batches)
	for k := range slots {
		slots[k] = make(chan []incident.Submission, 1)
	}
	window := make(chan struct{}, plan.Workers+1)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range plan.Workers {
		wg.Go(func() {
			for k := range jobs {
				subs, err := fillBatch(f, plan, orgs, k)
				if err != nil {
					cancel(err)
					return
				}
				slots[k] <- subs
			}
		})
	}
	go func() {
		defer close(jobs)
		for k := range batches {
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- k:
			case <-ctx.Done():
				return
			}
		}
	}()

	err := func() error {
		for k := range batches {
			var subs []incident.Submission
			select {
			case subs = <-slots[k]:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			if err := store(ctx, subs); err != nil {
				return err
			}
			<-window
		}
		return nil
	}()
	cancel(err)
	wg.Wait()
	return err
}

// fillBatch makes batch k of the plan.
func fillBatch(f *form.Form, plan Plan, orgs []string, k int) ([]incident.Submission, error) {
	seed := plan.Seed ^ (uint64(k+1) * 0x9e3779b97f4a7c15)
	g, err := New(f, orgs, seed)
	if err != nil {
		return nil, err
	}
	pick := rand.New(rand.NewPCG(seed, 0x7069636b)) // "pick"
	n := min(plan.Batch, plan.Events-k*plan.Batch)
	subs := make([]incident.Submission, n)
	for i := range subs {
		by := plan.Reporters[pick.IntN(len(plan.Reporters))]
		if subs[i], err = g.Event(g.Type(), plan.Now, by, plan.StatementVersion); err != nil {
			return nil, fmt.Errorf("synth: batch %d: %w", k, err)
		}
	}
	return subs, nil
}
