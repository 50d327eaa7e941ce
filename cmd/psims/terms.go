package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/psims/psims/internal/app"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/terms"
)

// cmdTermsPublish publishes a new version of a document from a Markdown
// file, as a national admin does in the service.
func cmdTermsPublish(ctx context.Context, e env, args []string) error {
	var kind, file, summary string
	var material bool
	cfg, fs, err := parse(e, "terms publish --kind terms|privacy|recording-statement --file F.md [--material] [--summary TEXT]",
		"Publishes the next version of the terms of use, privacy policy or recording statement. With --material, everyone must accept it again and every active user is emailed.",
		config.DatabaseFlags, args, func(fs *flag.FlagSet) {
			fs.StringVar(&kind, "kind", "", "terms, privacy or recording-statement")
			fs.StringVar(&file, "file", "", "the Markdown file with the new text")
			fs.StringVar(&summary, "summary", "", "what changed, shown to people reviewing the new version (default: a note that none was given)")
			fs.BoolVar(&material, "material", false, "everyone must accept this version again before going on")
		})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("terms publish takes no arguments")
	}
	k, err := terms.ParseKind(kind)
	if err != nil {
		return usagef("terms publish: --kind must be terms, privacy or recording-statement")
	}
	if file == "" {
		return usagef("terms publish: --file is required")
	}
	body, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("terms publish: %w", err)
	}
	if summary == "" {
		summary = "Published from the command line without a summary of changes."
	}
	a, err := app.Open(ctx, cfg, app.NewLogger(e.stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer a.Close()
	d, err := a.Terms.Publish(ctx, 0, terms.Client{}, terms.Draft{Kind: k, Body: string(body), Summary: summary, Material: material})
	if err != nil {
		return userFacing(err)
	}
	note := "shown with the next submissions"
	switch {
	case k != terms.RecordingStatement && d.Material:
		note = "material: everyone must accept it before going on, and every active user will be emailed"
	case k != terms.RecordingStatement:
		note = "not material: nobody has to accept it again"
	}
	fmt.Fprintf(e.stdout, "Published version %d of the %s (%s).\n", d.Version, k.Label(), note)
	return nil
}
