package usage

import (
	"context"
	"fmt"
	"time"

	"github.com/psims/psims/internal/db"
)

// PersonalData is what the usage part holds about one person, for
// "Download my data" and legal disclosures (P15, P18): their raw usage
// events (until they expire) and the per-person daily rows the reports are
// made from. The session hash each event carries is left out: it is a
// hash of a secret, and says nothing more about the person than the
// session times do.
type PersonalData struct {
	Events []PersonalEvent `json:"events"`
	Days   []PersonalDay   `json:"days"`
}

// PersonalEvent is one usage event.
type PersonalEvent struct {
	At       time.Time `json:"at"`
	Kind     string    `json:"kind"`
	Route    string    `json:"route"`
	Status   int       `json:"status"`
	OrgCode  string    `json:"organisation_code,omitempty"`
	IP       string    `json:"ip"`
	Browser  string    `json:"browser"`
	Major    int       `json:"browser_major_version"`
	Document int64     `json:"document_id,omitempty"`
}

// PersonalDay is one person's use on one day, as the rollup counted it.
type PersonalDay struct {
	Day       string    `json:"day"`
	OrgCode   string    `json:"organisation_code"`
	SignIns   int       `json:"sign_ins"`
	PageViews int       `json:"page_views"`
	Documents int       `json:"documents_opened"`
	LastAt    time.Time `json:"last_at"`
}

// PersonalDataRows counts the rows PersonalDataOf would return, so the
// caller can choose to build a large export in the background.
func PersonalDataRows(ctx context.Context, d *db.DB, userID int64) (int, error) {
	var n int
	err := d.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM usage_events WHERE user_id = $1)
		+ (SELECT COUNT(*) FROM usage_user_days WHERE user_id = $1)`, userID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("usage: count personal data: %w", err)
	}
	return n, nil
}

// PersonalDataOf reads what the usage part holds about userID, oldest
// first.
func PersonalDataOf(ctx context.Context, d *db.DB, userID int64) (PersonalData, error) {
	pd := PersonalData{Events: []PersonalEvent{}, Days: []PersonalDay{}}
	rows, err := d.QueryContext(ctx, `SELECT at, kind, route, status, COALESCE(org_ods, ''), ip, browser, browser_major, COALESCE(document_id, 0)
		FROM usage_events WHERE user_id = $1 ORDER BY at, id`, userID)
	if err != nil {
		return PersonalData{}, fmt.Errorf("usage: personal data: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e PersonalEvent
		var at anyTime
		if err := rows.Scan(&at, &e.Kind, &e.Route, &e.Status, &e.OrgCode, &e.IP, &e.Browser, &e.Major, &e.Document); err != nil {
			return PersonalData{}, fmt.Errorf("usage: personal data: %w", err)
		}
		e.At = at.t
		pd.Events = append(pd.Events, e)
	}
	if err := rows.Err(); err != nil {
		return PersonalData{}, fmt.Errorf("usage: personal data: %w", err)
	}
	rows.Close()
	days, err := d.QueryContext(ctx, `SELECT day, org_ods, sign_ins, page_views, documents, last_at
		FROM usage_user_days WHERE user_id = $1 ORDER BY day, org_ods`, userID)
	if err != nil {
		return PersonalData{}, fmt.Errorf("usage: personal data: %w", err)
	}
	defer days.Close()
	for days.Next() {
		var p PersonalDay
		var last anyTime
		if err := days.Scan(&p.Day, &p.OrgCode, &p.SignIns, &p.PageViews, &p.Documents, &last); err != nil {
			return PersonalData{}, fmt.Errorf("usage: personal data: %w", err)
		}
		p.LastAt = last.t
		pd.Days = append(pd.Days, p)
	}
	return pd, days.Err()
}
