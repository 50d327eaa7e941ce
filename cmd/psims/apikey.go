package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/apikey"
	"github.com/psims/psims/internal/app"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/org"
)

// cmdAPIKey runs the API key subcommands: psims apikey create, revoke and
// list.
func cmdAPIKey(ctx context.Context, e env, args []string) error {
	return subcommand(ctx, e, "apikey", args, map[string]func(context.Context, env, []string) error{
		"create": cmdAPIKeyCreate,
		"revoke": cmdAPIKeyRevoke,
		"list":   cmdAPIKeyList,
	})
}

const apiKeyCreateSummary = `Makes an API key for an organisation's local risk management system to send
to the LFPSE-compatible API, and prints it alone on one line. The key is not
kept and cannot be shown again: only its SHA-256 is stored. With --expires
it stops working at the start of that day (midnight UTC), which must be
within 2 years. It is written to the audit log as done from the command
line, without the key.`

func cmdAPIKeyCreate(ctx context.Context, e env, args []string) error {
	var orgCode, name, expires string
	cfg, fs, err := parse(e, "apikey create --org ODS --name NAME [--expires YYYY-MM-DD]", apiKeyCreateSummary,
		config.DatabaseFlags, args, func(fs *flag.FlagSet) {
			fs.StringVar(&orgCode, "org", "", "ODS code of the organisation the key is for (required)")
			fs.StringVar(&name, "name", "", "what the key is for, such as the system that uses it (required)")
			fs.StringVar(&expires, "expires", "", "the day the key stops working, YYYY-MM-DD (UTC); empty for never")
		})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("apikey create takes flags only; unexpected %q", fs.Arg(0))
	}
	if orgCode == "" || strings.TrimSpace(name) == "" {
		return usagef("apikey create needs --org and --name")
	}
	code, err := org.ParseCode(orgCode)
	if err != nil {
		return usagef("apikey create: --org: %s", apperr.MessageOf(err))
	}
	nk := apikey.NewKey{Org: code.String(), Name: name}
	if expires != "" {
		if nk.ExpiresAt, err = time.Parse(time.DateOnly, expires); err != nil {
			return usagef("apikey create needs --expires as YYYY-MM-DD, not %q", expires)
		}
	}
	a, err := app.Open(ctx, cfg, app.NewLogger(e.stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer a.Close()
	// CreatedBy 0 is the command line.
	_, secret, err := a.APIKeys.Create(ctx, nk, apikey.Client{})
	if err != nil {
		return userFacing(err)
	}
	fmt.Fprintln(e.stdout, secret)
	return nil
}

const apiKeyRevokeSummary = `Revokes an API key at once: the next request that sends it is refused.
Revoking a key already revoked fails. It is written to the audit log as
done from the command line, with the reason.`

func cmdAPIKeyRevoke(ctx context.Context, e env, args []string) error {
	var idText, reason string
	cfg, fs, err := parse(e, "apikey revoke --id N [--reason TEXT]", apiKeyRevokeSummary, config.DatabaseFlags, args, func(fs *flag.FlagSet) {
		fs.StringVar(&idText, "id", "", "the key's id, as psims apikey list shows it (required)")
		fs.StringVar(&reason, "reason", "", "why the key is revoked, for the audit log")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("apikey revoke takes flags only; unexpected %q", fs.Arg(0))
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || id <= 0 {
		return usagef("apikey revoke needs --id as a key's number, not %q", idText)
	}
	a, err := app.Open(ctx, cfg, app.NewLogger(e.stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.APIKeys.Revoke(ctx, id, "", 0, reason, apikey.Client{}); err != nil {
		return userFacing(err)
	}
	fmt.Fprintf(e.stdout, "Revoked API key %d.\n", id)
	return nil
}

const apiKeyListSummary = `Lists the API keys of an organisation (--org), or of every organisation,
newest first: one line each of id, organisation, name, prefix (the key's
first 12 characters), status (active, expired or revoked), created,
expires and last used (RFC 3339 in UTC, or "never"), separated by tabs.
Keys themselves are never shown: they are not kept.`

func cmdAPIKeyList(ctx context.Context, e env, args []string) error {
	var orgCode string
	cfg, fs, err := parse(e, "apikey list [--org ODS]", apiKeyListSummary, config.DatabaseFlags, args, func(fs *flag.FlagSet) {
		fs.StringVar(&orgCode, "org", "", "ODS code of the organisation; empty for every organisation")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("apikey list takes flags only; unexpected %q", fs.Arg(0))
	}
	if orgCode != "" {
		code, err := org.ParseCode(orgCode)
		if err != nil {
			return usagef("apikey list: --org: %s", apperr.MessageOf(err))
		}
		orgCode = code.String()
	}
	a, err := app.Open(ctx, cfg, app.NewLogger(e.stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer a.Close()
	keys, err := a.APIKeys.List(ctx, orgCode)
	if err != nil {
		return userFacing(err)
	}
	now := a.DB.Now()
	// A name is one line of valid text, but may hold a tab.
	field := strings.NewReplacer("\t", " ", "\n", " ", "\r", " ")
	for _, k := range keys {
		fmt.Fprintf(e.stdout, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Org, field.Replace(k.Name), k.Prefix, k.Status(now),
			k.CreatedAt.Format(time.RFC3339), orNever(k.ExpiresAt), orNever(k.LastUsedAt))
	}
	return nil
}

// orNever is t in RFC 3339, or "never" when zero.
func orNever(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}
