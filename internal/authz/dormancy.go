package authz

// The actions on dormant accounts (issue 14, P12, P13).
const (
	// ExemptFromDormancy keeps the account Object.UserID out of the
	// dormancy sweep with a reason, or puts it back: the operator's
	// decision, so national admins only.
	ExemptFromDormancy Action = "users.dormancy_exempt"
	// ViewDormancy lists the accounts of Object.Org that are warned, or
	// will be soon, with their dates: the organisation's admins, and
	// national admins for any organisation.
	ViewDormancy Action = "users.dormancy_view"
)
