package config

import (
	"flag"
	"io"
	"testing"
	"time"
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
