package synth

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/psims/psims/internal/incident"
)

func TestFillMakesTheSameEventsWithAnyNumberOfWorkers(t *testing.T) {
	_, f := newGenerator(t, 1)
	reporters := []Reporter{{ID: 1, OrgCode: "RM1"}, {ID: 2, OrgCode: "RM1"}, {ID: 3, OrgCode: "RGT"}}
	run := func(workers int) ([]incident.Submission, []int) {
		var all []incident.Submission
		var sizes []int
		plan := Plan{Events: 2*500 + 7, Seed: 5, Now: now, Reporters: reporters, StatementVersion: 2, Workers: workers, Batch: 500}
		err := Fill(context.Background(), f, plan, func(_ context.Context, subs []incident.Submission) error {
			all = append(all, subs...)
			sizes = append(sizes, len(subs))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return all, sizes
	}
	one, sizes := run(1)
	three, _ := run(3)
	if !reflect.DeepEqual(sizes, []int{500, 500, 7}) {
		t.Fatalf("batches of %v", sizes)
	}
	if !reflect.DeepEqual(one, three) {
		t.Fatal("one worker and three made different events")
	}
	byOrg := map[string]int{}
	for _, s := range one {
		if s.StatementVersion != 2 || s.ReporterID < 1 || s.ReporterID > 3 {
			t.Fatalf("event %+v", s)
		}
		byOrg[s.OrgCode]++
	}
	if byOrg["RM1"] < byOrg["RGT"] || byOrg["RGT"] == 0 {
		t.Errorf("events by organisation %v: want about two to one", byOrg)
	}
}

func TestFillStopsAtTheFirstError(t *testing.T) {
	_, f := newGenerator(t, 1)
	full := errors.New("disk full")
	calls := 0
	plan := Plan{Events: 10 * 100, Seed: 1, Now: now, Reporters: []Reporter{{ID: 1, OrgCode: "RM1"}}, StatementVersion: 1, Batch: 100}
	err := Fill(context.Background(), f, plan, func(context.Context, []incident.Submission) error {
		calls++
		if calls == 2 {
			return full
		}
		return nil
	})
	if !errors.Is(err, full) || calls != 2 {
		t.Fatalf("Fill = %v after %d batches, want the store's error after 2", err, calls)
	}
	for _, bad := range []Plan{
		{Events: 5, StatementVersion: 1},
		{Events: 5, Reporters: []Reporter{{ID: 1}}, StatementVersion: 1},
		{Events: 5, Reporters: []Reporter{{ID: 1, OrgCode: "RM1"}}},
	} {
		if err := Fill(context.Background(), f, bad, func(context.Context, []incident.Submission) error { return nil }); err == nil {
			t.Errorf("plan %+v accepted", bad)
		}
	}
}
