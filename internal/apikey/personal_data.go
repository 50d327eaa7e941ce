package apikey

import (
	"context"
	"time"
)

// PersonalKey is an API key a person made or revoked, as their "Download
// my data" shows it (P15): never the key itself, which nobody has.
type PersonalKey struct {
	Org       string    `json:"organisation"`
	Name      string    `json:"name"`
	Prefix    string    `json:"starts_with"`
	CreatedAt time.Time `json:"created_at"`
	// Made and RevokedIt say what the person did: made the key, revoked
	// it, or both.
	Made      bool       `json:"made_by_you"`
	RevokedIt bool       `json:"revoked_by_you"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// PersonalData lists the keys userID made or revoked, oldest first.
func (s *Service) PersonalData(ctx context.Context, userID int64) ([]PersonalKey, error) {
	keys, err := s.list(ctx, `WHERE created_by = $1 OR revoked_by = $1 ORDER BY id`, userID)
	if err != nil {
		return nil, err
	}
	out := make([]PersonalKey, 0, len(keys))
	for _, k := range keys {
		p := PersonalKey{Org: k.Org, Name: k.Name, Prefix: k.Prefix, CreatedAt: k.CreatedAt,
			Made: k.CreatedBy == userID, RevokedIt: k.RevokedBy == userID}
		if !k.RevokedAt.IsZero() {
			p.RevokedAt = &k.RevokedAt
		}
		out = append(out, p)
	}
	return out, nil
}
