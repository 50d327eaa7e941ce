package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/psims/psims/internal/apikey"
	"github.com/psims/psims/internal/app"
	"github.com/psims/psims/internal/fhir"
	"github.com/psims/psims/internal/incident/form"
	"github.com/psims/psims/internal/incident/synth"
	"github.com/psims/psims/internal/password"
)

// This file is the API scenario (issue 16): AdverseEvent creates a second
// through the FHIR API, each answered 201 only once the event is durable,
// against the raw rate of durable one-row transactions through the same
// database handle, in the same run.

// ScenarioAPI times POST /adverse-event/fhir/AdverseEvent.
const ScenarioAPI = "api"

// The goals of the API, on SQLite: at least 1,500 durable creates a
// second, with p99 under 50 ms.
const (
	GoalAPIRate = 1500.0
	GoalAPIP99  = 50 * time.Millisecond
)

// APIOptions say what to measure and how.
type APIOptions struct {
	// Database is "" for SQLite in a new temporary directory, or a
	// postgres:// URL of an empty scratch database or schema, used as is.
	Database string
	// Concurrency lists the numbers of clients to measure with, each
	// with the organisation's key; 1, 2 and 8 when empty.
	Concurrency []int
	Duration    time.Duration // measured time of each phase at each concurrency
	Warmup      time.Duration // run before each measured window and not counted
	Seed        uint64        // seed of the generated events
	Params      password.Params
	Progress    io.Writer // receives a line as each phase starts; nil for none
	CPUProfile  io.Writer // receives a pprof CPU profile of the create phases
}

// APILevel is one concurrency: the creates, and the raw durable
// transactions.
type APILevel struct {
	Concurrency int       `json:"concurrency"`
	Create      GatePhase `json:"create"`
	Raw         GatePhase `json:"raw"`
	RateRatio   float64   `json:"rate_ratio"` // creates a second ÷ raw transactions a second
	P99Ratio    float64   `json:"p99_ratio"`  // the create's p99 ÷ the raw transaction's p99
}

// APIReport is the outcome of one run of the API scenario.
type APIReport struct {
	Scenario  string        `json:"scenario"`
	Database  string        `json:"database"`
	CPUs      int           `json:"cpus"`
	Started   time.Time     `json:"started"`
	Warmup    time.Duration `json:"warmup_ns"`
	Duration  time.Duration `json:"duration_ns"`
	BodyBytes int           `json:"body_bytes"` // the median resource sent, and the raw phase's row
	Levels    []APILevel    `json:"levels"`
	Goals     []Goal        `json:"goals"`
}

// RunAPI starts PSIMS in this process on a scratch database with an API
// key of one organisation, generates events as resources of the national
// profile, and at each concurrency times their creation, then the raw
// durable transactions.
func RunAPI(ctx context.Context, opts APIOptions) (_ APIReport, err error) {
	if len(opts.Concurrency) == 0 {
		opts.Concurrency = []int{1, 2, 8}
	}
	if slices.Min(opts.Concurrency) < 1 || opts.Duration <= 0 || opts.Warmup < 0 {
		return APIReport{}, errors.New("bench: concurrency must be at least 1, duration positive and warm-up not negative")
	}
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	r := APIReport{Scenario: ScenarioAPI, CPUs: runtime.NumCPU(), Started: time.Now(), Warmup: opts.Warmup,
		Duration: opts.Duration, Goals: []Goal{}}

	fmt.Fprintln(progress, "Starting PSIMS in this process with an API key...")
	var key string
	s, err := startApp(ctx, opts.Database, opts.Params, func(ctx context.Context, a *app.App, s *site) error {
		if _, err := a.Orgs.Import(ctx, strings.NewReader(siteOrganisation)); err != nil {
			return fmt.Errorf("bench: import organisation: %w", err)
		}
		var err error
		if _, key, err = a.APIKeys.Create(ctx, apikey.NewKey{Org: siteOrgCode, Name: "Bench"}, apikey.Client{}); err != nil {
			return fmt.Errorf("bench: API key: %w", err)
		}
		if _, err := a.DB.ExecContext(ctx, rawTable); err != nil {
			return fmt.Errorf("bench: create the raw table: %w", err)
		}
		return nil
	})
	if err != nil {
		return APIReport{}, err
	}
	defer func() {
		if cerr := s.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("bench: stop site: %w", cerr))
		}
	}()
	r.Database = s.Engine

	bodies, err := resources(s.App, opts.Seed)
	if err != nil {
		return APIReport{}, err
	}
	row := string(bodies[len(bodies)/2])
	r.BodyBytes = len(row)

	if opts.CPUProfile != nil {
		if err := pprof.StartCPUProfile(opts.CPUProfile); err != nil {
			return APIReport{}, fmt.Errorf("bench: cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: slices.Max(opts.Concurrency)}}
	defer client.CloseIdleConnections()
	for _, c := range opts.Concurrency {
		level := APILevel{Concurrency: c}
		ws := make([]worker, c)
		for i := range ws {
			ws[i] = &apiWorker{client: client, url: s.URL + fhir.EventsRoot + "AdverseEvent", key: key, bodies: bodies, next: i * 7}
		}
		fmt.Fprintf(progress, "POST AdverseEvent with %d clients for %s after %s of warm-up...\n", c, opts.Duration, opts.Warmup)
		l, err := runLoad(ctx, ws, opts.Warmup, opts.Duration)
		if err != nil {
			return APIReport{}, err
		}
		level.Create = gatePhase("POST AdverseEvent", l)

		fmt.Fprintf(progress, "Raw one-row transactions with %d workers for %s after %s of warm-up...\n", c, opts.Duration, opts.Warmup)
		if level.Raw, err = rawDurable(ctx, s.App.DB, c, row, opts.Warmup, opts.Duration); err != nil {
			return APIReport{}, err
		}
		level.RateRatio, level.P99Ratio = ratios(level.Create, level.Raw)
		r.Levels = append(r.Levels, level)
	}
	r.Goals = apiGoals(r)
	return r, nil
}

// apiGoals checks the goals at the highest concurrency, on SQLite.
func apiGoals(r APIReport) []Goal {
	return durableGoals(r.Database, "creates", r.durableLevels(), GoalAPIRate, GoalAPIP99)
}

// durableLevels are the levels as the shared table shows them.
func (r *APIReport) durableLevels() []durableLevel {
	out := make([]durableLevel, len(r.Levels))
	for i, l := range r.Levels {
		out[i] = durableLevel{concurrency: l.Concurrency, load: l.Create, raw: l.Raw, rateRatio: l.RateRatio, p99: l.P99Ratio}
	}
	return out
}

// resources generates the events sent, as AdverseEvent resources, sorted
// by size.
func resources(a *app.App, seed uint64) ([][]byte, error) {
	f, err := form.New(a.Taxonomy)
	if err != nil {
		return nil, fmt.Errorf("bench: form: %w", err)
	}
	g, err := synth.New(f, []string{siteOrgCode}, seed)
	if err != nil {
		return nil, err
	}
	codec, err := fhir.NewCodec(a.Taxonomy)
	if err != nil {
		return nil, err
	}
	bodies := make([][]byte, answerPool)
	now := time.Now()
	for i := range bodies {
		t := g.Type()
		res, err := g.Answers(t, siteOrgCode, now)
		if err != nil {
			return nil, err
		}
		if bodies[i], err = codec.Encode(fhir.Snapshot{Type: t, Version: 1, Updated: now, Answers: res.Answers}); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(bodies, func(x, y []byte) int { return len(x) - len(y) })
	return bodies, nil
}

// apiWorker creates events, one per request, going round the bodies.
type apiWorker struct {
	client *http.Client
	url    string
	key    string
	bodies [][]byte
	next   int
}

// prepare does nothing: the key is all a client needs.
func (w *apiWorker) prepare(context.Context) error { return nil }

func (w *apiWorker) post(ctx context.Context) (bool, string, string) {
	body := w.bodies[w.next%len(w.bodies)]
	w.next++
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return false, "request", err.Error()
	}
	req.Header.Set("Content-Type", "application/fhir+json")
	req.Header.Set("Ocp-Apim-Subscription-Key", w.key)
	resp, err := w.client.Do(req)
	if err != nil {
		return false, "transport", err.Error()
	}
	answer, readErr := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return false, fmt.Sprintf("HTTP %d", resp.StatusCode), fmt.Sprintf("POST: status %s: %.300s", resp.Status, answer)
	}
	if readErr != nil {
		return false, "transport", readErr.Error()
	}
	return true, "", ""
}

// WriteText writes the report for people to read.
func (r *APIReport) WriteText(w io.Writer) error {
	var b strings.Builder
	line := func(label, format string, args ...any) {
		fmt.Fprintf(&b, "  %-14s %s\n", label, fmt.Sprintf(format, args...))
	}
	fmt.Fprintf(&b, "psims bench %s (%s)\n", r.Scenario, r.Started.UTC().Format("2006-01-02 15:04:05Z"))
	line("database", "%s (this machine has %d CPUs)", r.Database, r.CPUs)
	line("duration", "%s measured per phase and concurrency, after %s of warm-up each", r.Duration, r.Warmup)
	line("resources", "%d generated events; the median is %d bytes, also the raw phase's row", answerPool, r.BodyBytes)
	writeDurable(&b, r.durableLevels(), r.Goals, r.Database, "creates")
	_, err := io.WriteString(w, b.String())
	return err
}
