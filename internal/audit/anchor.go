package audit

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/db"
)

// Anchor is the head of the chain at a moment: the last row's ID and hash.
// Written somewhere the database's owner cannot quietly rewrite (a file
// shipped elsewhere, a URL of another service), anchors let Verify notice
// rows cut off the end of the log, which the chain alone cannot: the
// rows left still link up.
type Anchor struct {
	At   time.Time // when the head was read
	ID   int64     // the last row's ID; 0 for an empty log
	Hash string    // its hash; genesis for an empty log
}

// anchorPrefix starts every anchor line, naming the format and its version.
const anchorPrefix = "psims-audit-anchor v1"

// maxAnchorLine bounds one line of an anchor file.
const maxAnchorLine = 512

// String is the anchor as one line of an anchor file, without the newline:
//
//	psims-audit-anchor v1 2026-12-06T03:00:00Z 1234 9f86d0…
func (a Anchor) String() string {
	return fmt.Sprintf("%s %s %d %s", anchorPrefix, a.At.UTC().Format(time.RFC3339), a.ID, a.Hash)
}

// Head returns the head of the chain now.
func Head(ctx context.Context, d *db.DB) (Anchor, error) {
	a := Anchor{At: d.Now().UTC().Truncate(time.Second), Hash: genesis}
	err := d.QueryRowContext(ctx, `SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&a.ID, &a.Hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Anchor{}, fmt.Errorf("audit: read chain head: %w", err)
	}
	return a, nil
}

// ParseAnchor reads one anchor line.
func ParseAnchor(line string) (Anchor, error) {
	rest, ok := strings.CutPrefix(line, anchorPrefix+" ")
	if !ok {
		return Anchor{}, errors.New("does not start with “" + anchorPrefix + "”")
	}
	fields := strings.Split(rest, " ")
	if len(fields) != 3 {
		return Anchor{}, errors.New("want a time, a row ID and a hash separated by single spaces")
	}
	at, err := time.Parse(time.RFC3339, fields[0])
	if err != nil {
		return Anchor{}, fmt.Errorf("time %q is not RFC 3339", fields[0])
	}
	id, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil || id < 0 || fields[1] != strconv.FormatInt(id, 10) {
		return Anchor{}, fmt.Errorf("row ID %q is not a whole number", fields[1])
	}
	hash := fields[2]
	if len(hash) != len(genesis) || strings.Trim(hash, "0123456789abcdef") != "" {
		return Anchor{}, fmt.Errorf("hash %q is not 64 lower-case hexadecimal digits", hash)
	}
	if id == 0 && hash != genesis {
		return Anchor{}, errors.New("row 0 (an empty log) must have the all-zero hash")
	}
	return Anchor{At: at.UTC(), ID: id, Hash: hash}, nil
}

// ParseAnchors reads an anchor file: one anchor a line; blank lines and
// lines starting with # are skipped. Any other line that is not an anchor
// is an error naming its line number, so a damaged file is never read as
// one with fewer anchors.
func ParseAnchors(r io.Reader) ([]Anchor, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, maxAnchorLine), maxAnchorLine)
	var out []Anchor
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSuffix(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		a, err := ParseAnchor(line)
		if err != nil {
			return nil, fmt.Errorf("anchor file line %d: %w", n, err)
		}
		out = append(out, a)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("anchor file line %d: longer than %d bytes", n+1, maxAnchorLine)
		}
		return nil, fmt.Errorf("anchor file: %w", err)
	}
	return out, nil
}

// CheckAnchors checks that every anchored row is still in the log with the
// same hash, and returns how many anchors it checked and the first that
// does not hold. A missing row means rows were cut off the end (or taken
// out of the middle, which Verify also finds).
func CheckAnchors(ctx context.Context, d *db.DB, anchors []Anchor) (int, *Problem, error) {
	for i, a := range anchors {
		if a.ID == 0 {
			continue // the log was empty then: nothing to find
		}
		var hash string
		err := d.QueryRowContext(ctx, `SELECT hash FROM audit_log WHERE id = $1`, a.ID).Scan(&hash)
		if errors.Is(err, sql.ErrNoRows) {
			return i + 1, &Problem{RowID: a.ID, Reason: fmt.Sprintf("the row anchored at %s is missing: rows were removed, perhaps cut off the end",
				a.At.Format(time.RFC3339))}, nil
		}
		if err != nil {
			return i, nil, fmt.Errorf("audit: check anchor: %w", err)
		}
		if hash != a.Hash {
			return i + 1, &Problem{RowID: a.ID, Reason: fmt.Sprintf("its hash differs from the one anchored at %s",
				a.At.Format(time.RFC3339))}, nil
		}
	}
	return len(anchors), nil, nil
}

// Anchorer writes anchors to where --audit-anchor says: appended as a line
// to a file, or POSTed as text to an http or https URL.
type Anchorer struct {
	target string
	client *http.Client
}

// NewAnchorer returns an Anchorer for target, a file path or an http(s)
// URL; an empty target writes nowhere.
func NewAnchorer(target string, client *http.Client) *Anchorer {
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	return &Anchorer{target: target, client: client}
}

// Target is where anchors go, "" for nowhere.
func (w *Anchorer) Target() string { return w.target }

// IsURL reports whether target is an http or https URL rather than a file.
func IsURL(target string) bool {
	u, err := url.Parse(target)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// Write sends a to the target.
func (w *Anchorer) Write(ctx context.Context, a Anchor) error {
	if w.target == "" {
		return nil
	}
	line := a.String() + "\n"
	if IsURL(w.target) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.target, strings.NewReader(line))
		if err != nil {
			return fmt.Errorf("audit: anchor: %w", err)
		}
		req.Header.Set("Content-Type", "text/plain; charset=utf-8")
		resp, err := w.client.Do(req)
		if err != nil {
			return fmt.Errorf("audit: anchor: post: %w", err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return fmt.Errorf("audit: anchor: %s answered %s", redactURL(w.target), resp.Status)
		}
		return nil
	}
	f, err := os.OpenFile(w.target, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("audit: anchor: %w", err)
	}
	// One write of one short line: appends from two processes do not
	// interleave.
	if _, err := f.Write([]byte(line)); err != nil {
		f.Close()
		return fmt.Errorf("audit: anchor: write %s: %w", w.target, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("audit: anchor: sync %s: %w", w.target, err)
	}
	return f.Close()
}

// redactURL drops a URL's user information and query, which may hold a
// secret, for messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "the anchor URL"
	}
	u.User, u.RawQuery = nil, ""
	return u.String()
}

// ReadAnchorFile reads and parses the anchor file at path.
func ReadAnchorFile(path string) ([]Anchor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read anchor file: %w", err)
	}
	defer f.Close()
	return ParseAnchors(f)
}
