package web

import (
	"strings"
	"testing"
)

// TestAProblemHeadsTheErrorSummaryAndIsNeverASuccess: what is wrong with a
// form as a whole is an error (the summary, "Error:" in the title), never
// the green success banner, with or without field errors.
func TestAProblemHeadsTheErrorSummaryAndIsNeverASuccess(t *testing.T) {
	rd, _ := testRenderer(t)
	for _, errs := range [][]FieldError{nil, {{Field: "description", Message: "Enter what happened"}}} {
		body := render(t, rd, 422, "home", Page{Title: "x", Problem: "The form was sent too quickly", Errors: errs}).Body.String()
		summary, _, _ := strings.Cut(body[strings.Index(body, `class="nhsuk-error-summary"`)+1:], "</div>\n</div>")
		if !strings.Contains(summary, "<p>The form was sent too quickly</p>") || strings.Contains(body, "notification-banner--success") {
			t.Errorf("with %d field errors: the problem is not in the error summary", len(errs))
		}
		if len(errs) > 0 && !strings.Contains(summary, `<a href="#description">Enter what happened</a>`) {
			t.Error("the field errors are not listed after the problem")
		}
		if !strings.Contains(body, "<title>Error: ") {
			t.Error("the title does not start with Error:")
		}
	}
}

// TestImportantIsABannerThatIsNotASuccess: hidden characters removed from
// a form are reported in an "Important" banner, not as a success.
func TestImportantIsABannerThatIsNotASuccess(t *testing.T) {
	rd, _ := testRenderer(t)
	body := render(t, rd, 200, "home", Page{Title: "x", Important: cleanedMessage}).Body.String()
	if !strings.Contains(body, ">Important</h2>") || !strings.Contains(body, cleanedMessage) || strings.Contains(body, "notification-banner--success") {
		t.Error("the important message is not in its own banner")
	}
}
