package password

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/psims/psims/internal/apperr"
	"github.com/trustelem/zxcvbn"
	"github.com/trustelem/zxcvbn/frequency"
	"github.com/trustelem/zxcvbn/match"
)

// Lengths the policy allows, counted in characters (runes).
const (
	MinLength = 15
	MaxLength = 256
)

// MinScore is the lowest zxcvbn score (0 to 4) a new password may have: 3
// means about 10^8 guesses or more.
const MinScore = 3

// strengthPrefix is how much of a password zxcvbn looks at. Its matching
// grows faster than linearly with length; a password whose first 100
// characters are strong is strong, and a weak start is still found.
const strengthPrefix = 100

// Policy decides whether a new password is acceptable, following NIST SP
// 800-63B revision 4: a minimum length, no composition rules, and a check
// against passwords that are common or easy to guess. It is safe for
// concurrent use.
type Policy struct {
	common map[string]struct{}
}

// NewPolicy returns the policy, with the common password list of zxcvbn
// loaded into a set.
func NewPolicy() *Policy {
	list := frequency.FrequencyLists["passwords"]
	common := make(map[string]struct{}, len(list))
	for _, p := range list {
		common[p] = struct{}{}
	}
	return &Policy{common: common}
}

// Check returns nil when plain is acceptable as the password of the person
// with this email address and name, and otherwise an *apperr.Error with code
// Invalid whose message says why and what to do instead.
func (p *Policy) Check(plain, email, name string) error {
	n := utf8.RuneCountInString(plain)
	switch {
	case n == 0:
		return invalid("Enter a password.")
	case n < MinLength:
		return invalid("Your password must be at least 15 characters. Try a few unrelated words together, such as 'lamp orbit cactus river'.")
	case n > MaxLength:
		return invalid("Your password must be 256 characters or fewer.")
	case !utf8.ValidString(plain):
		return invalid("Your password contains characters we cannot read. Use letters, numbers, spaces and symbols.")
	}
	for _, r := range plain {
		if unicode.IsControl(r) {
			return invalid("Your password contains a character that cannot be typed, such as a tab or line break. Remove it and try again.")
		}
	}
	// Email and name come from validated fields; capping them here keeps
	// the work bounded whatever a caller passes.
	email, name = clipRunes(email, MaxLength), clipRunes(name, MaxLength)
	lower := strings.ToLower(plain)
	if _, ok := p.common[lower]; ok {
		return invalid("Your password is on a list of passwords that are often used. Try a few unrelated words together.")
	}
	if madeFrom(lower, emailWords(email)) {
		return invalid("Your password is too easy to guess because it is made from your email address. Try a few unrelated words together.")
	}
	if madeFrom(lower, nameWords(name)) {
		return invalid("Your password is too easy to guess because it is made from your name. Try a few unrelated words together.")
	}
	if repetitive(lower) {
		return invalid("Your password is too easy to guess because it repeats characters or follows a sequence, like 'aaaa' or '1234'. Try a few unrelated words together.")
	}

	analysed := clipRunes(plain, strengthPrefix)
	inputs := append(emailWords(email), nameWords(name)...)
	res := zxcvbn.PasswordStrength(analysed, inputs)
	if res.Score >= MinScore {
		return nil
	}
	return invalid(weakMessage(res.Sequence))
}

// clipRunes returns the first n runes of s.
func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

func invalid(msg string) error { return apperr.New(apperr.Invalid, msg) }

// weakMessage explains a low score by the kind of pattern that covers most
// of the password.
func weakMessage(seq []*match.Match) string {
	covered := map[string]int{}
	for _, m := range seq {
		kind := m.Pattern
		if m.Pattern == "dictionary" && m.DictionaryName == "user_inputs" {
			kind = "user_inputs"
		}
		covered[kind] += m.J - m.I + 1
	}
	best, most := "", 0
	for _, kind := range []string{"user_inputs", "dictionary", "spatial", "repeat", "sequence", "date", "regex"} {
		if covered[kind] > most {
			best, most = kind, covered[kind]
		}
	}
	const try = " Try a few unrelated words together, or add more words."
	switch best {
	case "user_inputs":
		return "Your password is too easy to guess because it uses your name or email address." + try
	case "dictionary":
		return "Your password is too easy to guess because it is made of common words, names or passwords." + try
	case "spatial":
		return "Your password is too easy to guess because it follows a pattern of keys on a keyboard." + try
	case "repeat", "sequence":
		return "Your password is too easy to guess because it repeats characters or follows a sequence." + try
	case "date", "regex":
		return "Your password is too easy to guess because it is mostly dates or years." + try
	}
	return "Your password is too easy to guess." + try
}

// emailWords returns the local part of email and its pieces split at dots,
// dashes, underscores and plus signs, lower-cased.
func emailWords(email string) []string {
	local, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(email)), "@")
	return words(local, func(r rune) bool { return r == '.' || r == '-' || r == '_' || r == '+' })
}

// nameWords returns the name with its spaces removed and each of its words,
// lower-cased.
func nameWords(name string) []string {
	name = strings.ToLower(strings.TrimSpace(name))
	return words(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// words returns whole (with separators removed) and its pieces of three
// characters or more.
func words(whole string, sep func(rune) bool) []string {
	pieces := strings.FieldsFunc(whole, sep)
	joined := strings.Join(pieces, "")
	var out []string
	if utf8.RuneCountInString(joined) >= 3 {
		out = append(out, joined)
	}
	for _, p := range pieces {
		if utf8.RuneCountInString(p) >= 3 && p != joined {
			out = append(out, p)
		}
	}
	return out
}

// madeFrom reports whether a lower-cased password is mostly the given words:
// after removing every occurrence of them, and everything that is not a
// letter, fewer than 8 letters are left. "Jane.Smith2024!!!!" is made from
// jane.smith; "jane likes purple otters" is not.
func madeFrom(lower string, ws []string) bool {
	if len(ws) == 0 {
		return false
	}
	letters := lettersOnly(lower)
	found := false
	for _, w := range ws {
		w = lettersOnly(w)
		if utf8.RuneCountInString(w) < 3 {
			continue
		}
		if strings.Contains(letters, w) {
			found = true
			letters = strings.ReplaceAll(letters, w, "")
		}
	}
	return found && utf8.RuneCountInString(letters) < 8
}

func lettersOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) {
			return r
		}
		return -1
	}, s)
}

// repetitive reports whether s is one short unit repeated ("abcabcabc…"),
// uses fewer than five different characters, or is a run of consecutive
// characters going up or down ("123456…", "zyxw…").
func repetitive(s string) bool {
	rs := []rune(s)
	distinct := map[rune]bool{}
	for _, r := range rs {
		distinct[r] = true
	}
	if len(distinct) < 5 {
		return true
	}
	for unit := 1; unit <= len(rs)/2; unit++ {
		if len(rs)%unit != 0 {
			continue
		}
		same := true
		for i := unit; i < len(rs) && same; i++ {
			same = rs[i] == rs[i-unit]
		}
		if same {
			return true
		}
	}
	steps := 0
	for i := 1; i < len(rs); i++ {
		d := rs[i] - rs[i-1]
		// Digits wrap: "…7890123…" is still a sequence.
		if d == 1 || d == -1 || (rs[i-1] == '9' && rs[i] == '0') || (rs[i-1] == '0' && rs[i] == '9') {
			steps++
		}
	}
	return steps >= len(rs)-2
}
