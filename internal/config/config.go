// Package config turns command-line flags and PSIMS_* environment variables
// into one Config value that is passed down to every part of the system.
//
// A flag given on the command line wins over the environment, which wins over
// the default. The environment name of a flag is PSIMS_ followed by the flag
// name in upper case with "-" replaced by "_" (--data-dir is PSIMS_DATA_DIR).
package config

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/clientip"
	"github.com/psims/psims/internal/oidclogin"
	"github.com/psims/psims/internal/stats/sdc"
	"github.com/psims/psims/internal/usage"
)

// Config is the whole configuration of a psims process.
type Config struct {
	Addr     string // address serve listens on
	DataDir  string // directory for the SQLite file and other local state
	Database string // "" for SQLite in DataDir, or a postgres:// URL
	BaseURL  string // public URL used in links in emails; https makes cookies Secure
	SMTP     string // smtp:// or smtps:// URL; empty keeps mail in the outbox
	MailFrom string // the From address of every email

	AutoApproveDomains []string // verified addresses on these domains are approved at once

	SessionIdle     time.Duration // a session ends after this long without a request
	SessionAbsolute time.Duration // a session ends this long after sign-in, whatever happens
	// PrivilegedIdle and PrivilegedAbsolute are the shorter limits of the
	// sessions of privileged roles (account.Role.Privileged).
	PrivilegedIdle     time.Duration
	PrivilegedAbsolute time.Duration
	// TwoStepRoles must use two-step verification (T3).
	TwoStepRoles []account.Role
	// OIDCProviders are the OpenID Connect providers people may sign in
	// through (P11).
	OIDCProviders []oidclogin.Config

	LockoutThreshold int           // wrong passwords within LockoutWindow that lock an account
	LockoutWindow    time.Duration // how far back wrong passwords count
	LockoutDuration  time.Duration // how long a locked account stays locked

	VerifyTTL time.Duration // how long an email confirmation link works
	ResetTTL  time.Duration // how long a password reset link works

	// Argon2id parameters for new password hashes.
	HashMemoryKiB uint32
	HashTime      uint32
	HashThreads   uint8
	// HashConcurrency bounds how many password hashes run at once, which bounds memory.
	HashConcurrency int

	// IGTrainingValidMonths is how long recorded information governance
	// training lets a user see other people's data.
	IGTrainingValidMonths int

	// SignInRate is how many sign-in, registration and password reset
	// posts one IP address may make per minute.
	SignInRate int
	// PublicReportRate is how many concerns one IP address may submit
	// through the public route per hour.
	PublicReportRate int
	// Version is PSIMS's version, as built (not a flag).
	Version string
	// APIRate is how many requests one API key may make a minute
	// (issue 16), shared by every process.
	APIRate int

	// DraftRetention is how long a draft is kept after it was last saved;
	// DraftReminder is how long before its deletion its owner is emailed.
	DraftRetention time.Duration
	DraftReminder  time.Duration

	// UsageIPRetention is how long usage events keep whole IP addresses
	// before they are cut to their network; UsageRetention how long raw
	// usage events, and every row naming a person, are kept (P4).
	UsageIPRetention usage.Retention
	UsageRetention   usage.Retention

	// DormancyWarnAfter, DormancyDeactivateAfter and DormancyDeleteAfter
	// say when a dormant account is warned, deactivated and deleted (P12,
	// P13): after that long without the person's own activity, and (for
	// deletion) after deactivation.
	DormancyWarnAfter       account.Period
	DormancyDeactivateAfter account.Period
	DormancyDeleteAfter     account.Period
	// StatsRules are the disclosure control rules new official statistics
	// publications get (issue 15): NHS England's by default.
	StatsRules sdc.Rules

	// DormancySweepLimit is how many accounts one dormancy sweep warns,
	// deactivates or deletes at most, of each (0: no limit).
	DormancySweepLimit int

	// MetricsAddr, when set, is a separate address that serves /metrics
	// (for a scraper on a private network); when empty, /metrics answers
	// only clients on the loopback interface.
	MetricsAddr string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For header
	// says which address a request came from. Empty: the header is ignored.
	TrustedProxies []netip.Prefix
	// AuditAnchor is where the daily audit check appends the chain's head:
	// a file path, or an http(s) URL it POSTs the line to. Empty: the head
	// goes to the log output only.
	AuditAnchor string
	// SMTPRate is how many messages a second all processes together send
	// at most; 0 is no limit.
	SMTPRate float64

	LogLevel string // debug, info, warn or error
}

// Defaults returns the configuration used when nothing is set.
func Defaults() Config {
	return Config{
		Addr:                  "127.0.0.1:8080",
		DataDir:               "./data",
		BaseURL:               "http://127.0.0.1:8080",
		MailFrom:              "PSIMS <no-reply@localhost>",
		AutoApproveDomains:    []string{"nhs.net"},
		SessionIdle:           30 * time.Minute,
		SessionAbsolute:       12 * time.Hour,
		PrivilegedIdle:        15 * time.Minute,
		PrivilegedAbsolute:    12 * time.Hour,
		TwoStepRoles:          account.PrivilegedRoles(),
		LockoutThreshold:      10,
		LockoutWindow:         15 * time.Minute,
		LockoutDuration:       15 * time.Minute,
		VerifyTTL:             24 * time.Hour,
		ResetTTL:              time.Hour,
		HashMemoryKiB:         19 * 1024,
		HashTime:              2,
		HashThreads:           1,
		HashConcurrency:       0, // 0 means the number of CPUs
		SignInRate:            20,
		PublicReportRate:      10,
		APIRate:               1200,
		IGTrainingValidMonths: 12,
		DraftRetention:        30 * 24 * time.Hour,
		DraftReminder:         7 * 24 * time.Hour,
		UsageIPRetention:      usage.Retention{Days: 30},
		UsageRetention:        usage.Retention{Months: 13},
		StatsRules:            sdc.Default(),
		LogLevel:              "info",
		SMTPRate:              10,

		// P12, P13: as the privacy policy says.
		DormancyWarnAfter:       account.DefaultDormancyPolicy().WarnAfter,
		DormancyDeactivateAfter: account.DefaultDormancyPolicy().DeactivateAfter,
		DormancyDeleteAfter:     account.DefaultDormancyPolicy().DeleteAfter,
		DormancySweepLimit:      account.DefaultSweepLimit,
	}
}

// Flags says which groups of flags a command takes.
type Flags int

// The groups of flags. Every command that touches the database takes
// DatabaseFlags; serve takes them all.
const (
	DatabaseFlags Flags = 1 << iota
	ServerFlags
	AllFlags = DatabaseFlags | ServerFlags
)

// Register adds the flags of the given groups to fs, writing into c.
// Call Finish after fs.Parse to apply the environment and check values.
func (c *Config) Register(fs *flag.FlagSet, groups Flags) {
	if groups&DatabaseFlags != 0 {
		fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory for the embedded SQLite database and local state")
		fs.StringVar(&c.Database, "database", c.Database, "database: empty for SQLite in the data dir, or a postgres:// URL")
		fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn or error")
		// Every command reads these: the first to open a new database
		// publishes the default privacy policy, which states the first.
		fs.Func("usage-ip-retention", "cut usage events' IP addresses to their network after this long, such as 30d or 2mo (default 30d)", func(s string) error {
			r, err := usage.ParseRetention(s)
			c.UsageIPRetention = r
			return err
		})
		fs.Func("usage-retention", "delete raw usage events, and usage rows naming a person, after this long, such as 13mo (default 13mo)", func(s string) error {
			r, err := usage.ParseRetention(s)
			c.UsageRetention = r
			return err
		})
		// Official statistics (issue 15): read by serve and stats publish.
		fs.Int64Var(&c.StatsRules.Low, "stats-suppress-from", c.StatsRules.Low, "statistics: suppress counts below national level from this")
		fs.Int64Var(&c.StatsRules.High, "stats-suppress-to", c.StatsRules.High, "statistics: suppress counts below national level up to this")
		fs.Int64Var(&c.StatsRules.Round, "stats-round", c.StatsRules.Round, "statistics: round other counts below national level to the nearest this (0 or 1: no rounding)")
		fs.StringVar(&c.StatsRules.Symbol, "stats-symbol", c.StatsRules.Symbol, "statistics: what a suppressed count is shown as")
		fs.Int64Var(&c.StatsRules.MinRange, "stats-min-range", c.StatsRules.MinRange, "statistics: possible values every suppressed count must keep after differencing")
	}
	if groups&ServerFlags != 0 {
		fs.StringVar(&c.Addr, "addr", c.Addr, "address to listen on")
		fs.StringVar(&c.BaseURL, "base-url", c.BaseURL, "public URL of the service, used in email links; https makes cookies Secure")
		fs.StringVar(&c.SMTP, "smtp", c.SMTP, "SMTP server as smtp://user:pass@host:port or smtps://...; empty keeps mail in the outbox")
		fs.StringVar(&c.MailFrom, "mail-from", c.MailFrom, "From address of the email the service sends")
		fs.Func("auto-approve-domains", "comma-separated email domains approved on verification (default nhs.net)", func(s string) error {
			c.AutoApproveDomains = splitList(s)
			return nil
		})
		fs.DurationVar(&c.SessionIdle, "session-idle-timeout", c.SessionIdle, "end a session after this long without a request")
		fs.DurationVar(&c.SessionAbsolute, "session-absolute-timeout", c.SessionAbsolute, "end a session this long after sign-in")
		fs.DurationVar(&c.PrivilegedIdle, "privileged-session-idle-timeout", c.PrivilegedIdle, "end a session of an org-admin, read-only or national-admin account after this long without a request")
		fs.DurationVar(&c.PrivilegedAbsolute, "privileged-session-absolute-timeout", c.PrivilegedAbsolute, "end a session of an org-admin, read-only or national-admin account this long after sign-in")
		fs.Func("mfa-required-roles", "comma-separated roles whose accounts must use two-step verification (default org-admin,read-only,national-admin); empty for none", func(s string) error {
			roles, err := parseRoles(s)
			c.TwoStepRoles = roles
			return err
		})
		fs.Func("oidc-provider", "an OpenID Connect provider to sign in through, as name=…,issuer=…,client-id=…,client-secret-file=…[,label=…][,scopes=…][,acr=…][,amr=…][,trust-org=true]; repeat the flag for several (in the environment, separate them with ;)", func(s string) error {
			for _, one := range strings.Split(s, ";") {
				if strings.TrimSpace(one) == "" {
					continue
				}
				p, err := oidclogin.ParseConfig(one, os.ReadFile)
				if err != nil {
					return err
				}
				c.OIDCProviders = append(c.OIDCProviders, p)
			}
			return nil
		})
		fs.Func("hash-memory", "argon2id memory in KiB for new password hashes (default 19456)", func(s string) error {
			var v uint32
			_, err := fmt.Sscan(s, &v)
			c.HashMemoryKiB = v
			return err
		})
		fs.Func("hash-time", "argon2id iterations for new password hashes (default 2)", func(s string) error {
			var v uint32
			_, err := fmt.Sscan(s, &v)
			c.HashTime = v
			return err
		})
		fs.IntVar(&c.IGTrainingValidMonths, "ig-training-valid-for", c.IGTrainingValidMonths, "months that recorded information governance training stays valid")
		fs.IntVar(&c.SignInRate, "signin-rate-limit", c.SignInRate, "sign-in, registration and reset posts allowed per IP address per minute")
		fs.IntVar(&c.PublicReportRate, "public-report-rate-limit", c.PublicReportRate, "public concerns allowed per IP address per hour")
		fs.IntVar(&c.APIRate, "api-rate-limit", c.APIRate, "API requests allowed per API key per minute")
		fs.IntVar(&c.HashConcurrency, "hash-concurrency", c.HashConcurrency, "password hashes allowed at once; 0 means one per CPU")
		fs.DurationVar(&c.DraftRetention, "draft-retention", c.DraftRetention, "delete a draft this long after it was last saved")
		fs.DurationVar(&c.DraftReminder, "draft-reminder", c.DraftReminder, "email a draft's owner this long before it is deleted; less than --draft-retention")
		fs.IntVar(&c.LockoutThreshold, "lockout-attempts", c.LockoutThreshold, "wrong passwords within --lockout-window that lock an account")
		fs.DurationVar(&c.LockoutWindow, "lockout-window", c.LockoutWindow, "how far back wrong passwords count towards a lockout")
		fs.DurationVar(&c.LockoutDuration, "lockout-duration", c.LockoutDuration, "how long a locked account stays locked")
		fs.StringVar(&c.MetricsAddr, "metrics-addr", c.MetricsAddr, "address that serves /metrics; empty serves it on --addr to loopback clients only")
		fs.StringVar(&c.AuditAnchor, "audit-anchor", c.AuditAnchor, "file to append the audit log's head to each day, or an http(s) URL to POST it to; empty writes it to the log output only")
		fs.IntVar(&c.DormancySweepLimit, "dormancy-sweep-limit", c.DormancySweepLimit, "accounts one dormancy sweep warns, deactivates or deletes at most, of each; the rest wait for the next hourly sweep; 0 is no limit")
		fs.Float64Var(&c.SMTPRate, "smtp-rate", c.SMTPRate, "messages a second sent at most, shared by every process; 0 is no limit")
		fs.Func("trusted-proxies", "comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For is believed", func(s string) error {
			p, err := clientip.ParseTrusted(s)
			c.TrustedProxies = p
			return err
		})
		for _, f := range []struct {
			name, usage string
			into        *account.Period
		}{
			{"dormancy-warn-after", "warn an account by email after this long without a sign-in, such as 11mo, 330d or 7920h (default 11mo)", &c.DormancyWarnAfter},
			{"dormancy-deactivate-after", "deactivate an account after this long without a sign-in, and never sooner than the difference from --dormancy-warn-after after the warning (default 12mo)", &c.DormancyDeactivateAfter},
			{"dormancy-delete-after", "delete a dormant account's details this long after it was deactivated (default 30d)", &c.DormancyDeleteAfter},
		} {
			fs.Func(f.name, f.usage, func(s string) error {
				p, err := account.ParsePeriod(s)
				*f.into = p
				return err
			})
		}
	}
}

// Finish applies PSIMS_* environment variables to every flag of fs that was
// not set on the command line, then checks the result. getenv is usually
// os.Getenv; tests pass their own.
func (c *Config) Finish(fs *flag.FlagSet, getenv func(string) string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] {
			return
		}
		v := getenv(EnvName(f.Name))
		if v == "" {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvName(f.Name), err))
		}
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return c.check()
}

// EnvName is the environment variable that sets the flag called name.
func EnvName(name string) string {
	return "PSIMS_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

func (c *Config) check() error {
	if c.Database != "" && !IsPostgres(c.Database) {
		return fmt.Errorf("--database must be empty (SQLite) or a postgres:// URL, not %q", redactURL(c.Database))
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--base-url must be an http or https URL, not %q", c.BaseURL)
	}
	if c.SMTP != "" {
		u, err := url.Parse(c.SMTP)
		if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Host == "" {
			return errors.New("--smtp must look like smtp://user:pass@host:port or smtps://user:pass@host:port")
		}
	}
	if c.SMTPRate != 0 && !(c.SMTPRate >= 0.01 && c.SMTPRate <= 10000) {
		return errors.New("--smtp-rate must be 0 (no limit) or between 0.01 and 10000 messages a second")
	}
	if strings.Contains(c.AuditAnchor, "://") {
		u, err := url.Parse(c.AuditAnchor)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return errors.New("--audit-anchor must be a file path or an http or https URL")
		}
	}
	if c.IGTrainingValidMonths < 1 {
		return errors.New("--ig-training-valid-for must be at least 1 month")
	}
	if c.APIRate < 1 || c.APIRate > 1_000_000 {
		return errors.New("--api-rate-limit must be from 1 to 1000000 requests a minute")
	}
	if c.SessionIdle <= 0 || c.SessionAbsolute <= 0 || c.PrivilegedIdle <= 0 || c.PrivilegedAbsolute <= 0 {
		return errors.New("session timeouts must be positive")
	}
	if c.DraftRetention <= 0 || c.DraftReminder <= 0 {
		return errors.New("--draft-retention and --draft-reminder must be positive durations, such as 720h and 168h")
	}
	if c.DraftReminder >= c.DraftRetention {
		return fmt.Errorf("--draft-reminder (%s) must be less than --draft-retention (%s): the reminder goes that long before the draft is deleted",
			c.DraftReminder, c.DraftRetention)
	}
	if err := c.StatsRules.Validate(); err != nil {
		return fmt.Errorf("--stats-suppress-from, --stats-suppress-to, --stats-round, --stats-symbol, --stats-min-range: %w", err)
	}
	if c.UsageIPRetention.IsZero() || c.UsageRetention.IsZero() {
		return errors.New("--usage-ip-retention and --usage-retention must be periods such as 30d and 13mo")
	}
	// The rollup stores how many people used the service in each month
	// from the rows that name them, so those must outlive the month.
	if c.UsageRetention.Shorter(usage.Retention{Months: 2}) {
		return fmt.Errorf("--usage-retention (%s) must be at least 2 months", c.UsageRetention)
	}
	if c.UsageRetention.Shorter(c.UsageIPRetention) {
		return fmt.Errorf("--usage-ip-retention (%s) must not be longer than --usage-retention (%s)", c.UsageIPRetention, c.UsageRetention)
	}
	if err := c.DormancyPolicy().Check(); err != nil {
		return err
	}
	if c.LockoutThreshold < 1 || c.LockoutWindow <= 0 || c.LockoutDuration <= 0 {
		return errors.New("--lockout-attempts must be at least 1, and --lockout-window and --lockout-duration positive durations such as 15m")
	}
	if c.HashMemoryKiB < 19*1024 || c.HashTime < 2 {
		return errors.New("argon2id needs at least 19456 KiB of memory and 2 iterations")
	}
	names := map[string]bool{}
	for _, p := range c.OIDCProviders {
		if names[p.Name] {
			return fmt.Errorf("--oidc-provider: two providers are called %q", p.Name)
		}
		names[p.Name] = true
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("--log-level must be debug, info, warn or error, not %q", c.LogLevel)
	}
	return nil
}

// parseRoles reads a comma-separated list of roles; an empty one is none.
func parseRoles(s string) ([]account.Role, error) {
	roles := []account.Role{}
	for _, name := range splitList(s) {
		r, err := account.ParseRole(name)
		if err != nil {
			return nil, fmt.Errorf("--mfa-required-roles: %s", apperr.MessageOf(err))
		}
		if !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	return roles, nil
}

// AccountSettings are the rules of the account service under this
// configuration.
func (c *Config) AccountSettings() account.Settings {
	return account.Settings{
		BaseURL:               c.BaseURL,
		AutoApproveDomains:    c.AutoApproveDomains,
		SessionIdle:           c.SessionIdle,
		SessionAbsolute:       c.SessionAbsolute,
		PrivilegedIdle:        c.PrivilegedIdle,
		PrivilegedAbsolute:    c.PrivilegedAbsolute,
		TwoStepRoles:          c.TwoStepRoles,
		LockoutThreshold:      c.LockoutThreshold,
		LockoutWindow:         c.LockoutWindow,
		LockoutDuration:       c.LockoutDuration,
		VerifyTTL:             c.VerifyTTL,
		ResetTTL:              c.ResetTTL,
		IGTrainingValidMonths: c.IGTrainingValidMonths,
	}
}

// UsagePolicy is how long usage data is kept under this configuration.
func (c *Config) UsagePolicy() usage.Policy {
	return usage.Policy{IPRetention: c.UsageIPRetention, Retention: c.UsageRetention}
}

// SecureCookies reports whether cookies must carry the Secure attribute.
func (c *Config) SecureCookies() bool {
	return strings.HasPrefix(c.BaseURL, "https://")
}

// SQLitePath is the database file used when Database is empty.
func (c *Config) SQLitePath() string {
	return filepath.Join(c.DataDir, "psims.db")
}

// IsPostgres reports whether a database setting names PostgreSQL.
func IsPostgres(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// redactURL hides any password in a URL so it can go into an error message.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable)"
	}
	return u.Redacted()
}

// DormancyPolicy is when dormant accounts are warned, deactivated and
// deleted under this configuration (P12, P13).
func (c *Config) DormancyPolicy() account.DormancyPolicy {
	return account.DormancyPolicy{WarnAfter: c.DormancyWarnAfter, DeactivateAfter: c.DormancyDeactivateAfter, DeleteAfter: c.DormancyDeleteAfter,
		Limit: c.DormancySweepLimit}
}
