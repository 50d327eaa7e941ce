package newsletter

import (
	"strconv"
	"strings"

	"github.com/psims/psims/internal/secret"
	"github.com/psims/psims/internal/terms"
)

// An unsubscribe token names a person and the consent a link withdraws,
// signed with the server's key: "ID.PURPOSE.MAC", where MAC is
// secret.Sign(key, "unsubscribe", ID, PURPOSE). Nothing is stored for it:
// the signature is the authority, checked in constant time, so a token
// cannot be made for anyone else or for another purpose. It does not
// expire, as RFC 8058 expects of a List-Unsubscribe address: withdrawing
// a consent twice does no harm.

// maxTokenLength bounds what ParseToken reads.
const maxTokenLength = 200

// tokenPurposes are the consents a token may withdraw.
var tokenPurposes = []terms.Purpose{terms.Newsletter, terms.Research}

// Token is the unsubscribe token of user for purpose, signed with key.
func Token(key []byte, userID int64, purpose terms.Purpose) string {
	id := strconv.FormatInt(userID, 10)
	return id + "." + string(purpose) + "." + secret.Sign(key, "unsubscribe", id, string(purpose))
}

// ParseToken checks a token made by Token with key and returns the person
// and purpose it names; ok is false for anything else (malformed, another
// key, changed in any way). It never panics.
func ParseToken(key []byte, token string) (userID int64, purpose terms.Purpose, ok bool) {
	if len(token) > maxTokenLength || len(key) == 0 {
		return 0, "", false
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return 0, "", false
	}
	id, p, mac := parts[0], terms.Purpose(parts[1]), parts[2]
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != id {
		return 0, "", false
	}
	known := false
	for _, tp := range tokenPurposes {
		known = known || tp == p
	}
	if !known || !secret.Verify(key, mac, "unsubscribe", id, string(p)) {
		return 0, "", false
	}
	return n, p, true
}
