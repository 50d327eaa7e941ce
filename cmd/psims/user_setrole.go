package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/emailaddr"
	"github.com/psims/psims/internal/org"
)

const userSetRoleSummary = `Gives an account a role. The person's sessions end, they are emailed, and
the change is written to the audit log as done from the command line. For
read-only, --grant lists the organisations they may read (replacing any
they had); other roles lose their grants.`

func cmdUserSetRole(ctx context.Context, e env, args []string) error {
	var email, role, grants string
	var grantSet bool
	cfg, fs, err := parse(e, "user set-role", userSetRoleSummary, config.AllFlags, args, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "email address of the account (required)")
		fs.StringVar(&role, "role", "", "reporter, reviewer, org-admin, read-only or national-admin (required)")
		fs.Func("grant", "read-only only: ODS codes of the organisations they may read, separated by commas", func(s string) error {
			grants, grantSet = s, true
			return nil
		})
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("user set-role takes no arguments")
	}
	if email == "" || role == "" {
		return usagef("user set-role needs --email and --role")
	}
	r, err := account.ParseRole(role)
	if err != nil {
		return usagef("%s", apperr.MessageOf(err))
	}
	if grantSet && r != account.RoleReadOnly {
		return usagef("--grant is only for --role read-only")
	}
	addr, err := emailaddr.Parse(email)
	if err != nil {
		return usagef("--email: %s", apperr.MessageOf(err))
	}
	a, err := app.Open(ctx, cfg, app.NewLogger(e.stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.Accounts.UserByEmail(ctx, addr.String())
	if err != nil {
		return userFacing(err)
	}
	var orgs []string
	if grantSet {
		// Check every code before changing anything, so a mistyped code
		// does not leave the role changed and the grants not.
		for _, raw := range strings.Split(grants, ",") {
			if strings.TrimSpace(raw) == "" {
				continue
			}
			code, err := org.ParseCode(raw)
			if err != nil {
				return fmt.Errorf("--grant %q: %s", strings.TrimSpace(raw), apperr.MessageOf(err))
			}
			if _, err := a.Orgs.Get(ctx, code); err != nil {
				return fmt.Errorf("--grant: %w", userFacing(err))
			}
			orgs = append(orgs, code.String())
		}
	}
	// Actor 0 is the command line.
	if u.Role != r {
		if err := a.Accounts.SetRole(ctx, 0, u, r, ""); err != nil {
			return userFacing(err)
		}
		fmt.Fprintf(e.stdout, "%s is now %s. Their sessions have ended and they have been emailed.\n", u.Email, strings.ToLower(account.RoleLabel(r)))
	} else if !grantSet {
		return fmt.Errorf("%s is already %s", u.Email, strings.ToLower(account.RoleLabel(r)))
	}
	if grantSet {
		if err := a.Accounts.SetReadGrants(ctx, 0, u, orgs, ""); err != nil {
			return userFacing(err)
		}
		got, err := a.Accounts.ReadGrants(ctx, u.ID)
		if err != nil {
			return err
		}
		if len(got) == 0 {
			fmt.Fprintf(e.stdout, "%s may read no organisation's records.\n", u.Email)
		} else {
			fmt.Fprintf(e.stdout, "%s may read the records of %s.\n", u.Email, strings.Join(got, ", "))
		}
	}
	return nil
}
