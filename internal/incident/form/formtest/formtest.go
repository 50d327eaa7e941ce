// Package formtest answers the recording form in tests, the way a person
// would on its pages: one question at a time, in order, until none is
// left. It is for tests only.
package formtest

import (
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/form"
)

// Fill answers every step of type typ's form (the governance questions
// too when reviewer is true): the first unanswered step, again and again,
// with chosen's answer for its slug or answer's otherwise, each applied as
// the page would at now. A refused answer fails the test.
func Fill(tb testing.TB, f *form.Form, typ incident.Type, reviewer bool, chosen map[string]url.Values,
	answer func(form.Step) url.Values, now time.Time) incident.Answers {
	tb.Helper()
	a := incident.Answers{}
	done := map[string]bool{}
	for range 500 {
		steps := f.Steps(typ, a, reviewer)
		i := slices.IndexFunc(steps, func(s form.Step) bool { return !done[s.Slug] })
		if i < 0 {
			return a
		}
		s := steps[i]
		v, ok := chosen[s.Slug]
		if !ok {
			v = answer(s)
		}
		next, problems := f.Apply(a, s, v, now)
		if problems != nil {
			tb.Fatalf("step %s with %v: %v", s.Slug, v, problems)
		}
		a = next
		done[s.Slug] = true
	}
	tb.Fatal("the form never ends")
	return nil
}
