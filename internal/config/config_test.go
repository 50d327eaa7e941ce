package config

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/stats/sdc"
)

func parse(t *testing.T, args []string, env map[string]string) (Config, error) {
	t.Helper()
	c := Defaults()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.Register(fs, AllFlags)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	return c, c.Finish(fs, func(k string) string { return env[k] })
}

func TestTheEnvironmentSetsFlagsAndTheCommandLineWins(t *testing.T) {
	c, err := parse(t, []string{"--addr", "127.0.0.1:9000"}, map[string]string{
		"PSIMS_ADDR": "127.0.0.1:7000", "PSIMS_SESSION_IDLE_TIMEOUT": "10m", "PSIMS_AUTO_APPROVE_DOMAINS": "nhs.net, NHS.UK ,",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9000" {
		t.Errorf("addr = %s, want the command line's", c.Addr)
	}
	if c.SessionIdle != 10*time.Minute {
		t.Errorf("idle timeout = %s, want the environment's", c.SessionIdle)
	}
	if len(c.AutoApproveDomains) != 2 || c.AutoApproveDomains[1] != "nhs.uk" {
		t.Errorf("domains = %q", c.AutoApproveDomains)
	}
}

func TestBadValuesAreRefusedWithTheirName(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"a database that is not PostgreSQL": {"PSIMS_DATABASE": "mysql://x"},
		"a base URL without a scheme":       {"PSIMS_BASE_URL": "psims.example"},
		"an SMTP URL of another scheme":     {"PSIMS_SMTP": "http://mail.example"},
		"weaker password hashing":           {"PSIMS_HASH_MEMORY": "1024"},
		"a duration that is not one":        {"PSIMS_SESSION_IDLE_TIMEOUT": "soon"},
		"no IG training validity":           {"PSIMS_IG_TRAINING_VALID_FOR": "0"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parse(t, nil, env); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestSecureCookiesFollowTheBaseURL(t *testing.T) {
	c := Defaults()
	if c.SecureCookies() {
		t.Error("http base URL gives Secure cookies")
	}
	c.BaseURL = "https://psims.example"
	if !c.SecureCookies() {
		t.Error("https base URL does not give Secure cookies")
	}
	if EnvName("data-dir") != "PSIMS_DATA_DIR" {
		t.Errorf("EnvName(data-dir) = %s", EnvName("data-dir"))
	}
}

func TestDraftRetentionAndReminder(t *testing.T) {
	c, err := parse(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.DraftRetention != 720*time.Hour || c.DraftReminder != 168*time.Hour {
		t.Errorf("defaults: retention %s, reminder %s; want 720h and 168h", c.DraftRetention, c.DraftReminder)
	}
	c, err = parse(t, []string{"--draft-reminder", "48h"}, map[string]string{"PSIMS_DRAFT_RETENTION": "240h"})
	if err != nil {
		t.Fatal(err)
	}
	if c.DraftRetention != 240*time.Hour || c.DraftReminder != 48*time.Hour {
		t.Errorf("retention %s, reminder %s; want 240h from the environment and 48h from the flag", c.DraftRetention, c.DraftReminder)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"a reminder as long as the retention is refused", []string{"--draft-retention", "168h"}, "--draft-reminder (168h0m0s) must be less than --draft-retention (168h0m0s)"},
		{"a reminder longer than the retention is refused", []string{"--draft-retention", "24h", "--draft-reminder", "48h"}, "must be less than --draft-retention"},
		{"a zero retention is refused", []string{"--draft-retention", "0s", "--draft-reminder", "0s"}, "must be positive"},
		{"a negative reminder is refused", []string{"--draft-reminder", "-1h"}, "must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, tc.args, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// P4: the usage retention periods are read as people write them, and
// settings that would keep nothing long enough are refused.
func TestUsageRetention(t *testing.T) {
	c, err := parse(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.UsageIPRetention.String() != "30 days" || c.UsageRetention.String() != "13 months" {
		t.Errorf("defaults: %s and %s; want 30 days and 13 months", c.UsageIPRetention, c.UsageRetention)
	}
	c, err = parse(t, []string{"--usage-retention", "24 months"}, map[string]string{"PSIMS_USAGE_IP_RETENTION": "7d"})
	if err != nil {
		t.Fatal(err)
	}
	if p := c.UsagePolicy(); p.IPRetention.String() != "7 days" || p.Retention.String() != "24 months" {
		t.Errorf("policy %+v; want 7 days from the environment and 24 months from the flag", p)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"a period without a unit is refused", []string{"--usage-ip-retention", "30"}, "not a period such as 30d"},
		{"a Go duration is refused", []string{"--usage-retention", "720h"}, "not a period such as 30d"},
		{"no time at all is refused", []string{"--usage-ip-retention", "0d"}, "at least 1"},
		{"raw events kept less than two months are refused", []string{"--usage-retention", "40d"}, "must be at least 2 months"},
		{"addresses kept longer than the events are refused", []string{"--usage-ip-retention", "14mo"}, "must not be longer than --usage-retention (13 months)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, tc.args, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// The disclosure control rules of statistics publications default to NHS
// England's, come from flags or the environment, and are checked (T16).
func TestStatsRules(t *testing.T) { // T16
	c, err := parse(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.StatsRules != sdc.Default() {
		t.Errorf("default rules %+v", c.StatsRules)
	}
	c, err = parse(t, []string{"--stats-round", "10", "--stats-suppress-to", "9", "--stats-min-range", "3"}, map[string]string{"PSIMS_STATS_SYMBOL": "[c]"})
	if err != nil {
		t.Fatal(err)
	}
	if want := (sdc.Rules{Low: 1, High: 9, Round: 10, Symbol: "[c]", MinRange: 3}); c.StatsRules != want {
		t.Errorf("rules %+v, want %+v", c.StatsRules, want)
	}
	if _, err := parse(t, []string{"--stats-suppress-to", "0"}, nil); err == nil || !strings.Contains(err.Error(), "must not be less than the smallest") {
		t.Errorf("bad rules: %v", err)
	}
}

func TestSMTPRateDefaultsToTenASecondAndZeroIsNoLimit(t *testing.T) {
	c, err := parse(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTPRate != 10 {
		t.Errorf("default rate %v, want 10", c.SMTPRate)
	}
	for env, want := range map[string]float64{"0": 0, "0.5": 0.5, "250": 250} {
		c, err := parse(t, nil, map[string]string{"PSIMS_SMTP_RATE": env})
		if err != nil || c.SMTPRate != want {
			t.Errorf("PSIMS_SMTP_RATE=%s: %v, %v; want %v", env, c.SMTPRate, err, want)
		}
	}
	for _, bad := range []string{"-1", "0.001", "NaN", "Inf", "1e9", "fast"} {
		if _, err := parse(t, []string{"--smtp-rate", bad}, nil); err == nil {
			t.Errorf("--smtp-rate %s accepted", bad)
		}
	}
}

// TestOIDCProvidersComeFromRepeatedFlagsOrTheEnvironment: --oidc-provider
// may be given several times, or PSIMS_OIDC_PROVIDER may hold several
// separated by ";"; two providers of one name are refused. // P11
func TestOIDCProvidersComeFromRepeatedFlagsOrTheEnvironment(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	one := "name=cis2,label=NHS CIS2,issuer=https://cis2.example,client-id=a,client-secret-file=" + secret + ",trust-org=true"
	two := "name=okta,issuer=https://okta.example,client-id=b,client-secret-file=" + secret
	c, err := parse(t, []string{"--oidc-provider", one, "--oidc-provider", two}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.OIDCProviders) != 2 || c.OIDCProviders[0].Label != "NHS CIS2" || c.OIDCProviders[1].ClientSecret != "s3cret" {
		t.Fatalf("from flags: %+v", c.OIDCProviders)
	}
	c, err = parse(t, nil, map[string]string{"PSIMS_OIDC_PROVIDER": one + ";" + two + ";"})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.OIDCProviders) != 2 || c.OIDCProviders[1].Name != "okta" {
		t.Fatalf("from the environment: %+v", c.OIDCProviders)
	}
	if _, err := parse(t, []string{"--oidc-provider", one, "--oidc-provider", one}, nil); err == nil || !strings.Contains(err.Error(), `two providers are called "cis2"`) {
		t.Fatalf("the same name twice: %v", err)
	}
	if _, err := parse(t, []string{"--oidc-provider", "name=cis2,issuer=https://x,client-id=a,client-secret-file=/no/such/file"}, nil); err == nil {
		t.Fatal("a missing secret file was accepted")
	}
}
