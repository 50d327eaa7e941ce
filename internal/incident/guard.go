package incident

import (
	"slices"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/pii"
	"github.com/psims/psims/internal/textcheck"
)

// checkAnswers runs the identifier guard over every value of every answer
// (T12): codes pass untouched, and any text that could identify someone is
// refused with one field error per finding, saying what kind it is and
// where (which sentence, and the words it starts with), never what it is.
// Text with hidden control characters (see internal/textcheck) is refused
// too, so no way in can store a NUL. Nothing is stored until the answers
// are clean.
func checkAnswers(answers Answers) error {
	keys := make([]string, 0, len(answers))
	for k := range answers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var problems apperr.Fields
	for _, k := range keys {
		for _, v := range answers[k] {
			if !textcheck.Valid(v) {
				problems.Add(k, textcheck.Message("Your answer"))
				continue
			}
			found := pii.Scan(v)
			for _, f := range found {
				problems.Add(k, pii.Message(v, f, found, ""))
			}
		}
	}
	return problems.Err()
}
