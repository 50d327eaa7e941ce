package web

import (
	"context"
	"strconv"
	"unicode/utf8"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/org"
)

// This file makes every organisation box take either an ODS code or part
// of a name (issue 11 item 10). A form sent with text in the box and no
// organisation chosen from a list (Enter pressed in the box sends the
// form's main button, without JavaScript) searches instead of refusing
// the text as a badly made code.

// minOrgSearch is the shortest text searched for as a name: as short as the
// shortest ODS code, and long enough to narrow thousands of names.
const minOrgSearch = 3

// orgQueryProblem says what is wrong with text typed in an organisation box
// when no organisation was chosen from a list: "" when the text is blank
// or shorter than minOrgSearch,
// is the code of an organisation, or looks like a code and matches nothing
// (the caller's own message stands); otherwise it asks the person to pick
// from the matches, which the page shows, or says no name matches.
func (s *Server) orgQueryProblem(ctx context.Context, query string) (string, error) {
	if utf8.RuneCountInString(query) < minOrgSearch {
		// Too short to name anything: the caller's message stands.
		return "", nil
	}
	code, err := org.ParseCode(query)
	isCode := err == nil
	if isCode {
		_, err := s.Orgs.Get(ctx, code)
		if err == nil {
			return "", nil
		}
		if apperr.CodeOf(err) != apperr.NotFound {
			return "", err
		}
	}
	matches, err := s.Orgs.Search(ctx, query, 1)
	if err != nil {
		return "", err
	}
	switch {
	case len(matches) > 0:
		return "Select the organisation from the list, or enter its ODS code", nil
	case isCode:
		// Shaped like a code and found nowhere: the form's own message
		// ("No organisation has the ODS code ...") says it best.
		return "", nil
	}
	return "No organisation matches “" + query + "”. Check the spelling, or enter its ODS code, like RM1", nil
}

// replaceFieldError gives field the message instead of the errors it has;
// errs without one for field are returned with it added.
func replaceFieldError(errs []FieldError, field, message string) []FieldError {
	out := make([]FieldError, 0, len(errs)+1)
	added := false
	for _, e := range errs {
		if e.Field != field {
			out = append(out, e)
			continue
		}
		if !added {
			out = append(out, FieldError{Field: field, Message: message})
			added = true
		}
	}
	if !added {
		out = append(out, FieldError{Field: field, Message: message})
	}
	return out
}

// orgFilterMatches is how many organisations an admin list's organisation
// filter offers when a name matches several.
const orgFilterMatches = 10

// orgFilter reads the organisation filter of an admin list, which takes an
// ODS code or part of a name: the code of the organisation meant, or a
// problem to show with the organisations the name matches (to choose one
// from). A well-formed code that is no organisation's, and names nothing,
// is kept as it is, and finds nothing.
func (s *Server) orgFilter(ctx context.Context, text string) (code string, matches []org.Organisation, problem string, err error) {
	parsed, perr := org.ParseCode(text)
	if perr == nil {
		_, err := s.Orgs.Get(ctx, parsed)
		if err == nil {
			return parsed.String(), nil, "", nil
		}
		if apperr.CodeOf(err) != apperr.NotFound {
			return "", nil, "", err
		}
	}
	if utf8.RuneCountInString(text) >= minOrgSearch {
		matches, err = s.Orgs.Search(ctx, text, orgFilterMatches+1)
		if err != nil {
			return "", nil, "", err
		}
	}
	switch {
	case len(matches) == 1:
		return matches[0].Code.String(), nil, "", nil
	case len(matches) > 1:
		more := ""
		if len(matches) > orgFilterMatches {
			matches, more = matches[:orgFilterMatches], " (the first "+strconv.Itoa(orgFilterMatches)+" are listed)"
		}
		return "", matches, "More than one organisation matches “" + text + "”" + more + ". Choose one, or enter its ODS code", nil
	case perr == nil:
		return parsed.String(), nil, "", nil
	}
	return "", nil, "No organisation matches “" + text + "”. Enter its ODS code, like RM1, or part of its name", nil
}
