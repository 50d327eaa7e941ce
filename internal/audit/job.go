package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/mail"
)

// CheckInterval is how often the chain is verified and its head anchored
// (and once when the scheduler starts, so after every deploy too).
const CheckInterval = 24 * time.Hour

// checkTimeout lets a check of a long log finish.
const checkTimeout = time.Hour

// ActionVerify is the action of the row each daily check adds to the log.
const ActionVerify = "audit.verify"

// CheckArgs is the audit_check job: Check.
type CheckArgs struct{}

// Kind names the job in River.
func (CheckArgs) Kind() string { return "audit_check" }

// InsertOpts keeps one check waiting or running at a time.
func (CheckArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{
		ByArgs: true,
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
			rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled},
	}}
}

// Scheduler runs a job every interval, once across processes, and once
// at start; *jobs.Runner is one while its register function runs.
type Scheduler interface {
	Every(interval time.Duration, args river.JobArgs)
}

// Admins finds who is told when the chain is broken.
type Admins interface {
	// ActiveNationalAdmins returns every active national admin, inside tx.
	ActiveNationalAdmins(ctx context.Context, tx *db.Tx) ([]mail.Addressee, error)
}

// Mailer queues email inside a transaction (*mail.Outbox).
type Mailer interface {
	Enqueue(ctx context.Context, tx *db.Tx, m mail.Message) (int64, error)
}

// Checker verifies the chain, anchors its head and records the result.
type Checker struct {
	db       *db.DB
	admins   Admins
	mailer   Mailer
	anchorer *Anchorer
	logger   *slog.Logger
}

// NewChecker returns a Checker. anchorer may write nowhere (an empty
// target): the head then goes to the log output alone. With admins or
// mailer nil (a command that only checks), nobody is emailed.
func NewChecker(d *db.DB, admins Admins, mailer Mailer, anchorer *Anchorer, logger *slog.Logger) *Checker {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if anchorer == nil {
		anchorer = NewAnchorer("", nil)
	}
	return &Checker{db: d, admins: admins, mailer: mailer, anchorer: anchorer, logger: logger}
}

// AddWorkers registers the daily check and schedules it every
// CheckInterval.
func AddWorkers(workers *river.Workers, sched Scheduler, c *Checker) {
	river.AddWorker(workers, &checkWorker{checker: c})
	sched.Every(CheckInterval, CheckArgs{})
}

type checkWorker struct {
	river.WorkerDefaults[CheckArgs]
	checker *Checker
}

func (w *checkWorker) Timeout(*river.Job[CheckArgs]) time.Duration { return checkTimeout }

func (w *checkWorker) Work(ctx context.Context, _ *river.Job[CheckArgs]) error {
	_, err := w.checker.Check(ctx)
	return err
}

// CheckResult is what one check found.
type CheckResult struct {
	Rows    int      // rows verified
	Problem *Problem // nil when the chain is intact
	Head    Anchor   // the head anchored, read after the chain was verified
	// AnchorErr is why the head could not be written to the anchor
	// target, nil when it was or when there is no target.
	AnchorErr error
}

// Check verifies the whole chain, writes its head to the log output and to
// the anchor target, and records the result as a row of the log itself,
// in one transaction with an email to every active national admin when the
// chain is broken. The row is what the metrics read, so every process
// reports the last check whichever ran it. Running it twice is harmless:
// it adds one more row.
//
// The row is a row like any other, linked into the chain after the head
// it names: a later check verifies it, and a log cut back to before it
// loses it (which the anchors show). It holds only counts, IDs and hashes.
func (c *Checker) Check(ctx context.Context) (CheckResult, error) {
	var res CheckResult
	n, problem, err := Verify(ctx, c.db)
	if err != nil {
		return res, err
	}
	res.Rows, res.Problem = n, problem
	if res.Head, err = Head(ctx, c.db); err != nil {
		return res, err
	}
	c.logger.InfoContext(ctx, "audit chain head", "anchor", res.Head.String(), "id", res.Head.ID, "hash", res.Head.Hash,
		"at", res.Head.At.Format(time.RFC3339))
	details := map[string]string{"result": "intact", "rows": strconv.Itoa(n),
		"head_id": strconv.FormatInt(res.Head.ID, 10), "head_hash": res.Head.Hash, "anchor": "log"}
	if c.anchorer.Target() != "" {
		details["anchor"] = "log and target"
		if res.AnchorErr = c.anchorer.Write(ctx, res.Head); res.AnchorErr != nil {
			details["anchor"] = "log only: writing to the target failed"
			c.logger.ErrorContext(ctx, "audit chain head not anchored", "err", res.AnchorErr)
		}
	}
	if problem != nil {
		details["result"] = "broken"
		details["broken_at"] = strconv.FormatInt(problem.RowID, 10)
		details["reason"] = problem.Reason
		c.logger.ErrorContext(ctx, "audit log chain is broken", "row", problem.RowID, "reason", problem.Reason, "rows_checked", n)
	}
	err = c.db.InTx(ctx, func(tx *db.Tx) error {
		if err := Record(ctx, tx, Entry{Action: ActionVerify, SubjectType: "audit_log",
			SubjectID: strconv.FormatInt(res.Head.ID, 10), Details: details}); err != nil {
			return err
		}
		if problem == nil || c.admins == nil || c.mailer == nil {
			return nil
		}
		admins, err := c.admins.ActiveNationalAdmins(ctx, tx)
		if err != nil {
			return err
		}
		for _, a := range admins {
			if _, err := c.mailer.Enqueue(ctx, tx, mail.AuditChainBroken(a, problem.RowID, problem.Reason, n, tx.Now)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("audit: record check: %w", err)
	}
	return res, nil
}

// Status is the last check's result, as the metrics show it.
type Status struct {
	Checked bool      // a check has run
	At      time.Time // when it ran
	OK      bool      // the chain was intact
	Rows    int       // rows it verified
}

// LastCheck reads the result of the last check from the log.
func LastCheck(ctx context.Context, d *db.DB) (Status, error) {
	var st Status
	var details string
	err := d.QueryRowContext(ctx, `SELECT at, details FROM audit_log WHERE action = $1 ORDER BY id DESC LIMIT 1`, ActionVerify).
		Scan(&st.At, &details)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("audit: last check: %w", err)
	}
	m, err := decodeDetails(details)
	if err != nil {
		return st, err
	}
	st.Checked, st.At = true, st.At.UTC()
	st.OK = m["result"] == "intact"
	st.Rows, _ = strconv.Atoi(m["rows"])
	return st, nil
}
