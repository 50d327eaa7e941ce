package usage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
)

// This file keeps usage data only as long as the privacy policy says
// (issue 12, P4): addresses are cut to their network after the IP
// retention period, and raw events and the rows that name a person are
// deleted after the usage retention period, once their days are rolled
// up. Each job works a day at a time, one transaction a day holding its
// audit entry, and keeps a watermark, so it resumes where it stopped and
// running it again changes nothing.

// Transactor runs fn in a transaction; *db.DB is one. The usage jobs pass
// the database; a dry run of the lifecycle sweeps (internal/lifecycle)
// passes one that runs every transaction inside a single one it rolls
// back.
type Transactor interface {
	InTx(ctx context.Context, fn func(tx *db.Tx) error) error
}

// updateIDs is how many rows one UPDATE of the IP truncation names.
const updateIDs = 200

// TruncateIPs cuts the address of every usage event older than keep
// (before keep.Before(now)) to its network (TruncateIP): an IPv4 address
// to its /24, an IPv6 address to its /48. It returns how many addresses
// it changed. Each UTC day of events is one transaction with an audit
// entry "usage.ip_truncate" when it changed any; the watermark says up to
// when every address is truncated, so a run reads only events that have
// come of age since the last.
func TruncateIPs(ctx context.Context, d Transactor, now time.Time, keep Retention) (int64, error) {
	if keep.IsZero() {
		return 0, errors.New("usage: truncate addresses: no IP retention period")
	}
	cutoff := keep.Before(now)
	var total int64
	for {
		more := false
		err := d.InTx(ctx, func(tx *db.Tx) error {
			was, err := progress(ctx, tx, progressIP)
			if err != nil {
				return err
			}
			var from time.Time
			if was != "" {
				if from, err = time.Parse(progressTime, was); err != nil {
					return fmt.Errorf("usage: the IP watermark %q: %w", was, err)
				}
			}
			// Skip days without events.
			next, ok, err := firstEventAt(ctx, tx, from)
			if err != nil || !ok || !next.Before(cutoff) {
				return err
			}
			if day := startOfDay(next); day.After(from) {
				from = day
			}
			to := startOfDay(from).AddDate(0, 0, 1)
			if to.After(cutoff) {
				to = cutoff
			}
			if ok, err := advance(ctx, tx, progressIP, was, to.Format(progressTime)); err != nil || !ok {
				return err
			}
			more = true
			n, err := truncateBetween(ctx, tx, from, to)
			if err != nil || n == 0 {
				return err
			}
			total += n
			return audit.Record(ctx, tx, audit.Entry{Action: "usage.ip_truncate", SubjectType: "usage_day", SubjectID: dayKey(from),
				Details: map[string]string{"addresses": strconv.FormatInt(n, 10), "before": to.Format(time.RFC3339)}})
		})
		if err != nil {
			return total, fmt.Errorf("usage: truncate addresses: %w", err)
		}
		if !more {
			return total, nil
		}
	}
}

// truncateBetween truncates the addresses of the events from from
// (inclusive) to to (exclusive), and returns how many it changed.
func truncateBetween(ctx context.Context, tx *db.Tx, from, to time.Time) (int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, ip FROM usage_events WHERE at >= $1 AND at < $2`, from, to)
	if err != nil {
		return 0, fmt.Errorf("usage: read addresses: %w", err)
	}
	byNetwork := map[string][]any{}
	for rows.Next() {
		var id int64
		var ip string
		if err := rows.Scan(&id, &ip); err != nil {
			rows.Close()
			return 0, fmt.Errorf("usage: read addresses: %w", err)
		}
		// Something that is not an address is blanked: it might
		// still say where someone was.
		if cut := TruncateIP(ip); cut != ip {
			byNetwork[cut] = append(byNetwork[cut], id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("usage: read addresses: %w", err)
	}
	var n int64
	for network, ids := range byNetwork {
		for len(ids) > 0 {
			batch := ids[:min(len(ids), updateIDs)]
			ids = ids[len(batch):]
			// One text per batch size would fill the statement cache;
			// short batches are padded with an id that is never used.
			args := append([]any{network}, batch...)
			for len(args) < updateIDs+1 {
				args = append(args, int64(0))
			}
			res, err := tx.ExecContext(ctx, `UPDATE usage_events SET ip = $1 WHERE id IN `+db.Values(1, updateIDs, 2, ""), args...)
			if err != nil {
				return 0, fmt.Errorf("usage: truncate addresses: %w", err)
			}
			changed, err := res.RowsAffected()
			if err != nil {
				return 0, fmt.Errorf("usage: truncate addresses: %w", err)
			}
			n += changed
		}
	}
	return n, nil
}

// DeleteExpired deletes the usage events older than keep (of the days
// before the day of keep.Before(now)), with every row that names a
// person for those days (per day and per week or month: a week or month
// goes once its first day does), but only for days already rolled up, so
// that their counts stay in the aggregates. It returns how many events it
// deleted. Each day is one transaction with an audit entry
// "usage.delete".
func DeleteExpired(ctx context.Context, d Transactor, now time.Time, keep Retention) (int64, error) {
	if keep.IsZero() {
		return 0, errors.New("usage: delete usage events: no retention period")
	}
	var total int64
	for {
		more := false
		err := d.InTx(ctx, func(tx *db.Tx) error {
			limit := startOfDay(keep.Before(now))
			rolled, err := progress(ctx, tx, progressRollup)
			if err != nil || rolled == "" {
				return err
			}
			last, err := parseDay(rolled)
			if err != nil {
				return fmt.Errorf("usage: the rollup watermark %q: %w", rolled, err)
			}
			if after := last.AddDate(0, 0, 1); after.Before(limit) {
				limit = after
			}
			oldest, ok, err := oldestPersonalDay(ctx, tx)
			if err != nil {
				return err
			}
			if !ok || !oldest.Before(limit) {
				return setHorizon(ctx, tx, limit)
			}
			next := oldest.AddDate(0, 0, 1)
			var counts [3]int64
			for i, q := range []struct {
				sql string
				arg any
			}{
				{`DELETE FROM usage_events WHERE at < $1`, next},
				{`DELETE FROM usage_user_days WHERE day < $1`, dayKey(next)},
				{`DELETE FROM usage_user_periods WHERE start < $1`, dayKey(next)},
			} {
				res, err := tx.ExecContext(ctx, q.sql, q.arg)
				if err != nil {
					return fmt.Errorf("usage: delete: %w", err)
				}
				if counts[i], err = res.RowsAffected(); err != nil {
					return fmt.Errorf("usage: delete: %w", err)
				}
			}
			if err := setHorizon(ctx, tx, next); err != nil {
				return err
			}
			more = true
			total += counts[0]
			return audit.Record(ctx, tx, audit.Entry{Action: "usage.delete", SubjectType: "usage_day", SubjectID: dayKey(oldest),
				Details: map[string]string{"events": strconv.FormatInt(counts[0], 10), "person_days": strconv.FormatInt(counts[1], 10),
					"person_periods": strconv.FormatInt(counts[2], 10)}})
		})
		if err != nil {
			return total, fmt.Errorf("usage: delete usage events: %w", err)
		}
		if !more {
			return total, nil
		}
	}
}

// oldestPersonalDay is the earliest day of a usage event or a row naming
// a person, and false when there is none.
func oldestPersonalDay(ctx context.Context, tx *db.Tx) (time.Time, bool, error) {
	var oldest time.Time
	found := false
	consider := func(t time.Time) {
		if !found || t.Before(oldest) {
			oldest, found = t, true
		}
	}
	first, ok, err := firstEventAt(ctx, tx, time.Time{})
	if err != nil {
		return time.Time{}, false, err
	}
	if ok {
		consider(startOfDay(first))
	}
	for _, q := range []string{
		`SELECT day FROM usage_user_days ORDER BY day LIMIT 1`,
		`SELECT start FROM usage_user_periods WHERE period = 'week' ORDER BY start LIMIT 1`,
		`SELECT start FROM usage_user_periods WHERE period = 'month' ORDER BY start LIMIT 1`,
	} {
		var day string
		err := tx.QueryRowContext(ctx, q).Scan(&day)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return time.Time{}, false, fmt.Errorf("usage: the oldest day kept: %w", err)
		}
		t, err := parseDay(day)
		if err != nil {
			return time.Time{}, false, fmt.Errorf("usage: the oldest day kept: %w", err)
		}
		consider(t)
	}
	return oldest, found, nil
}

// setHorizon records that no row naming a person is kept before day,
// unless it said so of a later day already.
func setHorizon(ctx context.Context, tx *db.Tx, day time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE usage_progress SET value = $1 WHERE job = $2 AND value < $1`, dayKey(day), progressHorizon)
	if err != nil {
		return fmt.Errorf("usage: move the horizon: %w", err)
	}
	return nil
}
