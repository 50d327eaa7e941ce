package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/psims/psims/internal/app"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/library"
)

const docsAddSummary = `Adds a document to the guidance library, as a national admin does in the
service: a PDF, Word (.docx), Excel (.xlsx), HTML or Markdown file of at
most 20 MB, whose type is found in its content and must agree with its
name. It is written to the audit log as done from the command line.`

// cmdDocsAdd adds a document with its first version to the library.
func cmdDocsAdd(ctx context.Context, e env, args []string) error {
	var file, title, summary, audience, label string
	cfg, fs, err := parse(e, "docs add --file F --title T [--summary S] [--audience ROLE,...] [--version LABEL]", docsAddSummary,
		config.DatabaseFlags, args, func(fs *flag.FlagSet) {
			fs.StringVar(&file, "file", "", "the file to upload (required)")
			fs.StringVar(&title, "title", "", "the document's title (required)")
			fs.StringVar(&summary, "summary", "", "what the document is about, shown in the library")
			fs.StringVar(&audience, "audience", "everyone", "who may read it: everyone, or roles separated by commas ("+strings.Join(library.Roles(), ", ")+")")
			fs.StringVar(&label, "version", "", "your own name for this version, such as 2.1")
		})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("docs add takes no arguments")
	}
	if file == "" || strings.TrimSpace(title) == "" {
		return usagef("docs add needs --file and --title")
	}
	a, err := parseAudience(audience)
	if err != nil {
		return err
	}
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("docs add: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("docs add: %w", err)
	}
	if info.Size() > library.MaxSize {
		return fmt.Errorf("docs add: %s is %d MB; the library takes files of %d MB or smaller", file, info.Size()>>20, library.MaxSize>>20)
	}
	ap, err := app.Open(ctx, cfg, app.NewLogger(e.stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer ap.Close()
	// Actor 0 is the command line.
	doc, err := ap.Library.Add(ctx, 0, library.Client{}, library.NewDocument{Title: title, Summary: summary, Audience: a, Label: label,
		File: library.Upload{FileName: filepath.Base(file), Content: f}})
	if err != nil {
		return userFacing(err)
	}
	who := "everyone"
	if !doc.Audience.Everyone {
		who = strings.Join(doc.Audience.Roles, ", ")
	}
	fmt.Fprintf(e.stdout, "Added %q to the library as document %d: version 1, %s, %d bytes, for %s.\n",
		doc.Title, doc.ID, doc.Latest.Type.Label(), doc.Latest.Size, who)
	return nil
}

// parseAudience reads --audience: "everyone", or role slugs separated by
// commas.
func parseAudience(s string) (authz.Audience, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "everyone" {
		return authz.Audience{Everyone: true}, nil
	}
	var a authz.Audience
	for _, r := range strings.Split(s, ",") {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		if !slices.Contains(library.Roles(), r) {
			return authz.Audience{}, usagef("docs add: --audience: %q is not a role; use everyone, or some of %s", r, strings.Join(library.Roles(), ", "))
		}
		a.Roles = append(a.Roles, r)
	}
	if len(a.Roles) == 0 {
		return authz.Audience{}, usagef("docs add: --audience names no role")
	}
	return a, nil
}
