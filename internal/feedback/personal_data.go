package feedback

import (
	"context"
	"fmt"
	"time"
)

// PersonalItem is one piece of feedback or one question a person sent,
// with the operator's replies to it, for "Download my data" and legal
// disclosures (P15, P18). Who it is assigned to and who wrote each reply
// are the operator's staff, and are left out.
type PersonalItem struct {
	Reference string          `json:"reference"`
	Kind      Kind            `json:"kind"`
	Page      string          `json:"page"`
	Text      string          `json:"text"`
	MayReply  bool            `json:"may_reply_by_email"`
	Status    Status          `json:"status"`
	CreatedAt time.Time       `json:"sent_at"`
	Replies   []PersonalReply `json:"replies"`
}

// PersonalReply is one reply the person was sent.
type PersonalReply struct {
	Text      string    `json:"text"`
	Emailed   bool      `json:"emailed"`
	CreatedAt time.Time `json:"sent_at"`
}

// PersonalData lists what userID sent, oldest first, with the replies.
func (s *Service) PersonalData(ctx context.Context, userID int64) ([]PersonalItem, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT f.id, f.kind, f.page, f.body, f.may_reply, f.status, f.created_at,
		r.body, r.emailed, r.created_at
		FROM feedback_items f LEFT JOIN feedback_replies r ON r.item_id = f.id
		WHERE f.user_id = $1 ORDER BY f.id, r.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("feedback: personal data: %w", err)
	}
	defer rows.Close()
	out := []PersonalItem{}
	var last int64
	for rows.Next() {
		var id int64
		var it PersonalItem
		var body *string
		var emailed *bool
		var at *time.Time
		if err := rows.Scan(&id, &it.Kind, &it.Page, &it.Text, &it.MayReply, &it.Status, &it.CreatedAt, &body, &emailed, &at); err != nil {
			return nil, fmt.Errorf("feedback: personal data: %w", err)
		}
		if id != last {
			it.Reference, it.CreatedAt, it.Replies = Reference(id), it.CreatedAt.UTC(), []PersonalReply{}
			out = append(out, it)
			last = id
		}
		if body != nil && emailed != nil && at != nil {
			cur := &out[len(out)-1]
			cur.Replies = append(cur.Replies, PersonalReply{Text: *body, Emailed: *emailed, CreatedAt: at.UTC()})
		}
	}
	return out, rows.Err()
}
