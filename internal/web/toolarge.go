package web

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"

	"github.com/psims/psims/internal/incident/form"
	"github.com/psims/psims/internal/numfmt"
)

// tooLargeData is what the "too large" page shows.
type tooLargeData struct {
	Limit string // the most a form may hold, such as "1 MB"
	// Field names the box that held the most text, in words a person
	// can use ("your answer"); empty when no box stood out.
	Field string
	// Size is roughly how much that box held, such as "more than 900,000
	// characters".
	Size string
}

// formTooLarge answers a form post over maxFormBytes with 413 and a page
// that says which box held too much. read is the start of the body, as far
// as it was read; the box named is the longest value found in it (the
// body is URL-encoded, so its length is an upper bound on the characters
// typed). Nothing of the body is logged.
func (s *Server) formTooLarge(w http.ResponseWriter, r *http.Request, read []byte) {
	p := s.page(r, "What you sent was too large")
	data := tooLargeData{Limit: fmt.Sprintf("%d MB", maxFormBytes>>20)}
	if name, size := longestField(read); name != "" && size >= maxFormBytes/4 {
		data.Field = s.fieldLabel(name)
		data.Size = "more than " + numfmt.Thousands(size/1000*1000) + " characters"
	}
	p.Data = data
	s.render.Render(w, r, http.StatusRequestEntityTooLarge, "form-too-large", p)
}

// longestField finds, in the start of a URL-encoded body, the field whose
// value takes the most bytes, and how many.
func longestField(body []byte) (name string, size int) {
	for part := range bytes.SplitSeq(body, []byte("&")) {
		k, v, _ := bytes.Cut(part, []byte("="))
		if len(v) <= size {
			continue
		}
		n, err := url.QueryUnescape(string(k))
		if err != nil || n == "csrf_token" {
			continue
		}
		name, size = n, len(v)
	}
	return name, size
}

// fieldLabel names a form field the way the page showing it does. Field
// names are those of our own forms; one we do not know is called "one of
// the boxes", never repeated as sent.
func (s *Server) fieldLabel(name string) string {
	switch name {
	case form.FieldAnswer:
		return "your answer"
	case "reason":
		return "the reason you gave"
	case "justification":
		return "the reason for your request"
	case "body":
		return "the text of the document"
	case "summary":
		return "the summary of what changed"
	case "orgs":
		return "the list of organisations"
	case "name":
		return "your name"
	case "job_role":
		return "your job role"
	}
	if st, ok := form.Find(s.forms.PublicPage(), name); ok {
		return fmt.Sprintf("your answer to “%s”", st.Question.Label)
	}
	return "one of the boxes"
}
