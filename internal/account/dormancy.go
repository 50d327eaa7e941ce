package account

// Dormant accounts (P12, P13): warn, deactivate, then delete the details of
// people who no longer use PSIMS.
//
// Activity is only ever something the person did themselves: a sign-in
// that got a session (succeed in signin.go), or the confirmation link in a
// dormancy warning (ConfirmStillActive). An admin's change to the account
// is not activity, and neither is anything done with an organisation's API
// key (a later issue): API keys belong to organisations, not people, and
// must never move last_active_at, or an account could be kept alive for
// ever by a machine.
//
// Accounts that never completed registration (unverified, pending
// approval, rejected) are never warned: they never had a working account
// to keep. Their details are deleted, through the same erasure as every
// other, once DeactivateAfter has passed since they were created (or since
// they last signed in, for a pending account whose owner tried).

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/pii"
	"github.com/psims/psims/internal/textcheck"
)

// purposeDormancy is the one-time token in a dormancy warning's link.
const purposeDormancy = "dormancy"

// DormantReason is the status reason of an account the sweep deactivated.
const DormantReason = "Dormant: not used after a warning"

// ConfirmActivePath is where the link in a dormancy warning points.
const ConfirmActivePath = "/account/still-active"

// maxExemptionReasonLength bounds an exemption's reason.
const maxExemptionReasonLength = 500

// Period is a length of time as the dormancy flags give it: calendar
// months and days ("11mo", "30d") or a Go duration ("72h").
type Period struct {
	Months, Days int
	Dur          time.Duration
}

// ParsePeriod reads a period: a whole number of months ("11mo", "11
// months") or days ("30d", "30 days"), or a Go duration ("36h").
func ParsePeriod(s string) (Period, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	end := 0
	for end < len(t) && t[end] >= '0' && t[end] <= '9' {
		end++
	}
	if end > 0 {
		if n, err := strconv.Atoi(t[:end]); err == nil && n >= 1 && n <= 100_000 {
			switch strings.TrimSpace(t[end:]) {
			case "d", "day", "days":
				return Period{Days: n}, nil
			case "mo", "month", "months":
				return Period{Months: n}, nil
			}
		}
	}
	if d, err := time.ParseDuration(t); err == nil && d > 0 {
		return Period{Dur: d}, nil
	}
	return Period{}, fmt.Errorf("%q is not a period such as 11mo, 30d or 72h", s)
}

// String is the period as the flags write it.
func (p Period) String() string {
	var parts []string
	if p.Months != 0 {
		parts = append(parts, strconv.Itoa(p.Months)+"mo")
	}
	if p.Days != 0 {
		parts = append(parts, strconv.Itoa(p.Days)+"d")
	}
	if p.Dur != 0 || len(parts) == 0 {
		parts = append(parts, p.Dur.String())
	}
	return strings.Join(parts, "+")
}

// Words says the period as people do, for emails: "30 days", "12 months".
func (p Period) Words() string {
	switch {
	case p.Months > 0 && p.Days == 0 && p.Dur == 0:
		return plural(p.Months, "month")
	case p.Months == 0 && p.Days > 0 && p.Dur == 0:
		return plural(p.Days, "day")
	case p.Months == 0 && p.Days == 0:
		return durationWords(p.Dur)
	}
	return p.String()
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// After is the moment the period ends for something that happened at t.
func (p Period) After(t time.Time) time.Time {
	return t.UTC().AddDate(0, p.Months, p.Days).Add(p.Dur)
}

// Before is the moment the period starts for something that ends at t:
// what happened before it is older than the period.
func (p Period) Before(t time.Time) time.Time {
	return t.UTC().AddDate(0, -p.Months, -p.Days).Add(-p.Dur)
}

// minus is p less q, component by component.
func (p Period) minus(q Period) Period {
	return Period{Months: p.Months - q.Months, Days: p.Days - q.Days, Dur: p.Dur - q.Dur}
}

// DormancyPolicy is when dormant accounts are warned, deactivated and
// deleted.
type DormancyPolicy struct {
	// WarnAfter is how long without activity before the warning.
	WarnAfter Period
	// DeactivateAfter is how long without activity before deactivation;
	// never less than DeactivateAfter − WarnAfter after the warning.
	DeactivateAfter Period
	// DeleteAfter is how long after deactivation the details are deleted.
	DeleteAfter Period
	// Limit is how many accounts one sweep warns at most, and deactivates
	// at most, and deletes at most; the rest wait for the next sweep, an
	// hour later. Warnings go to the longest idle first. A first sweep over
	// years of idle accounts then keeps each sweep short (an erasure runs
	// through every package that holds the person's data), queues no more
	// mail than the relay sends before the next sweep, and spreads the
	// deactivations and deletions a month on as its warnings were spread.
	// Nobody loses notice: each deactivation date counts from that
	// account's own warning, and an account deactivated or deleted an
	// hour or two late only had longer. 0 is no limit.
	Limit int
}

// DefaultDormancyPolicy is the privacy policy's: warn at 11 months,
// deactivate at 12, delete 30 days later.
func DefaultDormancyPolicy() DormancyPolicy {
	return DormancyPolicy{WarnAfter: Period{Months: 11}, DeactivateAfter: Period{Months: 12}, DeleteAfter: Period{Days: 30},
		Limit: DefaultSweepLimit}
}

// DefaultSweepLimit is how many accounts one sweep warns, deactivates or
// deletes at most, of each, unless configured: well under an hour's
// sending at the default --smtp-rate, and few enough erasures to finish
// in seconds.
const DefaultSweepLimit = 10000

// Notice is the least time between a warning and the deactivation it
// announces.
func (p DormancyPolicy) Notice() Period { return p.DeactivateAfter.minus(p.WarnAfter) }

// Check reports a policy that would deactivate without notice: every
// period must be positive, and the warning must come before deactivation
// whatever the month (checked from the ends of short and long months).
func (p DormancyPolicy) Check() error {
	if p.Limit < 0 {
		return fmt.Errorf("--dormancy-sweep-limit (%d) must be 0 (no limit) or more", p.Limit)
	}
	for _, ref := range []time.Time{
		time.Date(2001, 1, 31, 0, 0, 0, 0, time.UTC), time.Date(2001, 2, 28, 0, 0, 0, 0, time.UTC),
		time.Date(2004, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(2001, 4, 30, 0, 0, 0, 0, time.UTC),
		time.Date(2001, 12, 31, 0, 0, 0, 0, time.UTC),
	} {
		for _, f := range []struct {
			name string
			p    Period
		}{{"--dormancy-warn-after", p.WarnAfter}, {"--dormancy-deactivate-after", p.DeactivateAfter}, {"--dormancy-delete-after", p.DeleteAfter}} {
			if !f.p.After(ref).After(ref) {
				return fmt.Errorf("%s (%s) must be a positive period", f.name, f.p)
			}
		}
		if !p.DeactivateAfter.After(ref).After(p.WarnAfter.After(ref)) || !p.Notice().After(ref).After(ref) {
			return fmt.Errorf("--dormancy-warn-after (%s) must be shorter than --dormancy-deactivate-after (%s)", p.WarnAfter, p.DeactivateAfter)
		}
	}
	return nil
}

// deactivateOn is when an account warned at warned, last active at
// lastActive, is deactivated: never sooner than the notice after the
// warning, so a first sweep over long-idle accounts still gives notice.
func (p DormancyPolicy) deactivateOn(lastActive, warned time.Time) time.Time {
	on := p.DeactivateAfter.After(lastActive)
	if earliest := p.Notice().After(warned); on.Before(earliest) {
		on = earliest
	}
	return on
}

// Transactor runs fn in a transaction; *db.DB is one. A dry run passes one
// that runs every batch inside a single transaction it rolls back.
type Transactor interface {
	InTx(ctx context.Context, fn func(tx *db.Tx) error) error
}

// DormancyEraser deletes a dormant person's details inside tx through the
// same erasure as a request to be forgotten (P15), with the system as
// actor, auditing it; *rights.Service is one.
type DormancyEraser interface {
	EraseDormant(ctx context.Context, tx *db.Tx, userID int64, reason string) error
}

// The actions a dormancy sweep reports.
const (
	DormancyWarn       = "warn"
	DormancyDeactivate = "deactivate"
	DormancyDelete     = "delete"
	// DormancyDeleteUnregistered is the deletion of an account that never
	// completed registration.
	DormancyDeleteUnregistered = "delete_unregistered"
	// DormancyKeepLastAdmin is a deactivation not made: the account is
	// the last active national admin.
	DormancyKeepLastAdmin = "keep_last_national_admin"
	// DormancyWarningsDeferred, DormancyDeactivationsDeferred and
	// DormancyDeletionsDeferred say how many accounts due a warning, a
	// deactivation or a deletion wait for the next sweep because this one
	// reached its Limit.
	DormancyWarningsDeferred      = "warnings_deferred"
	DormancyDeactivationsDeferred = "deactivations_deferred"
	DormancyDeletionsDeferred     = "deletions_deferred"
)

// DormancyAction is one thing a sweep did, or would do in a dry run. It
// names the account by id only: never an address or a name.
type DormancyAction struct {
	Action       string
	UserID       int64
	At           time.Time
	Status       Status     // the account's status before the action
	DeactivateOn *time.Time // warn: the date given in the email
	DeleteOn     *time.Time // deactivate: when the details will go
	Count        int64      // …_deferred: how many wait
}

// Dormancy sweeps dormant accounts.
type Dormancy struct {
	accounts *Service
	policy   DormancyPolicy
	eraser   DormancyEraser
	batch    int
}

// dormancyBatch is how many accounts one transaction of a sweep handles.
const dormancyBatch = 500

// NewDormancy returns the sweep under policy; eraser deletes details.
func NewDormancy(s *Service, policy DormancyPolicy, eraser DormancyEraser) *Dormancy {
	return &Dormancy{accounts: s, policy: policy, eraser: eraser, batch: dormancyBatch}
}

// Policy returns the policy the sweep applies.
func (d *Dormancy) Policy() DormancyPolicy { return d.policy }

// Sweep runs one dormancy sweep at the transactions' time (the database
// clock) and calls emit for each action once its batch has committed. It
// is safe to run again and alongside itself: every change is conditional
// on the state it was decided from, so a second run finds nothing to do
// twice. Each batch is one transaction holding its changes, their audit
// rows and their emails.
//
// The order is warn, deactivate, delete, then accounts that never
// completed registration. Skipped, whatever their activity: exempt
// accounts; restricted ones (P15: the person asked that their data be
// kept but not processed, often to make or defend a claim, so neither
// deactivating nor deleting may happen while it lasts); erased ones.
func (d *Dormancy) Sweep(ctx context.Context, t Transactor, emit func(DormancyAction)) error {
	if err := d.policy.Check(); err != nil {
		return fmt.Errorf("account: dormancy sweep: %w", err)
	}
	if emit == nil {
		emit = func(DormancyAction) {}
	}
	// Warn: active accounts idle since before the warning date, by
	// (last_active_at, id), the order of the users_dormancy index.
	read, err := d.keyset(ctx, t, StatusActive, true, d.policy.Limit, emit, d.warnBatch)
	if err != nil {
		return err
	}
	if d.policy.Limit > 0 && read >= d.policy.Limit {
		if err := d.deferred(ctx, t, emit); err != nil {
			return err
		}
	}
	if err := d.countdown(ctx, t, emit); err != nil {
		return err
	}
	for _, st := range []Status{StatusUnverified, StatusPending, StatusRejected} {
		if _, err := d.keyset(ctx, t, st, false, 0, emit, d.deleteUnregisteredBatch); err != nil {
			return err
		}
	}
	return nil
}

// idle is an account the warning or unregistered pass read.
type idle struct {
	id         int64
	email      string
	name       string
	lastActive time.Time
}

// keyset walks the accounts of status idle since before the pass's date
// in (last_active_at, id) order, batch by batch, calling act on each batch
// in its transaction, and returns how many accounts it read. With limit
// above 0 it reads no more than limit.
func (d *Dormancy) keyset(ctx context.Context, t Transactor, status Status, warn bool, limit int, emit func(DormancyAction),
	act func(ctx context.Context, tx *db.Tx, batch []idle) ([]DormancyAction, error)) (int, error) {
	after, afterID := time.Unix(0, 0).UTC(), int64(0)
	total := 0
	for {
		var done []DormancyAction
		n, size := 0, d.batch
		if limit > 0 && limit-total < size {
			size = limit - total
		}
		err := t.InTx(ctx, func(tx *db.Tx) error {
			done, n = done[:0], 0
			cutoff := d.policy.DeactivateAfter.Before(tx.Now)
			extra := ``
			if warn {
				cutoff = d.policy.WarnAfter.Before(tx.Now)
				extra = ` AND dormancy_warned_at IS NULL`
			}
			rows, err := tx.QueryContext(ctx, `SELECT id, email, name, last_active_at FROM users
				WHERE status = $1 AND last_active_at < $2 AND (last_active_at, id) > ($3, $4)
					AND exemption_reason = '' AND restricted_at IS NULL`+extra+`
				ORDER BY last_active_at, id LIMIT $5`, status, cutoff, after, afterID, size)
			if err != nil {
				return fmt.Errorf("account: dormant %s accounts: %w", status, err)
			}
			var batch []idle
			for rows.Next() {
				var u idle
				if err := rows.Scan(&u.id, &u.email, &u.name, &u.lastActive); err != nil {
					rows.Close()
					return fmt.Errorf("account: dormant %s accounts: %w", status, err)
				}
				u.lastActive = u.lastActive.UTC()
				batch = append(batch, u)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("account: dormant %s accounts: %w", status, err)
			}
			n = len(batch)
			if done, err = act(ctx, tx, batch); err != nil {
				return err
			}
			if n > 0 {
				after, afterID = batch[n-1].lastActive, batch[n-1].id
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		for _, a := range done {
			emit(a)
		}
		if n < size || (limit > 0 && total >= limit) {
			return total, nil
		}
	}
}

// deferred reports how many accounts due a warning wait for the next
// sweep, read from the same index as the warning pass.
func (d *Dormancy) deferred(ctx context.Context, t Transactor, emit func(DormancyAction)) error {
	var n int64
	var at time.Time
	err := t.InTx(ctx, func(tx *db.Tx) error {
		at = tx.Now
		return tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users
			WHERE status = $1 AND last_active_at < $2 AND dormancy_warned_at IS NULL
				AND exemption_reason = '' AND restricted_at IS NULL`,
			StatusActive, d.policy.WarnAfter.Before(tx.Now)).Scan(&n)
	})
	if err != nil {
		return fmt.Errorf("account: count deferred dormancy warnings: %w", err)
	}
	if n > 0 {
		emit(DormancyAction{Action: DormancyWarningsDeferred, At: at, Count: n})
	}
	return nil
}

// warnRows is how many accounts one conditional update of the warning
// pass carries: 3 parameters each, kept small for SQLite's driver, whose
// lookup of numbered parameters grows with the square of their number.
const warnRows = 50

// warnBatch warns the accounts of one batch that have not changed since
// they were read, in the batch's order: for each account a conditional
// update, a one-time link, an audit entry and an email, written many to a
// statement (the update, the links, the audit entries and the outbox rows)
// with the emails' send jobs in one insert.
func (d *Dormancy) warnBatch(ctx context.Context, tx *db.Tx, batch []idle) ([]DormancyAction, error) {
	ons := make(map[int64]time.Time, len(batch))
	for _, u := range batch {
		ons[u.id] = d.policy.deactivateOn(u.lastActive, tx.Now)
	}
	var warned []idle
	for start := 0; start < len(batch); start += warnRows {
		got, err := markWarned(ctx, tx, batch[start:min(start+warnRows, len(batch))], ons)
		if err != nil {
			return nil, err
		}
		warned = append(warned, got...)
	}
	if len(warned) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(warned))
	ttls := make([]time.Duration, len(warned))
	for i, u := range warned {
		// The link works until the deactivation it would stop.
		ids[i], ttls[i] = u.id, ons[u.id].Sub(tx.Now)
	}
	tokens, err := issueTokens(ctx, tx, ids, purposeDormancy, ttls)
	if err != nil {
		return nil, err
	}
	entries := make([]audit.Entry, len(warned))
	msgs := make([]mail.Message, len(warned))
	done := make([]DormancyAction, len(warned))
	for i, u := range warned {
		on := ons[u.id]
		entries[i] = audit.Entry{Action: "account.dormancy_warned", SubjectType: "user",
			SubjectID: strconv.FormatInt(u.id, 10), Details: map[string]string{
				"last_active": u.lastActive.Format(time.RFC3339), "deactivate_on": on.Format(time.RFC3339)}}
		msgs[i] = mail.DormancyWarning(u.email, u.name, u.lastActive, on, d.policy.DeleteAfter.Words(), d.accounts.link(ConfirmActivePath, tokens[i]))
		done[i] = DormancyAction{Action: DormancyWarn, UserID: u.id, At: tx.Now, Status: StatusActive, DeactivateOn: &on}
	}
	if err := audit.RecordMany(ctx, tx, entries); err != nil {
		return nil, err
	}
	if _, err := d.accounts.mail.EnqueueMany(ctx, tx, msgs); err != nil {
		return nil, fmt.Errorf("account: queue dormancy warnings: %w", err)
	}
	return done, nil
}

// markWarned sets the warning and the deactivation date (from ons) of the
// accounts of us that are still active, unwarned and last active when they
// were read, in one statement, and returns those it changed, in the order
// of us. An account that changed since it was read (a sign-in, a run
// alongside) is left alone, so nobody is warned twice.
//
// Each account's date and last activity are picked by CASE on its id; the
// ELSE names the column so that PostgreSQL types the parameters as
// timestamps (no row reaches it: the id list holds every id of a WHEN).
func markWarned(ctx context.Context, tx *db.Tx, us []idle, ons map[int64]time.Time) ([]idle, error) {
	var setOn, lastActive, in strings.Builder
	args := make([]any, 0, 2+3*len(us))
	args = append(args, tx.Now, StatusActive)
	for i, u := range us {
		n := 3 + 3*i
		if i > 0 {
			in.WriteString(", ")
		}
		fmt.Fprintf(&setOn, " WHEN $%d THEN $%d", n, n+2)
		fmt.Fprintf(&lastActive, " WHEN $%d THEN $%d", n, n+1)
		fmt.Fprintf(&in, "$%d", n)
		args = append(args, u.id, u.lastActive, ons[u.id])
	}
	rows, err := tx.QueryContext(ctx, `UPDATE users SET dormancy_warned_at = $1,
			dormancy_deactivate_at = CASE id`+setOn.String()+` ELSE dormancy_deactivate_at END
		WHERE id IN (`+in.String()+`) AND status = $2 AND dormancy_warned_at IS NULL
			AND last_active_at = CASE id`+lastActive.String()+` ELSE last_active_at END
		RETURNING id`, args...)
	if err != nil {
		return nil, fmt.Errorf("account: warn dormant accounts: %w", err)
	}
	defer rows.Close()
	changed := make(map[int64]bool, len(us))
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("account: warn dormant accounts: %w", err)
		}
		changed[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("account: warn dormant accounts: %w", err)
	}
	var out []idle
	for _, u := range us {
		if changed[u.id] {
			out = append(out, u)
		}
	}
	return out, nil
}

// deleteUnregisteredBatch deletes the accounts of one batch that never
// completed registration, one by one.
func (d *Dormancy) deleteUnregisteredBatch(ctx context.Context, tx *db.Tx, batch []idle) ([]DormancyAction, error) {
	var done []DormancyAction
	for _, u := range batch {
		a, err := d.deleteUnregistered(ctx, tx, u)
		if err != nil {
			return nil, err
		}
		done = append(done, *a)
	}
	return done, nil
}

// deleteUnregistered deletes an account that never completed registration.
func (d *Dormancy) deleteUnregistered(ctx context.Context, tx *db.Tx, u idle) (*DormancyAction, error) {
	var status Status
	if err := tx.QueryRowContext(ctx, `SELECT status FROM users WHERE id = $1`, u.id).Scan(&status); err != nil {
		return nil, fmt.Errorf("account: unregistered account: %w", err)
	}
	if err := d.eraser.EraseDormant(ctx, tx, u.id, "never completed registration"); err != nil {
		return nil, err
	}
	return &DormancyAction{Action: DormancyDeleteUnregistered, UserID: u.id, At: tx.Now, Status: status}, nil
}

// countdown walks the accounts with a countdown in id order (the partial
// index users_dormancy_countdown): deactivating those whose date has come
// and deleting those deactivated DeleteAfter ago.
func (d *Dormancy) countdown(ctx context.Context, t Transactor, emit func(DormancyAction)) error {
	afterID := int64(0)
	// Deactivated and deleted so far; past the limit, the accounts due
	// are counted instead, for the next sweep.
	var deactivated, deleted, waitDeactivate, waitDelete int64
	limited := func(done int64) bool { return d.policy.Limit > 0 && done >= int64(d.policy.Limit) }
	var lastAt time.Time
	for {
		var done []DormancyAction
		n := 0
		err := t.InTx(ctx, func(tx *db.Tx) error {
			done, n = done[:0], 0
			type due struct {
				id                 int64
				email, name, role  string
				status             Status
				reason             string
				changed            sql.NullTime
				deactivateOn       time.Time
				exempt, restricted bool
			}
			rows, err := tx.QueryContext(ctx, `SELECT id, email, name, role, status, status_reason, status_changed_at, dormancy_deactivate_at,
					exemption_reason <> '', restricted_at IS NOT NULL
				FROM users WHERE dormancy_deactivate_at IS NOT NULL AND id > $1 ORDER BY id LIMIT $2`, afterID, d.batch)
			if err != nil {
				return fmt.Errorf("account: dormancy countdowns: %w", err)
			}
			var batch []due
			for rows.Next() {
				var u due
				if err := rows.Scan(&u.id, &u.email, &u.name, &u.role, &u.status, &u.reason, &u.changed, &u.deactivateOn,
					&u.exempt, &u.restricted); err != nil {
					rows.Close()
					return fmt.Errorf("account: dormancy countdowns: %w", err)
				}
				batch = append(batch, u)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("account: dormancy countdowns: %w", err)
			}
			n = len(batch)
			if n > 0 {
				afterID = batch[n-1].id
			}
			// The deactivations' audit entries and emails wait here to be
			// written many to a statement: at the end of the batch, or
			// before an erasure, which writes audit entries of its own, so
			// the log keeps the order of the changes.
			lastAt = tx.Now
			var notices dormancyNotices
			var deactivatedHere, deletedHere, waitDeactivateHere, waitDeleteHere int64
			for _, u := range batch {
				if u.exempt || u.restricted {
					continue
				}
				switch {
				case u.status == StatusActive && !u.deactivateOn.After(tx.Now):
					if limited(deactivated + deactivatedHere) {
						waitDeactivateHere++
						continue
					}
					a, err := d.deactivate(ctx, tx, u.id, u.email, u.name, Role(u.role), u.deactivateOn.UTC(), &notices)
					if err != nil {
						return err
					}
					if a != nil {
						deactivatedHere++
						done = append(done, *a)
					}
				case u.status == StatusDeactivated && u.reason == DormantReason && u.changed.Valid &&
					!d.policy.DeleteAfter.After(u.changed.Time).After(tx.Now):
					if limited(deleted + deletedHere) {
						waitDeleteHere++
						continue
					}
					if err := notices.write(ctx, tx, d.accounts); err != nil {
						return err
					}
					if err := d.eraser.EraseDormant(ctx, tx, u.id, "dormant"); err != nil {
						return err
					}
					deletedHere++
					done = append(done, DormancyAction{Action: DormancyDelete, UserID: u.id, At: tx.Now, Status: StatusDeactivated})
				}
			}
			if err := notices.write(ctx, tx, d.accounts); err != nil {
				return err
			}
			// Counted only once the batch commits, as the actions are.
			deactivated, deleted = deactivated+deactivatedHere, deleted+deletedHere
			waitDeactivate, waitDelete = waitDeactivate+waitDeactivateHere, waitDelete+waitDeleteHere
			return nil
		})
		if err != nil {
			return err
		}
		for _, a := range done {
			emit(a)
		}
		if n < d.batch {
			if waitDeactivate > 0 {
				emit(DormancyAction{Action: DormancyDeactivationsDeferred, At: lastAt, Count: waitDeactivate})
			}
			if waitDelete > 0 {
				emit(DormancyAction{Action: DormancyDeletionsDeferred, At: lastAt, Count: waitDelete})
			}
			return nil
		}
	}
}

// dormancyNotices are audit entries and emails of a countdown batch not
// yet written.
type dormancyNotices struct {
	entries []audit.Entry
	msgs    []mail.Message
}

// write writes the waiting audit entries, then queues the waiting emails,
// many to a statement, and empties n.
func (n *dormancyNotices) write(ctx context.Context, tx *db.Tx, s *Service) error {
	if err := audit.RecordMany(ctx, tx, n.entries); err != nil {
		return err
	}
	if _, err := s.mail.EnqueueMany(ctx, tx, n.msgs); err != nil {
		return fmt.Errorf("account: queue deactivation notices: %w", err)
	}
	n.entries, n.msgs = n.entries[:0], n.msgs[:0]
	return nil
}

// deactivate deactivates one warned account whose date has come, unless
// it is the last active national admin (reported, not changed: the
// service would be left with nobody to run it). Its audit entry and email
// are added to notices, for the caller to write in the same transaction.
func (d *Dormancy) deactivate(ctx context.Context, tx *db.Tx, id int64, email, name string, role Role, on time.Time,
	notices *dormancyNotices) (*DormancyAction, error) {
	if role == RoleNationalAdmin {
		var others int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE role = $1 AND status = $2 AND id <> $3`,
			RoleNationalAdmin, StatusActive, id).Scan(&others); err != nil {
			return nil, fmt.Errorf("account: count national admins: %w", err)
		}
		if others == 0 {
			return &DormancyAction{Action: DormancyKeepLastAdmin, UserID: id, At: tx.Now, Status: StatusActive, DeactivateOn: &on}, nil
		}
	}
	res, err := tx.ExecContext(ctx, `UPDATE users SET status = $1, status_reason = $2, status_changed_at = $3, updated_at = $3
		WHERE id = $4 AND status = $5 AND dormancy_deactivate_at <= $3`, StatusDeactivated, DormantReason, tx.Now, id, StatusActive)
	if err != nil {
		return nil, fmt.Errorf("account: deactivate dormant account: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, nil
	}
	if err := endAllSessions(ctx, tx, id); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM user_tokens WHERE user_id = $1 AND purpose = $2`, id, purposeDormancy); err != nil {
		return nil, fmt.Errorf("account: dormancy link: %w", err)
	}
	deleteOn := d.policy.DeleteAfter.After(tx.Now)
	notices.entries = append(notices.entries, audit.Entry{Action: "account.dormancy_deactivated", SubjectType: "user",
		SubjectID: strconv.FormatInt(id, 10), Details: map[string]string{"from": string(StatusActive), "to": string(StatusDeactivated),
			"reason": "dormant", "delete_on": deleteOn.Format(time.RFC3339)}})
	notices.msgs = append(notices.msgs, mail.DormancyDeactivated(email, name, deleteOn))
	return &DormancyAction{Action: DormancyDeactivate, UserID: id, At: tx.Now, Status: StatusActive, DeleteOn: &deleteOn}, nil
}

// markActive records the person's own activity (how says which: "sign_in"
// or "confirmation") and cancels any dormancy countdown, auditing the
// cancellation when there was one.
func markActive(ctx context.Context, tx *db.Tx, userID int64, how, ip string) error {
	var warned sql.NullTime
	if err := tx.QueryRowContext(ctx, `SELECT dormancy_warned_at FROM users WHERE id = $1`, userID).Scan(&warned); err != nil {
		return fmt.Errorf("account: activity: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET last_active_at = $1, dormancy_warned_at = NULL, dormancy_deactivate_at = NULL
		WHERE id = $2`, tx.Now, userID); err != nil {
		return fmt.Errorf("account: record activity: %w", err)
	}
	if !warned.Valid {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM user_tokens WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL`, userID, purposeDormancy); err != nil {
		return fmt.Errorf("account: dormancy link: %w", err)
	}
	return audit.Record(ctx, tx, audit.Entry{ActorID: userID, Action: "account.dormancy_cancelled", SubjectType: "user",
		SubjectID: strconv.FormatInt(userID, 10), Details: map[string]string{"by": how}, IP: ip})
}

// CheckStillActiveToken reports whether a dormancy warning's link still
// works, so its confirmation page is only shown for one that does.
// Errors: Invalid.
func (s *Service) CheckStillActiveToken(ctx context.Context, token string) error {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM user_tokens WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3`,
		hashToken(token), purposeDormancy, s.db.Now()).Scan(&n)
	if err != nil {
		return fmt.Errorf("account: check dormancy link: %w", err)
	}
	if n == 0 {
		return errBadLink
	}
	return nil
}

// ConfirmStillActive is the person's answer to a dormancy warning through
// its link: it counts as their activity and cancels the countdown. The
// link works once and needs no sign-in. Errors: Invalid for a link that is
// wrong, used or expired, or whose account is no longer active.
func (s *Service) ConfirmStillActive(ctx context.Context, token, ip string) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		id, err := useToken(ctx, tx, token, purposeDormancy)
		if err != nil {
			return err
		}
		var status Status
		if err := tx.QueryRowContext(ctx, `SELECT status FROM users WHERE id = $1`, id).Scan(&status); err != nil {
			return fmt.Errorf("account: confirm still active: %w", err)
		}
		if status != StatusActive {
			return errBadLink
		}
		return markActive(ctx, tx, id, "confirmation", ip)
	})
}

// checkExemptionReason checks a typed reason for an exemption; the
// identifier guard applies, as to all free text admins type.
func checkExemptionReason(reason string) (string, error) {
	reason = strings.TrimSpace(strings.ReplaceAll(reason, "\r\n", "\n"))
	var problems apperr.Fields
	switch n := len([]rune(reason)); {
	case reason == "":
		problems.Add("exemption_reason", "Enter why this account should be kept when it is not used")
	case !textcheck.Valid(reason):
		problems.Add("exemption_reason", textcheck.Message("Reason"))
	case n > maxExemptionReasonLength:
		problems.Add("exemption_reason", fmt.Sprintf("Reason must be %d characters or fewer", maxExemptionReasonLength))
	default:
		found := pii.Scan(reason)
		for _, f := range found {
			problems.Add("exemption_reason", pii.Message(reason, f, found, "Reason"))
		}
	}
	return reason, problems.Err()
}

// SetExemption keeps the target's account out of the dormancy sweep for
// the reason given, and cancels any countdown; a national admin's
// decision (the caller checks who may), audited. Errors: apperr.Fields
// (exemption_reason), NotFound, Conflict for an erased account.
func (s *Service) SetExemption(ctx context.Context, actor User, targetID int64, reason, ip string) error {
	reason, err := checkExemptionReason(reason)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		u, err := userByID(ctx, tx, targetID)
		if err != nil {
			return err
		}
		if u.Status == StatusErased {
			return apperr.New(apperr.Conflict, "This account has been erased.")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET exemption_reason = $1, exemption_by = $2, exemption_at = $3, updated_at = $3,
			dormancy_warned_at = NULL, dormancy_deactivate_at = NULL WHERE id = $4`, reason, actor.ID, tx.Now, u.ID); err != nil {
			return fmt.Errorf("account: set exemption: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM user_tokens WHERE user_id = $1 AND purpose = $2`, u.ID, purposeDormancy); err != nil {
			return fmt.Errorf("account: dormancy link: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: actor.ID, Action: "account.dormancy_exempted", SubjectType: "user",
			SubjectID: strconv.FormatInt(u.ID, 10), Details: map[string]string{"reason": reason}, IP: ip})
	})
}

// ClearExemption puts the target's account back under the dormancy sweep,
// audited. Errors: NotFound; Conflict when it is not exempt.
func (s *Service) ClearExemption(ctx context.Context, actor User, targetID int64, ip string) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET exemption_reason = '', exemption_by = NULL, exemption_at = NULL, updated_at = $1
			WHERE id = $2 AND exemption_reason <> ''`, tx.Now, targetID)
		if err != nil {
			return fmt.Errorf("account: clear exemption: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			if _, err := userByID(ctx, tx, targetID); err != nil {
				return err
			}
			return apperr.New(apperr.Conflict, "This account is not exempt. The page shows it as it is now.")
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: actor.ID, Action: "account.dormancy_exemption_removed", SubjectType: "user",
			SubjectID: strconv.FormatInt(targetID, 10), IP: ip})
	})
}

// UpcomingWindow is how far ahead an organisation's admin sees the
// accounts that will be warned.
const UpcomingWindow = 30 * 24 * time.Hour

// DormantMember is an account of an organisation that is warned, or will
// be within UpcomingWindow.
type DormantMember struct {
	ID         int64
	Name       string
	Email      string
	LastActive time.Time
	// WarnedAt is when the warning went; nil when it has not yet.
	WarnedAt *time.Time
	// WarnOn is when the warning goes (or went).
	WarnOn time.Time
	// DeactivateOn is the date of deactivation: the one in the warning,
	// or the earliest it can be for one not yet warned.
	DeactivateOn time.Time
}

// UpcomingDormant lists the active accounts of the organisation that have
// been warned, or will be within UpcomingWindow, soonest deactivation
// first. Exempt and restricted accounts are not listed: the sweep leaves
// them alone.
func (d *Dormancy) UpcomingDormant(ctx context.Context, orgCode string) ([]DormantMember, error) {
	now := d.accounts.db.Now()
	cutoff := d.policy.WarnAfter.Before(now.Add(UpcomingWindow))
	rows, err := d.accounts.db.QueryContext(ctx, `SELECT id, name, email, last_active_at, dormancy_warned_at, dormancy_deactivate_at FROM users
		WHERE org_ods = $1 AND status = $2 AND exemption_reason = '' AND restricted_at IS NULL
			AND (dormancy_warned_at IS NOT NULL OR last_active_at < $3)
		ORDER BY last_active_at, id`, orgCode, StatusActive, cutoff)
	if err != nil {
		return nil, fmt.Errorf("account: upcoming dormant: %w", err)
	}
	defer rows.Close()
	out := []DormantMember{}
	for rows.Next() {
		var m DormantMember
		var warned, on sql.NullTime
		if err := rows.Scan(&m.ID, &m.Name, &m.Email, &m.LastActive, &warned, &on); err != nil {
			return nil, fmt.Errorf("account: upcoming dormant: %w", err)
		}
		m.LastActive = m.LastActive.UTC()
		m.WarnedAt = timePtr(warned)
		if m.WarnedAt != nil && on.Valid {
			m.WarnOn, m.DeactivateOn = *m.WarnedAt, on.Time.UTC()
		} else {
			m.WarnOn = d.policy.WarnAfter.After(m.LastActive)
			if m.WarnOn.Before(now) {
				m.WarnOn = now // due at the next sweep
			}
			m.DeactivateOn = d.policy.deactivateOn(m.LastActive, m.WarnOn)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("account: upcoming dormant: %w", err)
	}
	return out, nil
}
