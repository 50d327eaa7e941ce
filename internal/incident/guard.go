package incident

import (
	"slices"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/pii"
)

// checkAnswers runs the identifier guard over every value of every answer
// (T12): codes pass untouched, and any text that could identify someone is
// refused with one field error per finding, saying what kind it is and
// where, never what it is. Nothing is stored until the answers are clean.
func checkAnswers(answers Answers) error {
	keys := make([]string, 0, len(answers))
	for k := range answers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var problems apperr.Fields
	for _, k := range keys {
		for _, v := range answers[k] {
			for _, f := range pii.Scan(v) {
				problems.Add(k, "Remove "+pii.Describe(v, f)+". Nothing that could identify a person can be recorded")
			}
		}
	}
	return problems.Err()
}
