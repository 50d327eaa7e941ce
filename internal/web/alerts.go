package web

import (
	"net/http"
	"slices"

	"github.com/psims/psims/internal/account"
)

// alertRoutes registers the page where reviewers and organisation admins
// choose which event alerts they are emailed.
func (s *Server) alertRoutes(r *router) {
	r.handleFunc("GET /account/alerts", s.alertsForm)
	r.handleFunc("POST /account/alerts", s.alerts)
}

// The checkbox values of the alerts form.
const (
	alertSevereHarm   = "severe-harm"
	alertNeverEvent   = "never-event"
	alertPublicReport = "public-report"
)

// alertsData is what the alerts page shows.
type alertsData struct {
	GetsAlerts bool // the role is one alerts go to
	Options    []userOption
}

// alertOptions are the checkboxes, ticked as p says.
func alertOptions(p account.AlertPrefs) []userOption {
	return []userOption{
		{Value: alertSevereHarm, Label: "Severe or fatal physical harm", Hint: "A patient came to severe physical harm or died", Selected: p.SevereHarm},
		{Value: alertNeverEvent, Label: "Never events", Hint: "The person recording it said it is a never event", Selected: p.NeverEvent},
		{Value: alertPublicReport, Label: "Reports from patients and the public", Hint: "Concerns sent through the public form", Selected: p.PublicReport},
	}
}

// alertSummary says in words which alerts someone gets.
func alertSummary(p account.AlertPrefs) []string {
	var out []string
	for _, o := range alertOptions(p) {
		if o.Selected {
			out = append(out, o.Label)
		}
	}
	return out
}

func (s *Server) alertsForm(w http.ResponseWriter, r *http.Request) {
	v, ok := s.self(w, r)
	if !ok {
		return
	}
	prefs, err := s.Accounts.AlertPrefs(r.Context(), v.user.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "Email alerts")
	p.Data = alertsData{GetsAlerts: account.GetsAlerts(v.user), Options: alertOptions(prefs)}
	if r.URL.Query().Get("done") == "alerts" {
		p.Notice = "Your email alert choices have been saved."
	}
	s.render.Render(w, r, http.StatusOK, "account-alerts", p)
}

func (s *Server) alerts(w http.ResponseWriter, r *http.Request) {
	v, ok := s.self(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	chosen := r.PostForm["alerts"]
	prefs := account.AlertPrefs{
		SevereHarm:   slices.Contains(chosen, alertSevereHarm),
		NeverEvent:   slices.Contains(chosen, alertNeverEvent),
		PublicReport: slices.Contains(chosen, alertPublicReport),
	}
	if err := s.Accounts.SetAlertPrefs(r.Context(), v.user, prefs, s.client(r).IP); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/account/alerts?done=alerts", http.StatusSeeOther)
}
