package authz

// The organisation dashboards (issue 15, T14).
const (
	// ViewDashboard shows the statistical process control charts of the
	// events Object.Org received, or with Object.Org "" the national
	// ones: an organisation's reviewers and admins for their own,
	// read-only users for the organisations they are granted, and
	// national admins for any organisation and the nation. They count
	// other people's records, so they need IG training.
	ViewDashboard Action = "dashboard.view"
)

// DashboardOrg is the organisation whose dashboard s sees when asking for
// asked (an ODS code, already parsed, or "" for the default of their
// role): the one asked for; by default their own organisation, for a
// read-only user the first they are granted (none when none is), and for
// a national admin "", the national dashboard. Whether s may see it is
// Decide's answer for ViewDashboard.
func DashboardOrg(s Subject, asked string) string {
	if asked != "" {
		return asked
	}
	switch s.Role {
	case NationalAdmin:
		return ""
	case ReadOnly:
		if len(s.ReadOrgs) > 0 {
			return s.ReadOrgs[0]
		}
		return ""
	}
	return s.Org
}
