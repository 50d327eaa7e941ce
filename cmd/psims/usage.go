package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/psims/psims/internal/app"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/org"
	// Named apart from run.go's usage text.
	usg "github.com/psims/psims/internal/usage"
)

// cmdUsage runs the usage subcommands: psims usage report.
func cmdUsage(ctx context.Context, e env, args []string) error {
	return subcommand(ctx, e, "usage", args, map[string]func(context.Context, env, []string) error{
		"report": cmdUsageReport,
	})
}

const usageReportSummary = `Prints the usage report of an organisation (--org), or of the whole service
without --org, for the days from --from to --to (YYYY-MM-DD, UTC,
inclusive; --to is cut to today): a row for each ISO week (from Monday) and
each calendar month, the first and last cut to those days, and a total row.
Each row has the people active, sign-ins, page views, documents opened,
patient safety events recorded, and page views of each area of the service.

A figure that fewer than 5 different people stand for is suppressed: "<5"
in CSV, null in JSON (and named in the row's "suppressed" list). Active
people over days that are not a whole week or month and older than
--usage-retention can no longer be counted: "unknown" in CSV, null in JSON
(named in "unknown").

With --individuals and --org, a row for each person of the organisation
who consents now to analysis of their use, and used the service in those
days: in CSV a second table after a blank line, in JSON "people". Showing
them is recorded in the audit log. The report of the whole service names
no one.`

func cmdUsageReport(ctx context.Context, e env, args []string) error {
	var orgCode, fromText, toText, format string
	var individuals bool
	cfg, fs, err := parse(e, "usage report", usageReportSummary, config.DatabaseFlags, args, func(fs *flag.FlagSet) {
		fs.StringVar(&orgCode, "org", "", "ODS code of the organisation; empty for the whole service")
		fs.StringVar(&fromText, "from", "", "first day, YYYY-MM-DD (required)")
		fs.StringVar(&toText, "to", "", "last day, YYYY-MM-DD (required)")
		fs.StringVar(&format, "format", "csv", "csv or json")
		fs.BoolVar(&individuals, "individuals", false, "add a row for each consenting person (needs --org)")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("usage report takes flags only; unexpected %q", fs.Arg(0))
	}
	q := usg.ReportQuery{Individuals: individuals}
	if q.From, err = time.Parse(time.DateOnly, fromText); err != nil {
		return usagef("usage report needs --from as YYYY-MM-DD, not %q", fromText)
	}
	if q.To, err = time.Parse(time.DateOnly, toText); err != nil {
		return usagef("usage report needs --to as YYYY-MM-DD, not %q", toText)
	}
	if format != "csv" && format != "json" {
		return usagef("usage report needs --format csv or json, not %q", format)
	}
	if orgCode != "" {
		code, err := org.ParseCode(orgCode)
		if err != nil {
			return usagef("usage report: --org: %s", apperr.MessageOf(err))
		}
		q.Org = code.String()
	} else if individuals {
		return usagef("usage report: --individuals needs --org: the report of the whole service names no one")
	}
	a, err := app.Open(ctx, cfg, app.NewLogger(e.stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer a.Close()
	if q.Org != "" {
		code, _ := org.ParseCode(q.Org)
		if _, err := a.Orgs.Get(ctx, code); err != nil {
			return userFacing(err)
		}
	}
	rep, err := a.Usage.Report(ctx, q)
	if apperr.CodeOf(err) == apperr.Invalid {
		return usagef("usage report: %s", apperr.MessageOf(err))
	}
	if err != nil {
		return err
	}
	if individuals {
		if err := a.Usage.RecordIndividualsShown(ctx, 0, "", rep); err != nil {
			return err
		}
	}
	if format == "json" {
		return writeUsageJSON(e.stdout, rep)
	}
	return usg.WriteCSV(e.stdout, rep)
}

// jsonPeriod is a period in JSON: a figure is null when suppressed or
// unknown, and named in Suppressed or Unknown.
type jsonPeriod struct {
	Period          string            `json:"period"`
	From            string            `json:"from"`
	To              string            `json:"to"`
	ActiveUsers     *int64            `json:"active_users"`
	SignIns         *int64            `json:"sign_ins"`
	PageViews       *int64            `json:"page_views"`
	DocumentsOpened *int64            `json:"documents_opened"`
	EventsRecorded  *int64            `json:"events_recorded"`
	Views           map[string]*int64 `json:"views"`
	Suppressed      []string          `json:"suppressed"`
	Unknown         []string          `json:"unknown"`
}

type jsonPerson struct {
	UserID          int64     `json:"user_id"`
	Name            string    `json:"name"`
	Email           string    `json:"email"`
	SignIns         int64     `json:"sign_ins"`
	PageViews       int64     `json:"page_views"`
	DocumentsOpened int64     `json:"documents_opened"`
	ActiveDays      int       `json:"active_days"`
	LastActive      time.Time `json:"last_active"`
}

func writeUsageJSON(w io.Writer, rep usg.Report) error {
	out := struct {
		Org      *string      `json:"org"`
		From     string       `json:"from"`
		To       string       `json:"to"`
		MinUsers int          `json:"min_users"`
		Weeks    []jsonPeriod `json:"weeks"`
		Months   []jsonPeriod `json:"months"`
		Total    jsonPeriod   `json:"total"`
		People   []jsonPerson `json:"people,omitempty"`
	}{From: rep.Query.From.Format(time.DateOnly), To: rep.Query.To.Format(time.DateOnly), MinUsers: usg.MinUsers,
		Weeks: []jsonPeriod{}, Months: []jsonPeriod{}}
	if rep.Query.Org != "" {
		out.Org = &rep.Query.Org
	}
	kinds, periods := rep.Rows()
	for i, p := range periods {
		j := jsonPeriod{Period: kinds[i], From: p.From.Format(time.DateOnly), To: p.To.Format(time.DateOnly),
			Views: map[string]*int64{}, Suppressed: []string{}, Unknown: []string{}}
		value := func(name string, f usg.Figure) *int64 {
			switch {
			case f.Unknown:
				j.Unknown = append(j.Unknown, name)
			case f.Suppressed:
				j.Suppressed = append(j.Suppressed, name)
			default:
				v := f.Value
				return &v
			}
			return nil
		}
		j.ActiveUsers = value("active_users", p.ActiveUsers)
		j.SignIns = value("sign_ins", p.SignIns)
		j.PageViews = value("page_views", p.PageViews)
		j.DocumentsOpened = value("documents_opened", p.DocumentsOpened)
		j.EventsRecorded = value("events_recorded", p.EventsRecorded)
		for _, a := range p.Areas {
			j.Views[a.Area] = value("views."+a.Area, a.Views)
		}
		switch kinds[i] {
		case "week":
			out.Weeks = append(out.Weeks, j)
		case "month":
			out.Months = append(out.Months, j)
		default:
			out.Total = j
		}
	}
	if rep.Query.Individuals && rep.Query.Org != "" {
		out.People = []jsonPerson{}
		for _, p := range rep.People {
			out.People = append(out.People, jsonPerson{UserID: p.UserID, Name: p.Name, Email: p.Email, SignIns: p.SignIns,
				PageViews: p.PageViews, DocumentsOpened: p.DocumentsOpened, ActiveDays: p.ActiveDays, LastActive: p.LastActive.UTC()})
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("usage report: write: %w", err)
	}
	return nil
}
