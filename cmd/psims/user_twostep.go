package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/emailaddr"
)

const userResetTwoStepSummary = `Removes the authenticator app and recovery codes of an account whose owner
has lost them, for when no admin who could do it from the user's page can
(a national admin who has lost theirs, say). Their sessions end, they are
emailed, and the reset is written to the audit log with --reason, as done
from the command line. If their role needs two-step verification they set
an app up again when they next sign in.`

func cmdUserResetTwoStep(ctx context.Context, e env, args []string) error {
	var email, reason string
	cfg, fs, err := parse(e, "user reset-two-step", userResetTwoStepSummary, config.AllFlags, args, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "email address of the account (required)")
		fs.StringVar(&reason, "reason", "", "why, and how you checked who asked (required; kept in the audit log)")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("user reset-two-step takes no arguments")
	}
	if email == "" || reason == "" {
		return usagef("user reset-two-step needs --email and --reason")
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
	// Actor 0 is the command line.
	if err := a.Accounts.ResetTwoStep(ctx, 0, u, reason, account.Client{}); err != nil {
		return userFacing(err)
	}
	fmt.Fprintf(e.stdout, "%s has no authenticator app or recovery codes now. Their sessions have ended and they have been emailed.\n", u.Email)
	return nil
}
