package web

import (
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/stats"
)

// uploadDenominators is the path of the denominator upload form, one of
// the routes that take a file (library.go).
const uploadDenominators = "/admin/statistics/denominators"

// statisticsRoutes registers the public official statistics pages (issue
// 15, T16) and the national admins' pages that make them.
func (s *Server) statisticsRoutes(r *router) {
	// Public: no sign-in, and reachable before new terms are accepted.
	r.open("GET /statistics", s.statisticsList)
	r.open("GET /statistics/{id}", s.statisticsCurrent)
	r.open("GET /statistics/{id}/v/{n}", s.statisticsVersion)
	r.open("GET /statistics/{id}/v/{n}/{file}", s.statisticsFile)

	r.handleFunc("GET /admin/statistics", s.requireUser(s.adminStatistics))
	r.handleFunc("GET /admin/statistics/new", s.requireUser(s.adminStatisticsNew))
	r.handleFunc("POST /admin/statistics/new", s.requireUser(s.adminStatisticsCreate))
	r.handleFunc("GET "+uploadDenominators, s.requireUser(s.adminDenominators))
	r.handleFunc("POST "+uploadDenominators, s.requireUser(s.adminDenominatorsLoad))
	r.handleFunc("GET /admin/statistics/{id}", s.requireUser(s.adminPublication))
	r.handleFunc("GET /admin/statistics/{id}/preview", s.requireUser(s.adminPublicationPreview))
	r.handleFunc("POST /admin/statistics/{id}/publish", s.requireUser(s.adminPublicationPublish))
	r.handleFunc("POST /admin/statistics/{id}/revise", s.requireUser(s.adminPublicationRevise))
	r.handleFunc("POST /admin/statistics/{id}/prerelease", s.requireUser(s.adminPreReleaseAdd))
	r.handleFunc("POST /admin/statistics/{id}/prerelease/remove", s.requireUser(s.adminPreReleaseRemove))
}

// statisticsActor is the national admin acting.
func (s *Server) statisticsActor(r *http.Request) stats.Actor {
	return stats.Actor{ID: viewerFrom(r.Context()).user.ID, IP: s.client(r).IP}
}

// pathID reads a positive number from the path; false when it is not one.
func pathID(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id, err == nil && id > 0
}

// publicationRow is one publication as lists show it.
type publicationRow struct {
	stats.Publication
	// Period says which events it counts: "occurring between … and …".
	Period, Release string
}

func (s *Server) publicationRow(p stats.Publication) publicationRow {
	return publicationRow{Publication: p, Period: p.Meta(1, "").Counted(), Release: p.Release.In(s.uk).Format("2 January 2006 at 15:04")}
}

func (s *Server) statisticsList(w http.ResponseWriter, r *http.Request) {
	list, err := s.Statistics.List(r.Context(), s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var rows []publicationRow
	for _, p := range list {
		rows = append(rows, s.publicationRow(p))
	}
	p := s.page(r, "Official statistics")
	p.Data = rows
	s.render.Render(w, r, http.StatusOK, "statistics", p)
}

// visiblePublication returns publication id when the viewer may read its
// published versions: released, or on its pre-release list (or a national
// admin) while it waits for release. preRelease says it is not released
// yet. Anything else is not found, so an unreleased publication is not
// revealed.
func (s *Server) visiblePublication(w http.ResponseWriter, r *http.Request) (stats.Publication, []stats.Version, bool, bool) {
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return stats.Publication{}, nil, false, false
	}
	p, err := s.Statistics.Get(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return p, nil, false, false
	}
	if p.Status != stats.StatusPublished {
		s.notFound(w, r)
		return p, nil, false, false
	}
	preRelease := !p.Released(s.now())
	if preRelease {
		sub, err := s.subject(r)
		if err != nil {
			s.fail(w, r, err)
			return p, nil, false, false
		}
		listed := false
		if v := viewerFrom(r.Context()); v != nil {
			if listed, err = s.Statistics.OnPreRelease(r.Context(), id, v.user.Email); err != nil {
				s.fail(w, r, err)
				return p, nil, false, false
			}
		}
		if !authz.SeesPreRelease(sub, listed) {
			s.notFound(w, r)
			return p, nil, false, false
		}
		if listed {
			if err := s.Statistics.RecordPreReleaseView(r.Context(), s.statisticsActor(r), id); err != nil {
				s.fail(w, r, err)
				return p, nil, false, false
			}
		}
	}
	versions, err := s.Statistics.Versions(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return p, nil, false, false
	}
	if len(versions) == 0 {
		s.notFound(w, r)
		return p, nil, false, false
	}
	return p, versions, preRelease, true
}

// publicationPage is what a publication's page shows.
type publicationPage struct {
	Row        publicationRow
	Version    stats.Version
	Latest     int
	Versions   []stats.Version
	PreRelease bool
	// Preview is true for the admins' preview built from live data.
	Preview bool
	// Body is the stored (or, for a preview, built) HTML of the report.
	Body template.HTML
	// Downloads are the version's files other than the HTML page.
	Downloads []stats.File
	// Base is the address of the version, that file names follow.
	Base string
}

func (s *Server) statisticsCurrent(w http.ResponseWriter, r *http.Request) {
	p, versions, pre, ok := s.visiblePublication(w, r)
	if !ok {
		return
	}
	s.showVersion(w, r, p, versions, len(versions), pre)
}

func (s *Server) statisticsVersion(w http.ResponseWriter, r *http.Request) {
	p, versions, pre, ok := s.visiblePublication(w, r)
	if !ok {
		return
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 || n > len(versions) {
		s.notFound(w, r)
		return
	}
	s.showVersion(w, r, p, versions, n, pre)
}

func (s *Server) showVersion(w http.ResponseWriter, r *http.Request, p stats.Publication, versions []stats.Version, n int, pre bool) {
	html, err := s.Statistics.File(r.Context(), p.ID, n, stats.HTMLName)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := versions[n-1]
	data := publicationPage{Row: s.publicationRow(p), Version: v, Latest: len(versions), Versions: versions, PreRelease: pre,
		// The stored HTML was rendered by our own template from our own
		// figures (statistics_html.go), escaped then.
		Body: template.HTML(html.Body), Base: "/statistics/" + strconv.FormatInt(p.ID, 10) + "/v/" + strconv.Itoa(n) + "/"}
	for _, f := range v.Files {
		if f.Name != stats.HTMLName {
			data.Downloads = append(data.Downloads, f)
		}
	}
	pg := s.page(r, p.Title)
	pg.Data = data
	s.render.Render(w, r, http.StatusOK, "statistics-publication", pg)
}

func (s *Server) statisticsFile(w http.ResponseWriter, r *http.Request) {
	p, versions, _, ok := s.visiblePublication(w, r)
	if !ok {
		return
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	name := r.PathValue("file")
	if err != nil || n < 1 || n > len(versions) || !(strings.HasSuffix(name, ".csv") || strings.HasSuffix(name, ".xlsx")) {
		s.notFound(w, r)
		return
	}
	f, err := s.Statistics.File(r.Context(), p.ID, n, name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", f.ContentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+downloadName(p, n, name)+`"`)
	w.Header().Set("X-Content-SHA256", f.SHA256)
	w.Write(f.Body)
}

// downloadName is the name a downloaded file is saved as:
// "psims-statistics-3-v2-national-totals.csv".
func downloadName(p stats.Publication, n int, name string) string {
	return "psims-statistics-" + strconv.FormatInt(p.ID, 10) + "-v" + strconv.Itoa(n) + "-" + name
}

func (s *Server) adminStatistics(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageStatistics, authz.Object{}) {
		return
	}
	list, err := s.Statistics.List(r.Context(), time.Time{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var rows []publicationRow
	for _, p := range list {
		rows = append(rows, s.publicationRow(p))
	}
	p := s.page(r, "Official statistics publications")
	p.Data = rows
	s.render.Render(w, r, http.StatusOK, "admin-statistics", p)
}

// publicationForm is the new publication form as typed.
type publicationForm struct {
	Title, Basis, Period string
	From, To, Release    dateInput
	Time                 string
}

// publicationFormData is what the form offers besides the values.
type publicationFormData struct {
	Presets []periodPreset
}

// periodPreset is one six-monthly period the form offers.
type periodPreset struct {
	Value, Label string
}

// presets are the last four six-monthly periods that have ended by now,
// newest first, each as "2026-04-01/2026-09-30".
func (s *Server) presets() []periodPreset {
	var out []periodPreset
	start, _ := stats.SixMonthPeriod(s.now().UTC())
	for range 4 {
		from, to := stats.SixMonthPeriod(start.AddDate(0, 0, -1))
		out = append(out, periodPreset{Value: from.Format("2006-01-02") + "/" + to.Format("2006-01-02"),
			Label: from.Format("2 January 2006") + " to " + to.Format("2 January 2006")})
		start = from
	}
	return out
}

func (s *Server) publicationFormPage(r *http.Request, f publicationForm, errs []FieldError) Page {
	p := s.page(r, "New publication")
	p.Form = f
	p.Errors = errs
	p.Data = publicationFormData{Presets: s.presets()}
	return p
}

func (s *Server) adminStatisticsNew(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageStatistics, authz.Object{}) {
		return
	}
	f := publicationForm{Basis: string(incident.BasisOccurred), Time: "09:30"}
	if pr := s.presets(); len(pr) > 0 {
		f.Period = pr[0].Value
	}
	s.render.Render(w, r, http.StatusOK, "admin-statistics-new", s.publicationFormPage(r, f, nil))
}

// readPublicationForm reads the form, returning what was typed, the draft
// and the problems with its dates.
func (s *Server) readPublicationForm(r *http.Request) (publicationForm, stats.Draft, []FieldError) {
	f := publicationForm{Title: r.PostFormValue("title"), Basis: r.PostFormValue("basis"), Period: r.PostFormValue("period"),
		Time: strings.TrimSpace(r.PostFormValue("release-time")),
		From: dateInput{Day: r.PostFormValue("from-day"), Month: r.PostFormValue("from-month"), Year: r.PostFormValue("from-year")},
		To:   dateInput{Day: r.PostFormValue("to-day"), Month: r.PostFormValue("to-month"), Year: r.PostFormValue("to-year")},
		Release: dateInput{Day: r.PostFormValue("release-day"), Month: r.PostFormValue("release-month"),
			Year: r.PostFormValue("release-year")}}
	d := stats.Draft{Title: f.Title, Basis: incident.Basis(f.Basis)}
	var errs []FieldError
	switch {
	case f.Period == "custom":
		from, in, ok := parseDateInput(f.From, "First day of the period", "Enter the first day of the period")
		f.From = in
		if ok {
			d.From = from
		} else {
			errs = append(errs, FieldError{Field: in.errorField("from"), Message: in.Message})
		}
		to, in, ok := parseDateInput(f.To, "Last day of the period", "Enter the last day of the period")
		f.To = in
		if ok {
			d.To = to
		} else {
			errs = append(errs, FieldError{Field: in.errorField("to"), Message: in.Message})
		}
	default:
		found := false
		for _, p := range s.presets() {
			if p.Value == f.Period {
				a, b, _ := strings.Cut(p.Value, "/")
				d.From, _ = time.Parse("2006-01-02", a)
				d.To, _ = time.Parse("2006-01-02", b)
				found = true
			}
		}
		if !found {
			errs = append(errs, FieldError{Field: "period", Message: "Select the period the publication covers"})
		}
	}
	day, in, ok := parseDateInput(f.Release, "Release date", "Enter the release date")
	f.Release = in
	if !ok {
		errs = append(errs, FieldError{Field: in.errorField("release"), Message: in.Message})
	} else if m := clockTime.FindStringSubmatch(f.Time); m == nil {
		errs = append(errs, FieldError{Field: "release-time", Message: "Enter the release time in 24-hour format, like 09:30"})
	} else {
		hour, _ := strconv.Atoi(m[1])
		minute, _ := strconv.Atoi(m[2])
		d.Release = time.Date(day.Year(), day.Month(), day.Day(), hour, minute, 0, 0, s.uk)
	}
	return f, d, errs
}

func (s *Server) adminStatisticsCreate(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageStatistics, authz.Object{}) {
		return
	}
	f, d, dateErrs := s.readPublicationForm(r)
	var err error
	var id int64
	if len(dateErrs) > 0 {
		err = s.Statistics.Check(d)
	} else {
		id, err = s.Statistics.Create(r.Context(), s.statisticsActor(r), d)
	}
	if err == nil && len(dateErrs) == 0 {
		http.Redirect(w, r, "/admin/statistics/"+strconv.FormatInt(id, 10)+"?done=created", http.StatusSeeOther)
		return
	}
	errs, ok := fieldErrors(err)
	if err != nil && !ok {
		s.fail(w, r, err)
		return
	}
	// The date fields' own problems replace the draft's about the same dates.
	var keep []FieldError
	for _, e := range errs {
		if dateErrs != nil && (strings.HasPrefix(e.Field, "from-") || strings.HasPrefix(e.Field, "to-") || strings.HasPrefix(e.Field, "release-")) {
			continue
		}
		keep = append(keep, e)
	}
	s.render.Render(w, r, http.StatusUnprocessableEntity, "admin-statistics-new", s.publicationFormPage(r, f, append(keep, dateErrs...)))
}

// adminPublicationForm is what was typed into the forms of a
// publication's admin page.
type adminPublicationForm struct{ Reason, Email string }

// adminPublicationData is what the admins' page of a publication shows.
type adminPublicationData struct {
	Row        publicationRow
	Versions   []stats.Version
	PreRelease []string
	Released   bool
}

// adminPublicationPage renders the admins' page of publication id, with
// status and the form errors given.
func (s *Server) adminPublicationPage(w http.ResponseWriter, r *http.Request, status int, id int64, errs []FieldError, form adminPublicationForm, problem string) {
	p, err := s.Statistics.Get(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	versions, err := s.Statistics.Versions(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list, err := s.Statistics.PreRelease(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg := s.page(r, p.Title)
	pg.Errors = errs
	pg.Form = form
	pg.Problem = problem
	switch r.URL.Query().Get("done") {
	case "created":
		pg.Notice = "Publication created. Preview it, then publish it."
	case "published":
		pg.Notice = "Published. The public sees it from its release date."
	case "revised":
		pg.Notice = "Revision published. The earlier version stays public, marked as superseded."
	case "listed":
		pg.Notice = "Added to the pre-release access list."
	case "unlisted":
		pg.Notice = "Removed from the pre-release access list."
	}
	pg.Data = adminPublicationData{Row: s.publicationRow(p), Versions: versions, PreRelease: list, Released: p.Released(s.now())}
	s.render.Render(w, r, status, "admin-statistics-publication", pg)
}

// adminPublicationID authorises a national admin's action on the
// publication named in the path and returns its id; it has answered when
// ok is false.
func (s *Server) adminPublicationID(w http.ResponseWriter, r *http.Request) (id int64, ok bool) {
	if !s.authorize(w, r, authz.ManageStatistics, authz.Object{}) {
		return 0, false
	}
	if id, ok = pathID(r, "id"); !ok {
		s.notFound(w, r)
	}
	return id, ok
}

// afterPublicationAction answers a change to publication id: its page
// again with what went wrong and what was typed, or a redirect to it
// saying what was done.
func (s *Server) afterPublicationAction(w http.ResponseWriter, r *http.Request, id int64, err error, form adminPublicationForm, done string) {
	if errs, ok := fieldErrors(err); ok {
		s.adminPublicationPage(w, r, http.StatusUnprocessableEntity, id, errs, form, "")
		return
	}
	if apperr.CodeOf(err) == apperr.Conflict {
		s.adminPublicationPage(w, r, http.StatusConflict, id, nil, form, apperr.MessageOf(err))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/statistics/"+strconv.FormatInt(id, 10)+"?done="+done, http.StatusSeeOther)
}

func (s *Server) adminPublication(w http.ResponseWriter, r *http.Request) {
	if id, ok := s.adminPublicationID(w, r); ok {
		s.adminPublicationPage(w, r, http.StatusOK, id, nil, adminPublicationForm{}, "")
	}
}

func (s *Server) adminPublicationPreview(w http.ResponseWriter, r *http.Request) {
	id, ok := s.adminPublicationID(w, r)
	if !ok {
		return
	}
	p, err := s.Statistics.Get(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := s.Statistics.Preview(r.Context(), id)
	if apperr.CodeOf(err) == apperr.Conflict {
		s.adminPublicationPage(w, r, http.StatusConflict, id, nil, adminPublicationForm{}, apperr.MessageOf(err))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := publicationPage{Row: s.publicationRow(p), Preview: true, Latest: p.Versions}
	for _, f := range out.Files {
		if f.Name == stats.HTMLName {
			data.Body = template.HTML(f.Body)
		}
	}
	pg := s.page(r, p.Title)
	pg.Data = data
	s.render.Render(w, r, http.StatusOK, "statistics-publication", pg)
}

func (s *Server) adminPublicationPublish(w http.ResponseWriter, r *http.Request) {
	id, ok := s.adminPublicationID(w, r)
	if !ok {
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		s.adminPublicationPage(w, r, http.StatusUnprocessableEntity, id,
			[]FieldError{{Field: "confirm", Message: "Confirm that you have previewed the publication and want to publish it"}}, adminPublicationForm{}, "")
		return
	}
	err := s.Statistics.Publish(r.Context(), s.statisticsActor(r), id)
	s.afterPublicationAction(w, r, id, err, adminPublicationForm{}, "published")
}

func (s *Server) adminPublicationRevise(w http.ResponseWriter, r *http.Request) {
	id, ok := s.adminPublicationID(w, r)
	if !ok {
		return
	}
	reason := r.PostFormValue("reason")
	_, err := s.Statistics.Revise(r.Context(), s.statisticsActor(r), id, reason)
	s.afterPublicationAction(w, r, id, err, adminPublicationForm{Reason: reason}, "revised")
}

func (s *Server) adminPreReleaseAdd(w http.ResponseWriter, r *http.Request) {
	id, ok := s.adminPublicationID(w, r)
	if !ok {
		return
	}
	email := r.PostFormValue("email")
	err := s.Statistics.AddPreRelease(r.Context(), s.statisticsActor(r), id, email)
	s.afterPublicationAction(w, r, id, err, adminPublicationForm{Email: email}, "listed#prerelease")
}

func (s *Server) adminPreReleaseRemove(w http.ResponseWriter, r *http.Request) {
	id, ok := s.adminPublicationID(w, r)
	if !ok {
		return
	}
	err := s.Statistics.RemovePreRelease(r.Context(), s.statisticsActor(r), id, r.PostFormValue("email"))
	s.afterPublicationAction(w, r, id, err, adminPublicationForm{}, "unlisted#prerelease")
}

// denominatorsData is what the denominators page shows.
type denominatorsData struct {
	Rows []stats.DenominatorRow
	// Problems are the file's bad lines, when a load was refused.
	Problems []stats.RowError
	Loaded   int
}

func (s *Server) denominatorsPage(w http.ResponseWriter, r *http.Request, status int, d denominatorsData, errs []FieldError) {
	rows, err := s.Statistics.Denominators(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Rows = rows
	p := s.page(r, "Denominators for reporting rates")
	p.Errors = errs
	if r.URL.Query().Get("loaded") != "" {
		p.Notice = "Loaded " + r.URL.Query().Get("loaded") + " rows."
	}
	p.Data = d
	s.render.Render(w, r, status, "admin-statistics-denominators", p)
}

func (s *Server) adminDenominators(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageStatistics, authz.Object{}) {
		return
	}
	s.denominatorsPage(w, r, http.StatusOK, denominatorsData{}, nil)
}

func (s *Server) adminDenominatorsLoad(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, authz.ManageStatistics, authz.Object{}) {
		return
	}
	var file interface {
		Read([]byte) (int, error)
		Close() error
	}
	if r.MultipartForm != nil {
		if f, _, err := r.FormFile("file"); err == nil {
			file = f
		}
	}
	if file == nil {
		s.denominatorsPage(w, r, http.StatusUnprocessableEntity, denominatorsData{},
			[]FieldError{{Field: "file", Message: "Choose a CSV file of denominators"}})
		return
	}
	defer file.Close()
	n, err := s.Statistics.LoadDenominators(r.Context(), s.statisticsActor(r), file)
	var rowErrs stats.RowErrors
	if errors.As(err, &rowErrs) {
		s.denominatorsPage(w, r, http.StatusUnprocessableEntity, denominatorsData{Problems: rowErrs},
			[]FieldError{{Field: "file", Message: "The file has problems on " + strconv.Itoa(len(rowErrs)) + " lines, listed below. Correct them and choose the file again"}})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, uploadDenominators+"?loaded="+strconv.Itoa(n), http.StatusSeeOther)
}
