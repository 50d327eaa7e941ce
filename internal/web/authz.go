package web

import (
	"net/http"

	"github.com/psims/psims/internal/authz"
)

// subject is the signed-in user as the authorisation policy sees them; the
// zero Subject (refused everything) when nobody is signed in.
func (s *Server) subject(r *http.Request) (authz.Subject, error) {
	v := viewerFrom(r.Context())
	if v == nil {
		return authz.Subject{}, nil
	}
	if v.subject == nil {
		sub, err := s.Accounts.Subject(r.Context(), v.user)
		if err != nil {
			return authz.Subject{}, err
		}
		v.subject = &sub
	}
	return *v.subject, nil
}

// authorize asks the policy whether the signed-in user may do a to o. When
// the answer is no it shows the page that fits and returns false:
//   - nobody signed in: the sign-in page, which comes back here afterwards;
//   - IG training due or an organisation move pending: a page saying what to do;
//   - anything else: 404 when the object is in another organisation (so its
//     existence is not revealed), 403 otherwise.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, a authz.Action, o authz.Object) bool {
	sub, err := s.subject(r)
	if err != nil {
		s.fail(w, r, err)
		return false
	}
	// A posted form changes something: a restricted person may not (P15).
	o.Change = r.Method != http.MethodGet && r.Method != http.MethodHead
	d := authz.Decide(sub, a, o)
	if d.Allowed {
		return true
	}
	s.refuse(w, r, sub, d, o)
	return false
}

// refuse shows the page for a refusal d of sub's request on o.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, sub authz.Subject, d authz.Decision, o authz.Object) {
	switch d.Reason {
	case authz.NotSignedIn:
		s.requireUser(func(http.ResponseWriter, *http.Request) {})(w, r)
	case authz.IGTrainingDue:
		p := s.page(r, "Update your information governance training")
		p.Data = s.Accounts.Settings().IGTrainingValidMonths
		s.render.Render(w, r, http.StatusForbidden, "ig-training-due", p)
	case authz.Restricted:
		s.render.Render(w, r, http.StatusForbidden, "restricted", s.page(r, "Your account is read-only"))
	case authz.OrgMovePending:
		s.render.Render(w, r, http.StatusForbidden, "org-move-pending", s.page(r, "Your move to another organisation is waiting for approval"))
	default:
		if o.Org != "" && o.Org != sub.Org && sub.Role != authz.NationalAdmin {
			s.notFound(w, r)
			return
		}
		s.render.Render(w, r, http.StatusForbidden, "forbidden", s.page(r, "You do not have permission to see this page"))
	}
}
