package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/bench"
	"github.com/psims/psims/internal/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `psims runs the Patient Safety Incident Management System.

Usage:
  psims serve                      run the web service and background jobs
  psims migrate                    bring the database schema up to date
  psims user create                create an account (for example the first national admin;
                                   give --ig-training DATE so admin pages open at once)
  psims user approve --email E     approve an account waiting for approval
  psims user set-role --email E --role R [--grant ODS,...]
  psims user reset-two-step --email E --reason TEXT
                                   change an account's role (and a read-only user's organisations)
  psims user reset-two-step --email E --reason TEXT
                                   remove the authenticator app of someone who has lost it
  psims org import [flags] FILE.csv
                                   load or update organisations (flags before the file)
  psims terms publish --kind K --file F.md [--material]
                                   publish a new version of the terms, privacy policy or recording statement
  psims docs add --file F --title T [--summary S] [--audience ROLE,...] [--version LABEL]
                                   add a document to the guidance library (PDF, DOCX, XLSX, HTML or Markdown)
  psims mail list [--to EMAIL]     show email sent or queued
  psims audit verify [--anchor FILE]
                                   check the audit log has not been changed (nor cut short, with the anchors in FILE)
  psims guard check                report identifiers in text on standard input (exit 3 when found)
  psims demo seed                  load synthetic organisations, users and events for demos and benchmarks
  psims usage report --from D --to D [--org ODS] [--format csv|json] [--individuals]
                                   print a usage report of an organisation, or of the whole service
  psims lifecycle run [--as-of TIME] [--dry-run]
                                   run every lifecycle sweep once (dormant accounts, drafts, usage retention)
  psims stats publish --from D --to D --out DIR [--basis occurred|submitted] [--publish] [--title T]
                                   write (and with --publish, publish) the official statistics of a period
  psims stats denominators load FILE.csv
                                   load admissions or bed days for reporting rates
  psims apikey create --org ODS --name NAME [--expires YYYY-MM-DD]
                                   make an organisation's key to the API and print it (shown only once)
  psims apikey revoke --id N [--reason TEXT]
                                   stop an API key working at once
  psims apikey list [--org ODS]    list API keys (never the keys themselves), one tab-separated line each
  psims bench SCENARIO             measure performance (signin, register, authz, userlist, gate, list, submit, api, usage, lifecycle, stats)
  psims version                    print the version

Run "psims COMMAND --help" for the flags of a command. Every flag can also be
set in the environment as PSIMS_ + its name in upper case with - as _
(for example PSIMS_DATA_DIR).
`

// env is what a command gets from the outside world.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usagef("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	case "version":
		fmt.Fprintln(stdout, "psims", version)
		return nil
	case "serve":
		return cmdServe(ctx, e, rest)
	case "migrate":
		return cmdMigrate(ctx, e, rest)
	case "user":
		return subcommand(ctx, e, "user", rest, map[string]func(context.Context, env, []string) error{
			"create":         cmdUserCreate,
			"approve":        cmdUserApprove,
			"set-role":       cmdUserSetRole,
			"reset-two-step": cmdUserResetTwoStep,
		})
	case "org":
		return subcommand(ctx, e, "org", rest, map[string]func(context.Context, env, []string) error{
			"import": cmdOrgImport,
		})
	case "terms":
		return subcommand(ctx, e, "terms", rest, map[string]func(context.Context, env, []string) error{
			"publish": cmdTermsPublish,
		})
	case "docs":
		return subcommand(ctx, e, "docs", rest, map[string]func(context.Context, env, []string) error{
			"add": cmdDocsAdd,
		})
	case "mail":
		return subcommand(ctx, e, "mail", rest, map[string]func(context.Context, env, []string) error{
			"list": cmdMailList,
		})
	case "audit":
		return subcommand(ctx, e, "audit", rest, map[string]func(context.Context, env, []string) error{
			"verify": cmdAuditVerify,
		})
	case "guard":
		return subcommand(ctx, e, "guard", rest, map[string]func(context.Context, env, []string) error{
			"check": cmdGuardCheck,
		})
	case "demo":
		return cmdDemo(ctx, e, rest)
	case "usage":
		return cmdUsage(ctx, e, rest)
	case "lifecycle":
		return cmdLifecycle(ctx, e, rest)
	case "stats":
		return cmdStats(ctx, e, rest)
	case "apikey":
		return cmdAPIKey(ctx, e, rest)
	case "bench":
		if len(rest) > 0 && slices.Contains(bench.AdminScenarios(), rest[0]) {
			return cmdBenchAdmin(ctx, e, rest[0], rest[1:])
		}
		if len(rest) > 0 {
			switch rest[0] {
			case bench.ScenarioGate:
				return cmdBenchGate(ctx, e, rest[1:])
			case bench.ScenarioList:
				return cmdBenchList(ctx, e, rest[1:])
			case bench.ScenarioSubmit:
				return cmdBenchSubmit(ctx, e, rest[1:])
			case bench.ScenarioAPI:
				return cmdBenchAPI(ctx, e, rest[1:])
			case bench.ScenarioUsage:
				return cmdBenchUsage(ctx, e, rest[1:])
			case bench.ScenarioLifecycle:
				return cmdBenchLifecycle(ctx, e, rest[1:])
			case bench.ScenarioStats:
				return cmdBenchStats(ctx, e, rest[1:])
			}
		}
		return cmdBench(ctx, e, rest)
	default:
		return usagef("unknown command %q; run psims --help", cmd)
	}
}

func subcommand(ctx context.Context, e env, name string, args []string, cmds map[string]func(context.Context, env, []string) error) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(e.stdout, usage)
		if len(args) == 0 {
			return usagef("psims %s needs a subcommand", name)
		}
		return nil
	}
	fn, ok := cmds[args[0]]
	if !ok {
		return usagef("unknown command \"psims %s %s\"; run psims --help", name, args[0])
	}
	return fn(ctx, e, args[1:])
}

// parse parses flags of the given groups plus extra ones that define adds,
// applying PSIMS_* environment variables. It returns errHelp after printing
// help for -h or --help.
func parse(e env, name, summary string, groups config.Flags, args []string, define func(fs *flag.FlagSet)) (config.Config, *flag.FlagSet, error) {
	cfg := config.Defaults()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg.Register(fs, groups)
	if define != nil {
		define(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(e.stdout, "Usage: psims %s\n\n%s\n\nFlags:\n", name, summary)
			fs.SetOutput(e.stdout)
			fs.PrintDefaults()
			return cfg, fs, errHelp
		}
		return cfg, fs, usagef("%s: %v", name, err)
	}
	if err := cfg.Finish(fs, e.getenv); err != nil {
		return cfg, fs, usagef("%s: %v", name, err)
	}
	cfg.Version = version
	return cfg, fs, nil
}

func cmdServe(ctx context.Context, e env, args []string) error {
	cfg, fs, err := parse(e, "serve", "Runs the web service and background jobs until interrupted.", config.AllFlags, args, nil)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("serve takes no arguments")
	}
	a, err := app.OpenServer(ctx, cfg, app.NewLogger(e.stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Serve(ctx, nil)
}

func cmdMigrate(ctx context.Context, e env, args []string) error {
	cfg, _, err := parse(e, "migrate", "Brings the database schema up to date. Safe to run again.", config.DatabaseFlags, args, nil)
	if err != nil {
		return err
	}
	a, err := app.Open(ctx, cfg, app.NewLogger(e.stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Fprintln(e.stdout, "The database is up to date.")
	return nil
}

func cmdUserCreate(ctx context.Context, e env, args []string) error {
	var n account.NewUser
	var role string
	var passwordStdin bool
	var igTraining string
	cfg, _, err := parse(e, "user create", "Creates an active account. The password is read from standard input.", config.AllFlags, args, func(fs *flag.FlagSet) {
		fs.StringVar(&n.Email, "email", "", "email address (required)")
		fs.StringVar(&n.Name, "name", "", "full name (required)")
		fs.StringVar(&n.OrgCode, "org", "", "ODS code of the organisation (required; import organisations first)")
		fs.StringVar(&n.JobRole, "job-role", "", "job role")
		fs.StringVar(&role, "role", "reporter", "role: reporter, reviewer, org-admin, read-only or national-admin")
		fs.BoolVar(&passwordStdin, "password-stdin", false, "read the password from the first line of standard input (required)")
		fs.StringVar(&igTraining, "ig-training", "", "`YYYY-MM-DD` the person last completed information governance training; admins, reviewers and read-only users need a date within --ig-training-valid-for months before they can use organisation pages")
	})
	if err != nil {
		return err
	}
	if n.Email == "" || n.Name == "" || n.OrgCode == "" {
		return usagef("user create needs --email, --name and --org")
	}
	if !passwordStdin {
		return usagef("user create needs --password-stdin, so the password never appears in the process list")
	}
	r, err := account.ParseRole(role)
	if err != nil {
		return usagef("%s", apperr.MessageOf(err))
	}
	n.Role = r
	if igTraining != "" {
		day, err := time.Parse(time.DateOnly, igTraining)
		if err != nil {
			return usagef("user create: --ig-training must be a date like 2026-03-31, not %q", igTraining)
		}
		n.IGTrainingOn = &day
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read password: %w", err)
	}
	n.Password = strings.TrimRight(line, "\r\n")
	a, err := app.Open(ctx, cfg, app.NewLogger(e.stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.Accounts.Create(ctx, n)
	if err != nil {
		return userFacing(err)
	}
	fmt.Fprintf(e.stdout, "Created %s (%s) as %s of %s.\n", u.Email, u.Name, u.Role, u.OrgCode)
	if u.IGTrainingAt != nil {
		fmt.Fprintf(e.stdout, "IG training recorded as completed on %s.\n", u.IGTrainingAt.Format(time.DateOnly))
	} else if u.Role != account.RoleReporter {
		fmt.Fprintf(e.stdout, "No IG training date was given: %s must record one under \"Your account\" before using organisation pages (or give --ig-training).\n", u.Email)
	}
	return nil
}

func cmdUserApprove(ctx context.Context, e env, args []string) error {
	var email string
	cfg, _, err := parse(e, "user approve", "Approves an account that is waiting for approval and emails its owner.", config.AllFlags, args, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "email address of the account (required)")
	})
	if err != nil {
		return err
	}
	if email == "" {
		return usagef("user approve needs --email")
	}
	a, err := app.Open(ctx, cfg, app.NewLogger(e.stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.Accounts.Approve(ctx, email, 0)
	if err != nil {
		return userFacing(err)
	}
	fmt.Fprintf(e.stdout, "Approved %s. They have been emailed.\n", u.Email)
	return nil
}

func cmdOrgImport(ctx context.Context, e env, args []string) error {
	cfg, fs, err := parse(e, "org import FILE.csv", "Adds or updates organisations from a CSV file: either headed (ods_code,name,type,parent) or the NHS ODS download layout (no header; code, name, ...).", config.DatabaseFlags, args, nil)
	if err != nil {
		return err
	}
	if fs.NArg() > 1 && slices.ContainsFunc(fs.Args()[1:], func(a string) bool { return strings.HasPrefix(a, "-") }) {
		return usagef("org import: put flags before the file, as in psims org import --data-dir DIR FILE.csv")
	}
	if fs.NArg() != 1 {
		return usagef("org import needs exactly one FILE.csv")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("org import: %w", err)
	}
	defer f.Close()
	a, err := app.Open(ctx, cfg, app.NewLogger(e.stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer a.Close()
	res, err := a.Orgs.Import(ctx, f)
	if err != nil {
		return userFacing(err)
	}
	fmt.Fprintf(e.stdout, "Imported %s: %d added, %d updated.\n", fs.Arg(0), res.Added, res.Updated)
	return nil
}

func cmdMailList(ctx context.Context, e env, args []string) error {
	var to string
	var limit int
	cfg, _, err := parse(e, "mail list", "Shows email sent or waiting in the outbox, newest first.", config.DatabaseFlags, args, func(fs *flag.FlagSet) {
		fs.StringVar(&to, "to", "", "only email to this address")
		fs.IntVar(&limit, "limit", 20, "how many to show")
	})
	if err != nil {
		return err
	}
	a, err := app.Open(ctx, cfg, app.NewLogger(e.stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer a.Close()
	entries, err := a.Outbox.List(ctx, strings.ToLower(strings.TrimSpace(to)), limit)
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		fmt.Fprintln(e.stdout, "No email.")
		return nil
	}
	for _, m := range entries {
		fmt.Fprintf(e.stdout, "#%d  %s  %s (attempts %d)\nTo: %s\nSubject: %s\n\n%s\n\n", m.ID,
			m.CreatedAt.Format("2006-01-02 15:04:05Z"), m.Status, m.Attempts, m.To, m.Subject, strings.TrimSpace(m.Text))
	}
	return nil
}

func cmdAuditVerify(ctx context.Context, e env, args []string) error {
	var anchorFile string
	cfg, fs, err := parse(e, "audit verify", `Checks every row of the audit log against the hash chain and reports the first row that was changed or removed.
With --anchor, also checks every chain head anchored in FILE (the file --audit-anchor
writes each day): a row missing from the log means rows were cut off its end.`,
		config.DatabaseFlags, args, func(fs *flag.FlagSet) {
			fs.StringVar(&anchorFile, "anchor", "", "anchor file written by --audit-anchor; checks each anchored row is still there, unchanged")
		})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("audit verify takes no arguments")
	}
	var anchors []audit.Anchor
	if anchorFile != "" {
		// Read first, so a bad file is reported before the database is opened.
		if anchors, err = audit.ReadAnchorFile(anchorFile); err != nil {
			return err
		}
	}
	a, err := app.Open(ctx, cfg, app.NewLogger(e.stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer a.Close()
	n, problem, err := audit.Verify(ctx, a.DB)
	if err != nil {
		return err
	}
	if problem != nil {
		return fmt.Errorf("audit log broken at row %d: %s (%d rows checked)", problem.RowID, problem.Reason, n)
	}
	if anchorFile == "" {
		fmt.Fprintf(e.stdout, "The audit log is intact: %d rows checked.\n", n)
		return nil
	}
	checked, problem, err := audit.CheckAnchors(ctx, a.DB, anchors)
	if err != nil {
		return err
	}
	if problem != nil {
		return fmt.Errorf("audit log does not match %s at row %d: %s (%d rows checked, %d of %d anchors checked)",
			anchorFile, problem.RowID, problem.Reason, n, checked, len(anchors))
	}
	last := "none"
	if len(anchors) > 0 {
		l := anchors[len(anchors)-1]
		last = fmt.Sprintf("row %d at %s", l.ID, l.At.Format(time.RFC3339))
	}
	fmt.Fprintf(e.stdout, "The audit log is intact: %d rows checked, and all %d anchored heads in %s are present and unchanged (last: %s).\n",
		n, len(anchors), anchorFile, last)
	return nil
}

// userFacing turns an application error into the message an operator should
// see on the command line.
func userFacing(err error) error {
	var fields apperr.Fields
	if errors.As(err, &fields) {
		msgs := make([]string, 0, len(fields))
		for _, f := range fields {
			msgs = append(msgs, f.Field+": "+f.Message)
		}
		return errors.New(strings.Join(msgs, "; "))
	}
	if apperr.CodeOf(err) != apperr.Internal {
		return errors.New(apperr.MessageOf(err))
	}
	return err
}
