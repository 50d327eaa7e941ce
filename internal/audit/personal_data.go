package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/psims/psims/internal/db"
)

// PersonalEntry is an audit entry about a person's account, as "Download
// my data" and legal disclosures show it (P15, P18): what happened and
// when, whether the person did it themselves, and only the details that
// describe their own account. The actor is never named when it was
// someone else, and their address is left out.
type PersonalEntry struct {
	At      time.Time         `json:"at"`
	Action  string            `json:"action"`
	BySelf  bool              `json:"by_you"`
	IP      string            `json:"ip,omitempty"`
	Details map[string]string `json:"details,omitempty"`
}

// personalDetails are the detail keys an entry about an account may show
// its owner: organisations, roles, statuses, and the reasons given.
var personalDetails = map[string]bool{
	"org": true, "from_org": true, "role": true, "from_role": true, "from": true, "to": true,
	"status": true, "how": true, "kind": true, "fields": true, "completed_on": true, "reason": true,
	"outcome": true, "via": true, "document": true, "version": true,
}

// PersonalData lists, oldest first, the entries whose subject is the
// user's account: their organisation and role history, status changes,
// sign-ins and the like.
func PersonalData(ctx context.Context, d *db.DB, userID int64) ([]PersonalEntry, error) {
	rows, err := d.QueryContext(ctx, `SELECT at, COALESCE(actor_user_id, 0), action, details, ip FROM audit_log
		WHERE subject_type = 'user' AND subject_id = $1 ORDER BY id`, strconv.FormatInt(userID, 10))
	if err != nil {
		return nil, fmt.Errorf("audit: personal data: %w", err)
	}
	defer rows.Close()
	out := []PersonalEntry{}
	for rows.Next() {
		var e PersonalEntry
		var actor int64
		var details, ip string
		if err := rows.Scan(&e.At, &actor, &e.Action, &details, &ip); err != nil {
			return nil, fmt.Errorf("audit: personal data: %w", err)
		}
		e.At = e.At.UTC()
		e.BySelf = actor == userID
		if e.BySelf {
			e.IP = ip
		}
		var all map[string]string
		if err := json.Unmarshal([]byte(details), &all); err != nil {
			return nil, fmt.Errorf("audit: personal data: details: %w", err)
		}
		for k, v := range all {
			if personalDetails[k] {
				if e.Details == nil {
					e.Details = map[string]string{}
				}
				e.Details[k] = v
			}
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
