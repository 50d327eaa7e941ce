package account

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/db"
)

// QueuePerPage is how many registrations, and how many requests, one page
// of the approval queue shows.
const QueuePerPage = 50

// QueueCursor marks a place in one list of the approval queue: the waiting
// time and ID of a row. Pages start after (or end before) it, so a deep page
// costs the same as the first and rows decided meanwhile do not shift the
// rest (keyset paging).
type QueueCursor struct {
	Since time.Time
	ID    int64
}

// String encodes the cursor for a query string.
func (c QueueCursor) String() string {
	if c.ID == 0 {
		return ""
	}
	return strconv.FormatInt(c.Since.UnixNano(), 10) + "." + strconv.FormatInt(c.ID, 10)
}

// ParseQueueCursor decodes a cursor from String; ok is false for anything
// else, which callers treat as the first page.
func ParseQueueCursor(s string) (c QueueCursor, ok bool) {
	at, id, found := strings.Cut(s, ".")
	if !found {
		return QueueCursor{}, false
	}
	ns, err1 := strconv.ParseInt(at, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if err1 != nil || err2 != nil || n <= 0 || ns < 0 {
		return QueueCursor{}, false
	}
	return QueueCursor{Since: time.Unix(0, ns).UTC(), ID: n}, true
}

// QueueFilter chooses one page of one list of the approval queue.
type QueueFilter struct {
	// Org is the organisation whose queue it is; "" is every organisation.
	// The caller decides it from the authorisation policy.
	Org string
	// Query matches part of the person's name or email address.
	Query string
	// After starts the page after this row; Before ends it before this
	// row. With neither, the page is the first (the oldest rows).
	After, Before QueueCursor
	// PerPage defaults to QueuePerPage.
	PerPage int
	// Kind, for requests, keeps only role requests or only moves; empty
	// keeps both.
	Kind RequestKind
}

// QueuePage is one page of a list of the approval queue, oldest first.
// Prev and Next are the cursors of the pages either side, zero when there
// is none.
type QueuePage[T any] struct {
	Rows       []T
	Prev, Next QueueCursor
}

func (f QueueFilter) normalise() (QueueFilter, error) {
	var err error
	if f.Query, f.Org, err = normaliseSearch(f.Query, f.Org); err != nil {
		return f, err
	}
	if f.PerPage <= 0 || f.PerPage > MaxPerPage {
		f.PerPage = QueuePerPage
	}
	return f, nil
}

// queuePage reads a keyset page: the query's WHERE clause is completed
// with the filter, the cursor and the order of key (a time expression) and
// id; keep drops rows the caller's policy withholds, reading on until the
// page is full so a page is short only at the end.
func queuePage[T any](ctx context.Context, s *Service, f QueueFilter, qq queueQuery, args []any,
	scan func(rowScanner) (T, time.Time, int64, error), keep func(T) bool) (QueuePage[T], error) {
	var page QueuePage[T]
	f, err := f.normalise()
	if err != nil {
		return page, err
	}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	backward := f.Before.ID != 0
	cursor := f.After
	if backward {
		cursor = f.Before
	}
	type row struct {
		v     T
		since time.Time
		id    int64
	}
	var got []row
	more := false
	base := args
	for len(got) <= f.PerPage {
		args = slices.Clone(base)
		conds := qq.where
		key, id := qq.key, qq.id
		if f.Org != "" {
			conds += " AND " + qq.org + " = " + arg(f.Org)
		}
		if f.Query != "" {
			p := arg("%" + db.EscapeLike(f.Query) + "%")
			op := s.db.Dialect().ILike
			conds += " AND (" + qq.name + " " + op + " " + p + ` ESCAPE '\' OR ` + qq.email + " " + op + " " + p + ` ESCAPE '\')`
		}
		dir, order := ">", " ASC"
		if backward {
			dir, order = "<", " DESC"
		}
		if cursor.ID != 0 {
			t, n := arg(cursor.Since), arg(cursor.ID)
			conds += " AND (" + key + " " + dir + " " + t + " OR (" + key + " = " + t + " AND " + id + " " + dir + " " + n + "))"
		}
		batch := f.PerPage + 1
		q := qq.sel + " WHERE " + conds + " ORDER BY " + key + order + ", " + id + order + " LIMIT " + arg(batch)
		rows, err := s.db.QueryContext(ctx, q, args...)
		if err != nil {
			return page, fmt.Errorf("account: approval queue: %w", err)
		}
		n := 0
		for rows.Next() {
			n++
			v, since, rid, err := scan(rows)
			if err != nil {
				rows.Close()
				return page, fmt.Errorf("account: approval queue: %w", err)
			}
			cursor = QueueCursor{Since: since, ID: rid}
			if keep == nil || keep(v) {
				got = append(got, row{v, since, rid})
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return page, fmt.Errorf("account: approval queue: %w", err)
		}
		if n < batch {
			break
		}
	}
	if len(got) > f.PerPage {
		got, more = got[:f.PerPage], true
	}
	if backward {
		slices.Reverse(got)
	}
	for _, r := range got {
		page.Rows = append(page.Rows, r.v)
	}
	if len(got) == 0 {
		return page, nil
	}
	first, last := got[0], got[len(got)-1]
	switch {
	case backward:
		// Reached from a later page, so there is one after; one before only
		// when more rows were found.
		page.Next = QueueCursor{Since: last.since, ID: last.id}
		if more {
			page.Prev = QueueCursor{Since: first.since, ID: first.id}
		}
	default:
		if f.After.ID != 0 {
			page.Prev = QueueCursor{Since: first.since, ID: first.id}
		}
		if more {
			page.Next = QueueCursor{Since: last.since, ID: last.id}
		}
	}
	return page, nil
}

// queueQuery is the SQL of one list of the queue, fixed text only: sel is
// the SELECT and FROM, where the condition for waiting rows, key and id the
// order, org the organisation column and name and email the searched ones.
type queueQuery struct{ sel, where, key, id, org, name, email string }

// registrationKey is when a registration started waiting: when its email
// address was confirmed (the creation time if that is missing), the same
// on both engines whatever their order of NULLs.
const registrationKey = `COALESCE(u.email_verified_at, u.created_at)`

// RegistrationWaitingSince is when a registration started waiting for
// approval: when its address was confirmed, or its creation when that is
// missing.
func RegistrationWaitingSince(u User) time.Time {
	if u.EmailVerifiedAt != nil {
		return *u.EmailVerifiedAt
	}
	return u.CreatedAt
}

// PendingRegistrationPage returns one page of the verified registrations
// waiting for approval that f chooses, oldest first. keep, when not nil,
// drops those the caller may not decide. Errors: Invalid for a bad
// organisation code.
func (s *Service) PendingRegistrationPage(ctx context.Context, f QueueFilter, keep func(User) bool) (QueuePage[User], error) {
	qq := queueQuery{sel: `SELECT o.name, ` + userColumns + ` FROM users u JOIN organisations o ON o.ods_code = u.org_ods`,
		where: "u.status = $1", key: registrationKey, id: "u.id", org: "u.org_ods", name: "u.name", email: "u.email"}
	return queuePage(ctx, s, f, qq, []any{StatusPending},
		func(r rowScanner) (User, time.Time, int64, error) {
			var orgName string
			u, err := scanUser(prefixScanner{r, []any{&orgName}})
			u.OrgName = orgName
			return u, RegistrationWaitingSince(u), u.ID, err
		}, keep)
}

// PendingRequestPage returns one page of the pending role requests and
// organisation moves that f chooses (for moves, f.Org is the organisation
// joined), oldest first. keep, when not nil, drops those the caller may not
// decide. Errors: Invalid for a bad organisation code.
func (s *Service) PendingRequestPage(ctx context.Context, f QueueFilter, keep func(Request) bool) (QueuePage[Request], error) {
	qq := queueQuery{sel: `SELECT ` + requestColumns + requestFrom,
		where: "r.status = $1", key: "r.created_at", id: "r.id", org: "r.org_ods", name: "u.name", email: "u.email"}
	args := []any{ReqPending}
	switch f.Kind {
	case "":
	case KindRole, KindOrgMove:
		qq.where += " AND r.kind = $2"
		args = append(args, f.Kind)
	default:
		return QueuePage[Request]{}, apperr.New(apperr.Invalid, fmt.Sprintf("There is no kind of request called %q.", f.Kind))
	}
	return queuePage(ctx, s, f, qq, args,
		func(r rowScanner) (Request, time.Time, int64, error) {
			req, err := scanRequest(r)
			return req, req.CreatedAt, req.ID, err
		}, keep)
}
