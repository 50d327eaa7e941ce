package rights

import (
	"context"
	"fmt"
	"strconv"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
)

// erase erases u everywhere inside tx and returns the counts for the audit
// row.
func (s *Service) erase(ctx context.Context, tx *db.Tx, u account.User) (map[string]string, error) {
	details := map[string]string{}
	add := func(m map[string]int64) {
		for k, n := range m {
			details[k] = strconv.FormatInt(n, 10)
		}
	}
	for _, e := range s.erasers {
		m, err := e.ErasePerson(ctx, tx, u.ID)
		if err != nil {
			return nil, err
		}
		add(m)
	}
	m, err := s.ErasePerson(ctx, tx, u.ID)
	if err != nil {
		return nil, err
	}
	add(m)
	byAddress := map[string]AddressEraser{"outbox": s.outbox.EraseAddress}
	for k, e := range s.byAddress {
		byAddress[k] = e
	}
	for key, e := range byAddress {
		var total int64
		for _, addr := range []string{u.Email, u.PendingEmail} {
			if addr == "" {
				continue
			}
			n, err := e(ctx, tx, addr)
			if err != nil {
				return nil, err
			}
			total += n
		}
		add(map[string]int64{key: total})
	}
	m, err = s.people.ErasePerson(ctx, tx, u.ID)
	if err != nil {
		return nil, err
	}
	add(m)
	return details, nil
}

// ErasePerson blanks the reasons the person gave in their own requests,
// which stay as the record that their rights were answered, and closes
// their other open requests as withdrawn: there is nobody left to answer.
func (s *Service) ErasePerson(ctx context.Context, tx *db.Tx, userID int64) (map[string]int64, error) {
	res, err := tx.ExecContext(ctx, `UPDATE rights_requests SET reason = '' WHERE user_id = $1 AND reason <> ''`, userID)
	if err != nil {
		return nil, fmt.Errorf("rights: erase reasons: %w", err)
	}
	reasons, _ := res.RowsAffected()
	res, err = tx.ExecContext(ctx, `UPDATE rights_requests SET status = $1, closed_at = $2, updated_at = $2
		WHERE user_id = $3 AND status IN ('received', 'in_progress', 'extended')`, string(Withdrawn), tx.Now, userID)
	if err != nil {
		return nil, fmt.Errorf("rights: close open requests: %w", err)
	}
	closed, _ := res.RowsAffected()
	return map[string]int64{"rights_reasons": reasons, "rights_closed": closed}, nil
}

// EraseDormant erases a person everywhere inside the caller's transaction,
// through the same steps as a completed erasure request, with the system
// as actor: the dormancy sweep's deletion of people who no longer use the
// service (P12), and of accounts that never completed registration. It
// audits "rights.erased_dormant" with why (reason, fixed text naming no
// one) and the counts. Events they recorded stay, with no reporter
// identity; audit rows stay, naming the tombstone's id only. Errors:
// NotFound; Conflict when the account is already erased.
func (s *Service) EraseDormant(ctx context.Context, tx *db.Tx, userID int64, reason string) error {
	u, err := s.people.UserInTx(ctx, tx, userID)
	if err != nil {
		return err
	}
	if u.Status == account.StatusErased {
		return apperr.New(apperr.Conflict, "This account is erased already.")
	}
	details, err := s.erase(ctx, tx, u)
	if err != nil {
		return err
	}
	details["reason"] = reason
	return audit.Record(ctx, tx, audit.Entry{Action: "rights.erased_dormant", SubjectType: "user",
		SubjectID: strconv.FormatInt(userID, 10), Details: details})
}
