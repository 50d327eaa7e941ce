package account_test

import (
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
)

// P12: the dormancy flags take calendar months, days and Go durations,
// and a policy that would deactivate without notice is refused.
func TestDormancyPeriodsAndPolicyCheck(t *testing.T) {
	for in, want := range map[string]account.Period{
		"11mo": {Months: 11}, "12 months": {Months: 12}, "30d": {Days: 30}, "1 day": {Days: 1}, "72h": {Dur: 72 * time.Hour},
	} {
		got, err := account.ParsePeriod(in)
		if err != nil || got != want {
			t.Errorf("ParsePeriod(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0d", "-3mo", "11 years", "soon", "-5h"} {
		if _, err := account.ParsePeriod(bad); err == nil {
			t.Errorf("ParsePeriod(%q) accepted", bad)
		}
	}
	// Calendar months, not 30-day blocks.
	if got, want := (account.Period{Months: 11}).After(time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)), time.Date(2026, 12, 15, 9, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("11 months after 15 January 2026 is %s, want %s", got, want)
	}
	if err := account.DefaultDormancyPolicy().Check(); err != nil {
		t.Errorf("default policy: %v", err)
	}
	for name, p := range map[string]account.DormancyPolicy{
		"warn equal to deactivate":     {WarnAfter: account.Period{Months: 12}, DeactivateAfter: account.Period{Months: 12}, DeleteAfter: account.Period{Days: 30}},
		"warn after deactivate":        {WarnAfter: account.Period{Months: 13}, DeactivateAfter: account.Period{Months: 12}, DeleteAfter: account.Period{Days: 30}},
		"a month's notice can be none": {WarnAfter: account.Period{Days: 31}, DeactivateAfter: account.Period{Months: 1}, DeleteAfter: account.Period{Days: 30}},
		"no deletion period":           {WarnAfter: account.Period{Months: 11}, DeactivateAfter: account.Period{Months: 12}},
	} {
		if err := p.Check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	ok := account.DormancyPolicy{WarnAfter: account.Period{Days: 330}, DeactivateAfter: account.Period{Months: 12}, DeleteAfter: account.Period{Dur: 48 * time.Hour}}
	if err := ok.Check(); err != nil {
		t.Errorf("330d, 12mo, 48h: %v", err)
	}
}
