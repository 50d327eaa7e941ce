package stats

import (
	"context"
	"fmt"
	"time"
)

// PersonalPreRelease is a publication whose pre-release access list holds
// a person's email address, for their "Download my data" and legal
// disclosures (P15, P18). Who added the address is left out.
type PersonalPreRelease struct {
	Publication string    `json:"publication"`
	AddedAt     time.Time `json:"added_at"`
}

// PersonalData lists the pre-release access lists holding the address
// addr (the lists are kept by address, in any case).
func (s *Service) PersonalData(ctx context.Context, addr string) ([]PersonalPreRelease, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT p.title, l.added_at FROM statistics_prerelease l
		JOIN statistics_publications p ON p.id = l.publication_id
		WHERE lower(l.email) = lower($1) ORDER BY l.added_at, p.id`, addr)
	if err != nil {
		return nil, fmt.Errorf("stats: personal data: %w", err)
	}
	defer rows.Close()
	out := []PersonalPreRelease{}
	for rows.Next() {
		var p PersonalPreRelease
		if err := rows.Scan(&p.Publication, &p.AddedAt); err != nil {
			return nil, fmt.Errorf("stats: personal data: %w", err)
		}
		p.AddedAt = p.AddedAt.UTC()
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("stats: personal data: %w", err)
	}
	return out, nil
}
