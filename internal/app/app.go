// Package app wires PSIMS together: configuration in, a running system out.
// It is the one place that knows every part.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/riverqueue/river"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apikey"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/clientip"
	"github.com/psims/psims/internal/concern"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/dataexport"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/feedback"
	"github.com/psims/psims/internal/fhir"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/form"
	"github.com/psims/psims/internal/incident/taxonomy"
	"github.com/psims/psims/internal/jobs"
	"github.com/psims/psims/internal/library"
	"github.com/psims/psims/internal/lifecycle"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/mail/mailadmin"
	"github.com/psims/psims/internal/newsletter"
	"github.com/psims/psims/internal/oidclogin"
	"github.com/psims/psims/internal/org"
	"github.com/psims/psims/internal/password"
	"github.com/psims/psims/internal/ratelimit"
	"github.com/psims/psims/internal/rights"
	"github.com/psims/psims/internal/secret"
	"github.com/psims/psims/internal/sharing"
	"github.com/psims/psims/internal/stats"
	"github.com/psims/psims/internal/terms"
	"github.com/psims/psims/internal/usage"
	"github.com/psims/psims/internal/web"
)

// App is an open database with every feature service built on it.
type App struct {
	Config   config.Config
	Logger   *slog.Logger
	DB       *db.DB
	Jobs     *jobs.Runner
	Outbox   *mail.Outbox
	Orgs     *org.Store
	Accounts *account.Service
	// OIDC signs people in through OpenID Connect providers (P11).
	OIDC   *oidclogin.Service
	Terms  *terms.Service
	Hasher *password.Hasher
	// Incidents keeps events and Recorder submits them; Taxonomy is the
	// national code lists they are recorded on, parsed once.
	Incidents *incident.Service
	Recorder  *incident.Recorder
	Taxonomy  *taxonomy.Taxonomy
	// Library is the guidance library.
	Library *library.Service
	// RateLimits are the per-address limits every process shares.
	RateLimits *ratelimit.Store
	// Usage makes usage reports (issue 12).
	Usage *usage.Reports
	// FormKey signs values the web forms must get back unchanged.
	FormKey []byte
	// UsageWriter stores usage events in batches; Serve runs it.
	UsageWriter *usage.Writer
	// Feedback keeps feedback and questions and the replies to them.
	Feedback *feedback.Service
	// DataExport makes "Download my data" exports and legal disclosures
	// (P15, P18).
	DataExport *dataexport.Service
	// Rights keeps requests for erasure, restriction and objection (P15).
	Rights *rights.Service
	// Concerns keeps concern reports and their 48-hour queue (T5, T6).
	Concerns *concern.Service
	// AuditLog reads the audit log for the national admins' viewer.
	AuditLog *audit.Log
	// Dormancy warns, deactivates and deletes dormant accounts (P12, P13).
	Dormancy *account.Dormancy
	// Newsletters keeps newsletters and research invitations and their
	// one-click unsubscribe links (issue 14, P7).
	Newsletters *newsletter.Service
	// Statistics keeps the official statistics publications (issue 15,
	// T16).
	Statistics *stats.Service
	// Sharing keeps the data sharing agreements and their extracts
	// (issue 15, T15).
	Sharing *sharing.Service
	// APIKeys keeps the organisations' keys to the LFPSE-compatible API
	// (issue 16, T3).
	APIKeys *apikey.Service
	// API is the LFPSE-compatible FHIR API (issue 16).
	API *fhir.Handler
}

// nationalAdmins finds the national admins through the account service,
// which is made after the job runner whose audit check needs it.
type nationalAdmins struct{ a *App }

func (n nationalAdmins) ActiveNationalAdmins(ctx context.Context, tx *db.Tx) ([]mail.Addressee, error) {
	return n.a.Accounts.ActiveNationalAdmins(ctx, tx)
}

// NewLogger returns the JSON logger every part writes to.
func NewLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// Open opens and migrates the database and builds the services, with a job
// runner that can insert jobs but not work them: what commands need.
func Open(ctx context.Context, cfg config.Config, logger *slog.Logger) (*App, error) {
	return open(ctx, cfg, logger, false)
}

// OpenServer is Open plus the background workers, ready for Serve.
func OpenServer(ctx context.Context, cfg config.Config, logger *slog.Logger) (*App, error) {
	return open(ctx, cfg, logger, true)
}

func open(ctx context.Context, cfg config.Config, logger *slog.Logger, workers bool) (*App, error) {
	var sender *mail.Sender
	if workers && cfg.SMTP != "" {
		s, err := mail.NewSender(cfg.SMTP, cfg.MailFrom)
		if err != nil {
			return nil, err
		}
		sender = s
	}
	d, err := db.Open(ctx, cfg.Database, cfg.SQLitePath())
	if err != nil {
		return nil, err
	}
	if err := d.Migrate(ctx); err != nil {
		d.Close()
		return nil, err
	}
	if err := jobs.Migrate(ctx, d); err != nil {
		d.Close()
		return nil, err
	}
	a := &App{Config: cfg, Logger: logger, DB: d}
	// Secrets every process shares, made once in the database.
	secrets := secret.New(d)
	if a.FormKey, err = secrets.Get(ctx, "form-signing"); err != nil {
		d.Close()
		return nil, err
	}
	// Seals authenticator apps' secrets at rest (account/twostep.go).
	totpKey, err := secrets.Get(ctx, "totp-seal")
	if err != nil {
		d.Close()
		return nil, err
	}
	limitKey, err := secrets.Get(ctx, "rate-limit-keys")
	if err != nil {
		d.Close()
		return nil, err
	}
	a.RateLimits = ratelimit.NewKeyed(d, limitKey)
	unsubscribeKey, err := secrets.Get(ctx, "unsubscribe-links")
	if err != nil {
		d.Close()
		return nil, err
	}
	var register func(*river.Workers, *jobs.Runner)
	if workers {
		register = func(w *river.Workers, r *jobs.Runner) {
			outbox := mail.NewOutbox(d, r, logger)
			// Newsletters and invitations are checked against the
			// recipient's choices again just before sending (P7); the
			// newsletter service is made after this runs.
			recheck := func(ctx context.Context, to, category, batch string) (bool, error) {
				return a.Newsletters.StillWanted(ctx, to, category, batch)
			}
			mail.AddWorker(w, d, sender, logger, mail.WorkerOptions{Rate: cfg.SMTPRate, Recheck: recheck})
			terms.AddNoticeWorker(w, d, outbox, cfg.BaseURL+"/review-terms", logger)
			retention := incident.DraftRetention{Keep: cfg.DraftRetention, Remind: cfg.DraftReminder}
			incident.AddDraftWorker(w, r, d, outbox, retention, cfg.BaseURL+"/drafts", logger)
			account.AddResetWorker(w, func() *account.Service { return a.Accounts })
			ratelimit.AddSweepWorker(w, r, a.RateLimits)
			usage.AddWorkers(w, r, d, cfg.UsagePolicy(), logger)
			dataexport.AddWorkers(w, r, func() *dataexport.Service { return a.DataExport }, logger)
			audit.AddWorkers(w, r, audit.NewChecker(d, nationalAdmins{a}, outbox, audit.NewAnchorer(cfg.AuditAnchor, nil), logger))
			lifecycle.AddDormancyWorker(w, r, d, func() *account.Dormancy { return a.Dormancy }, logger)
			newsletter.AddWorkers(w, r, func() *newsletter.Service { return a.Newsletters }, logger)
		}
	}
	if a.Jobs, err = jobs.New(d, logger, register); err != nil {
		d.Close()
		return nil, err
	}
	a.Outbox = mail.NewOutbox(d, a.Jobs, logger)
	// The default privacy policy states the configured IP retention (P4).
	a.Terms = terms.NewService(d, a.Jobs).WithDefaultFigures(terms.DefaultFigures{IPRetention: cfg.UsageIPRetention.String()})
	if err := a.Terms.PublishDefaults(ctx); err != nil {
		d.Close()
		return nil, err
	}
	a.Orgs = org.NewStore(d)
	if a.Taxonomy, err = taxonomy.Load(); err != nil {
		d.Close()
		return nil, err
	}
	a.Incidents = incident.NewService(d)
	a.UsageWriter = usage.NewWriter(d, logger, usage.WriterOptions{})
	a.Library = library.NewService(d)
	forms, err := form.New(a.Taxonomy)
	if err != nil {
		d.Close()
		return nil, err
	}
	a.Recorder = incident.NewRecorder(a.Incidents, forms, a.Terms, a.Orgs, a.Outbox, cfg.BaseURL+"/events")
	a.Hasher = password.NewHasher(password.Params{MemoryKiB: cfg.HashMemoryKiB, Time: cfg.HashTime, Threads: cfg.HashThreads}, cfg.HashConcurrency)
	settings := cfg.AccountSettings()
	settings.SealKey = totpKey
	a.Accounts = account.NewService(d, a.Hasher, password.NewPolicy(), a.Orgs, a.Outbox, a.Jobs, settings)
	a.OIDC = oidclogin.New(d, cfg.BaseURL, cfg.OIDCProviders, &http.Client{Timeout: 15 * time.Second})
	// Reviewers are emailed about serious events as they arrive (issue 11).
	a.Recorder.WithAlerts(a.Accounts)
	a.Usage = usage.NewReports(d, a.Terms, a.Accounts, a.Incidents)
	a.AuditLog = audit.NewLog(d, a.Accounts)
	a.Feedback = feedback.NewService(d, a.RateLimits, a.Outbox, cfg.BaseURL+"/account/queries", feedback.DefaultRate)
	// An erasure runs through every package that holds the person's data
	// (P15); the account goes last, inside the rights service.
	a.Rights = rights.NewService(d, a.Accounts, a.Outbox, cfg.BaseURL+"/account/data",
		a.Incidents, a.Feedback, a.Terms, rights.EraserFunc(usage.ErasePerson), rights.EraserFunc(dataexport.ErasePerson),
		rights.EraserFunc(sharing.ErasePerson), rights.EraserFunc(apikey.ErasePerson)).
		EraseAddressesWith("jobs", jobs.AddressEraser(account.ResetArgs{}.Kind())).
		EraseAddressesWith("concern_reporters", concern.EraseReporterAddress).
		EraseAddressesWith("statistics_prerelease", stats.ErasePreReleaseAddress)
	a.Concerns = concern.NewService(d, a.RateLimits, a.Outbox, a.Accounts)
	// Dormant accounts' details are deleted through the same erasure as a
	// request to be forgotten.
	a.Dormancy = account.NewDormancy(a.Accounts, cfg.DormancyPolicy(), a.Rights)
	a.Newsletters = newsletter.NewService(d, newsletter.Parts{Recipients: a.Accounts, Consents: a.Terms, Outbox: a.Outbox,
		Jobs: a.Jobs, Orgs: a.Orgs}, unsubscribeKey, cfg.BaseURL)
	// Official statistics: the HTML of a publication is drawn by the web
	// package's template and charts; the disclosure rules are the
	// configured ones (NHS England's by default).
	statisticsHTML, err := web.NewStatisticsHTML()
	if err != nil {
		return nil, err
	}
	a.Statistics = stats.New(d, a.Incidents, a.Orgs, a.Taxonomy, statisticsHTML, cfg.StatsRules, a.Outbox, cfg.BaseURL)
	// Data sharing agreements may permit any column of the event export.
	a.Sharing = sharing.NewService(d, incident.ExportFields(forms.ExportColumns()))
	a.APIKeys = apikey.New(d)
	a.API, err = fhir.New(fhir.Deps{DB: d, Taxonomy: a.Taxonomy, Events: a.Incidents, Recorder: a.Recorder, Keys: a.APIKeys,
		Limiter: ratelimit.NewLeased(a.RateLimits), Rate: cfg.APIRate, Base: cfg.BaseURL, Version: cfg.Version, Logger: logger,
		ClientIP: clientip.Resolver{Trusted: cfg.TrustedProxies}.From})
	if err != nil {
		return nil, err
	}
	// "Download my data" reads every part that holds personal data (P15).
	a.DataExport = dataexport.NewService(d, dataexport.Parts{Accounts: a.Accounts, Terms: a.Terms, Feedback: a.Feedback,
		Incidents: a.Incidents, Mail: a.Outbox, Sharing: a.Sharing, Statistics: a.Statistics, APIKeys: a.APIKeys}, a.Jobs, cfg.BaseURL+"/account/data/download")
	return a, nil
}

// Lifecycle is every lifecycle sweep under this configuration, for
// `psims lifecycle run`; the periodic jobs run the same functions.
func (a *App) Lifecycle() lifecycle.Sweeps {
	return lifecycle.Sweeps{DB: a.DB, Dormancy: a.Dormancy, Outbox: a.Outbox,
		Drafts:    incident.DraftRetention{Keep: a.Config.DraftRetention, Remind: a.Config.DraftReminder},
		DraftsURL: a.Config.BaseURL + "/drafts", Usage: a.Config.UsagePolicy()}
}

// Close closes the database.
func (a *App) Close() error { return a.DB.Close() }

// WebDeps are what the web server is made of in this system, counting
// into metrics.
func (a *App) WebDeps(metrics *web.Metrics) web.Deps {
	cfg := a.Config
	return web.Deps{
		Accounts: a.Accounts, OIDC: a.OIDC, Terms: a.Terms, Orgs: a.Orgs, Incidents: a.Incidents, Recorder: a.Recorder, Taxonomy: a.Taxonomy,
		UsageReports:   a.Usage,
		DraftRetention: cfg.DraftRetention, PublicReportRate: cfg.PublicReportRate, SignInRate: cfg.SignInRate,
		RateLimits: a.RateLimits, ClientIPs: clientip.Resolver{Trusted: cfg.TrustedProxies}, FormKey: a.FormKey,
		Clock: a.DB.Now, Ready: a.DB.Ping, Metrics: metrics, Logger: a.Logger,
		SecureCookies: cfg.SecureCookies(), MetricsElsewhere: cfg.MetricsAddr != "",
		Library:    a.Library,
		Feedback:   a.Feedback,
		DataExport: a.DataExport,
		Rights:     a.Rights,
		Concerns:   a.Concerns,
		AuditLog:   a.AuditLog,
		MailAdmin:  mailadmin.New(a.DB, a.Outbox),
		Dormancy:   a.Dormancy,
		// Newsletters and one-click unsubscribe (issue 14, P7).
		Newsletters: a.Newsletters,
		// Official statistics (issue 15, T16).
		Statistics: a.Statistics,
		// Data sharing agreements gate exports (issue 15, T15).
		Sharing: a.Sharing,
		// Organisation API keys (issue 16, T3), and the API they open.
		APIKeys: a.APIKeys,
		API:     a.API,
	}
}

// Serve runs the web service and background jobs until ctx is cancelled
// (SIGTERM or Ctrl-C), then stops taking requests, finishes those in flight
// and the jobs that are running, and returns. It listens on ln when given,
// and on the configured address otherwise. The App must come from OpenServer.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	cfg, logger := a.Config, a.Logger
	// Usage events are written by a goroutine of their own, stopped only
	// after the last request has been answered, so that none is lost.
	usageWriter := a.UsageWriter
	usageCtx, stopUsage := context.WithCancel(context.WithoutCancel(ctx))
	usageDone := make(chan struct{})
	go func() {
		defer close(usageDone)
		_ = usageWriter.Run(usageCtx) // it logs what it could not write
	}()
	defer func() {
		stopUsage()
		<-usageDone
	}()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "psims_usage_events_dropped_total",
		Help: "Usage events never written: dropped from a full queue, or in a batch the database refused.",
	}, func() float64 { return float64(usageWriter.Dropped()) }))
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "psims_usage_write_seconds_total",
		Help: "Time spent writing batches of usage events to the database.",
	}, func() float64 { return usageWriter.Busy().Seconds() }))
	// Concern reports open, and open past their 48 hours (T5): an alert
	// on the second catches a queue nobody is working. One query a scrape
	// gives both.
	reg.MustRegister(concernCollector{concerns: a.Concerns, now: a.DB.Now,
		open:    prometheus.NewDesc("psims_concerns_open", "Concern reports not yet closed.", nil, nil),
		overdue: prometheus.NewDesc("psims_concerns_overdue", "Concern reports still open more than 48 hours after they were made.", nil, nil)})
	registerAuditMetrics(reg, a.DB)
	reg.MustRegister(newMailCollector(a.Outbox))
	metrics := web.NewMetrics(reg, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		n, err := a.Outbox.QueueDepth(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	})
	deps := a.WebDeps(metrics)
	deps.Usage = usageWriter
	srv, err := web.New(deps)
	if err != nil {
		return err
	}
	if ln == nil {
		ln, err = net.Listen("tcp", cfg.Addr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
		}
	}
	httpServer := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	// Jobs get their own context so that a SIGTERM lets running jobs finish
	// through Stop instead of cancelling them mid-way.
	jobsCtx, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer stopJobs()
	if err := a.Jobs.Start(jobsCtx); err != nil {
		return err
	}
	if cfg.SMTP != "" {
		// Stopped while starting, the requeue is cut short: the messages
		// keep waiting in the outbox for the next start, and the shutdown
		// below runs as for any stop.
		n, err := a.Outbox.Requeue(ctx)
		if err != nil && ctx.Err() == nil {
			return err
		}
		if n > 0 {
			logger.Info("mail waiting in the outbox will be sent", "messages", n)
		}
	}
	logger.Info("PSIMS is running", "url", "http://"+ln.Addr().String(), "database", a.DB.Dialect().Name, "smtp", cfg.SMTP != "")

	served := make(chan error, 2)
	metricsServer, err := serveMetrics(cfg.MetricsAddr, metrics, served)
	if err != nil {
		return err
	}
	go func() { served <- httpServer.Serve(ln) }()
	var serveErr error
	select {
	case err := <-served:
		serveErr = fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
		logger.Info("shutting down: finishing requests and jobs in flight")
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := errors.Join(serveErr, httpServer.Shutdown(stopCtx), metricsServer.Shutdown(stopCtx), a.Jobs.Stop(stopCtx)); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("stopped cleanly")
	return nil
}

// serveMetrics serves /metrics alone on addr, for a scraper on a private
// network, sending the server's end to served. With no addr it serves
// nothing and returns a server whose Shutdown does nothing.
func serveMetrics(addr string, metrics *web.Metrics, served chan<- error) (*http.Server, error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
	if addr == "" {
		return srv, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on --metrics-addr %s: %w", addr, err)
	}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			served <- fmt.Errorf("metrics server: %w", err)
		}
	}()
	return srv, nil
}

// concernCollector exports how many concern reports are open and how many
// of those are overdue, counted by one query when metrics are scraped.
type concernCollector struct {
	concerns      *concern.Service
	now           func() time.Time
	open, overdue *prometheus.Desc
}

// Describe sends the two metrics' descriptions.
func (c concernCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.open
	ch <- c.overdue
}

// Collect counts the reports; when the database does not answer within a
// second, both are -1.
func (c concernCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	open, overdue, err := c.concerns.Counts(ctx, c.now())
	if err != nil {
		open, overdue = -1, -1
	}
	ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(open))
	ch <- prometheus.MustNewConstMetric(c.overdue, prometheus.GaugeValue, float64(overdue))
}

// registerAuditMetrics adds the result of the last daily audit check to
// reg. The check records its result in the audit log, so every process
// reports the same, whichever ran it.
func registerAuditMetrics(reg *prometheus.Registry, d *db.DB) {
	last := func(f func(audit.Status) float64) func() float64 {
		return func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			st, err := audit.LastCheck(ctx, d)
			if err != nil {
				return -1
			}
			return f(st)
		}
	}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "psims_audit_chain_ok",
		Help: "1 when the last daily check found the audit log's hash chain intact, 0 when broken, -1 before the first check or when it cannot be read.",
	}, last(func(st audit.Status) float64 {
		switch {
		case !st.Checked:
			return -1
		case st.OK:
			return 1
		}
		return 0
	})))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "psims_audit_rows_verified",
		Help: "Rows of the audit log the last daily check verified.",
	}, last(func(st audit.Status) float64 { return float64(st.Rows) })))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "psims_audit_last_verified_timestamp_seconds",
		Help: "When the last daily check of the audit log ran, as a Unix time; 0 before the first.",
	}, last(func(st audit.Status) float64 {
		if !st.Checked {
			return 0
		}
		return float64(st.At.Unix())
	})))
}
