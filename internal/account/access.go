package account

import (
	"context"
	"fmt"
	"time"

	"github.com/psims/psims/internal/authz"
)

// IGCurrent reports whether the user's recorded information governance
// training is recent enough for roles that see other people's data (T18).
func (s *Service) IGCurrent(u User) bool {
	return igCurrent(u, s.db.Now(), s.settings.IGTrainingValidMonths)
}

func igCurrent(u User, now time.Time, validMonths int) bool {
	if u.IGTrainingAt == nil {
		return false
	}
	return now.Before(u.IGTrainingAt.AddDate(0, validMonths, 0))
}

// ReadGrants returns the organisations a read-only user may read.
func (s *Service) ReadGrants(ctx context.Context, userID int64) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT org_ods FROM read_grants WHERE user_id = $1 ORDER BY org_ods`, userID)
	if err != nil {
		return nil, fmt.Errorf("account: read grants: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var code string
		if err := rows.Scan(&code); err != nil {
			return nil, fmt.Errorf("account: read grants: %w", err)
		}
		out = append(out, code)
	}
	return out, rows.Err()
}

// Subject is the user as the authorisation policy sees them.
func (s *Service) Subject(ctx context.Context, u User) (authz.Subject, error) {
	sub := authz.Subject{
		UserID:         u.ID,
		Role:           string(u.Role),
		Org:            u.OrgCode,
		IGCurrent:      s.IGCurrent(u),
		OrgMovePending: u.PendingOrgCode != "",
		Restricted:     u.RestrictedAt != nil,
	}
	if u.Role == RoleReadOnly {
		grants, err := s.ReadGrants(ctx, u.ID)
		if err != nil {
			return authz.Subject{}, err
		}
		sub.ReadOrgs = grants
	}
	return sub, nil
}
