package usage

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/psims/psims/internal/db"
)

// This file makes synthetic usage for demonstrations and benchmarks
// (psims demo seed --usage): sessions of signed-in people, each a sign-in
// and a run of pages, over the last 13 months, most on working days and
// in working hours, by people who use the service a lot, now and then or
// rarely.

// Person is someone synthetic usage is made for.
type Person struct {
	ID      int64
	OrgCode string
}

// SynthPlan says what synthetic usage to make.
type SynthPlan struct {
	Events int
	Seed   uint64
	// From and Now bound the events' times: from the start of From's day
	// (at the earliest 13 months before Now) to Now.
	From, Now time.Time
	People    []Person
	// Batch is how many events each call of the load function gets
	// (default 50,000).
	Batch int
}

// synthRoute is a route and how often it is visited, in parts.
type synthRoute struct {
	route  string
	weight int
}

// synthRoutes are the pages of a session with their weights: recording
// and the event lists most, administration and reports least.
func synthRoutes() []synthRoute {
	return []synthRoute{
		{"GET /{$}", 14}, {"GET /events/new", 5}, {"POST /events/new", 3}, {"GET /drafts/{id}/{step}", 14},
		{"POST /drafts/{id}/{step}", 12}, {"GET /drafts/{id}/check", 3}, {"GET /drafts", 2}, {"GET /events/{ref}/submitted", 2},
		{"GET /events", 10}, {"GET /events/{ref}", 8}, {"GET /events/{ref}/history", 1}, {"POST /events/{ref}/review", 2},
		{"GET /events/export", 1}, {"GET /library", 3}, {"GET /library/{id}", 2}, {"GET /account", 2},
		{"GET /account/profile", 1}, {"GET /consent", 1}, {"GET /admin/users", 1}, {"GET /admin/approvals", 1},
		{"GET /admin/usage", 1}, {"GET /help", 1}, {"POST /feedback", 1}, {"GET /privacy", 1}, {"GET /terms", 1},
	}
}

// documentRoute is the route that serves a document of the library.
const documentRoute = "GET /library/{id}/file"

// Synthesize makes plan.Events synthetic usage events, the same for the
// same plan, and passes them to load a batch at a time.
func Synthesize(ctx context.Context, plan SynthPlan, load func(ctx context.Context, events []Event) error) error {
	if len(plan.People) == 0 {
		return fmt.Errorf("usage: synthetic usage needs people; load demo users first")
	}
	if plan.Batch <= 0 {
		plan.Batch = 50_000
	}
	now := plan.Now.UTC()
	first := startOfDay(plan.From)
	if earliest := startOfDay(now.AddDate(0, -13, 1)); first.Before(earliest) {
		first = earliest
	}
	if !now.After(first) {
		return fmt.Errorf("usage: no time to make synthetic usage in")
	}
	days := int(startOfDay(now).Sub(first)/(24*time.Hour)) + 1
	r := rand.New(rand.NewPCG(plan.Seed, 0x05a6e))
	// A few people use the service a lot, more now and then, the most
	// rarely.
	cumulative := make([]float64, len(plan.People))
	total := 0.0
	for i := range plan.People {
		switch x := r.Float64(); {
		case x < 0.15:
			total += 20
		case x < 0.6:
			total += 3
		default:
			total += 0.3
		}
		cumulative[i] = total
	}
	routes := synthRoutes()
	routeTotal := 0
	for _, rt := range routes {
		routeTotal += rt.weight
	}
	pickRoute := func() string {
		n := r.IntN(routeTotal)
		for _, rt := range routes {
			if n < rt.weight {
				return rt.route
			}
			n -= rt.weight
		}
		return routes[0].route
	}
	families := []string{FamilyEdge, FamilyChrome, FamilyChrome, FamilyEdge, FamilySafari, FamilyFirefox}
	batch := make([]Event, 0, plan.Batch)
	emit := func(e Event) error {
		batch = append(batch, e)
		if len(batch) == plan.Batch {
			if err := load(ctx, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
		return nil
	}
	for made := 0; made < plan.Events; {
		i := sort.SearchFloat64s(cumulative, r.Float64()*total)
		i = min(i, len(plan.People)-1)
		p := plan.People[i]
		day := first.AddDate(0, 0, r.IntN(days))
		if wd := day.Weekday(); (wd == time.Saturday || wd == time.Sunday) && r.IntN(10) < 8 {
			continue
		}
		at := day.Add(7*time.Hour + time.Duration(r.Int64N(int64(11*time.Hour))))
		if at.After(now) {
			if !day.Equal(startOfDay(now)) || now.Equal(day) {
				continue
			}
			at = day.Add(time.Duration(r.Int64N(int64(now.Sub(day)))))
		}
		e := Event{At: at, Kind: KindSignIn, Route: "POST /sign-in", Status: 303, UserID: p.ID, OrgCode: p.OrgCode,
			SessionHash: fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64()),
			IP:          fmt.Sprintf("10.%d.%d.%d", (p.ID>>16)&0xff, (p.ID>>8)&0xff, p.ID&0xff),
			Browser:     Browser{Family: families[p.ID%int64(len(families))], Major: 120 + int(p.ID%12)}}
		if p.ID%10 == 0 {
			e.IP = fmt.Sprintf("2001:db8:%x:%x::%x", p.ID>>16, p.ID&0xffff, r.IntN(0xffff))
		}
		pages := 2 + r.IntN(20)
		for j := 0; j <= pages && made < plan.Events; j++ {
			if j > 0 {
				e.Kind, e.Route, e.Status = KindPage, pickRoute(), 200
				if e.Route[0] == 'P' {
					e.Status = 303
				}
				e.At = e.At.Add(time.Duration(5+r.IntN(115)) * time.Second)
				if e.At.After(now) {
					break
				}
				// Now and then a document is opened: its page, and the
				// document event.
				if r.IntN(40) == 0 {
					e.Route = documentRoute
					if err := emit(e); err != nil {
						return err
					}
					if made++; made == plan.Events {
						break
					}
					e.Kind = KindDocument
				}
			}
			if err := emit(e); err != nil {
				return err
			}
			made++
		}
	}
	if len(batch) > 0 {
		return load(ctx, batch)
	}
	return nil
}

// LoadSynthetic makes synthetic usage as plan says and loads it with
// Load, a batch to a transaction, after the last day rolled up (the
// rollup would never count events of days before). It returns how many
// events it loaded. Run RollUp afterwards.
func LoadSynthetic(ctx context.Context, d *db.DB, plan SynthPlan) (int, error) {
	rolled, err := progress(ctx, d, progressRollup)
	if err != nil {
		return 0, err
	}
	if rolled != "" {
		last, err := parseDay(rolled)
		if err != nil {
			return 0, fmt.Errorf("usage: the rollup watermark %q: %w", rolled, err)
		}
		if next := last.AddDate(0, 0, 1); plan.From.Before(next) {
			plan.From = next
		}
	}
	loaded := 0
	err = Synthesize(ctx, plan, func(ctx context.Context, events []Event) error {
		if err := Load(ctx, d, events); err != nil {
			return err
		}
		loaded += len(events)
		return nil
	})
	return loaded, err
}

// BusiestOrg is the organisation with the most usage events rolled up
// from since, and how many.
func BusiestOrg(ctx context.Context, d *db.DB, since time.Time) (string, int64, error) {
	var org string
	var n int64
	err := d.QueryRowContext(ctx, `SELECT org_ods, SUM(n) FROM usage_days WHERE org_ods <> $1 AND day >= $2
		GROUP BY org_ods ORDER BY 2 DESC, 1 LIMIT 1`, nationalOrg, dayKey(since)).Scan(&org, &n)
	if err != nil {
		return "", 0, fmt.Errorf("usage: busiest organisation: %w", err)
	}
	return org, n, nil
}
