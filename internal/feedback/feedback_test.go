package feedback_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/feedback"
	"github.com/psims/psims/internal/jobs"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/ratelimit"
)

// monday0900 is a Monday morning in London (GMT), where the tests' clock
// starts.
var monday0900 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// fixture is a service on a fresh database with a clock the test moves,
// an outbox nobody sends, a reporter, another reporter and two national
// admins.
type fixture struct {
	db               *db.DB
	svc              *feedback.Service
	outbox           *mail.Outbox
	now              time.Time
	ann, bob         int64 // reporters
	admin, colleague int64 // national admins
}

func newFixture(t *testing.T, d *db.DB, rate int) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: d, now: monday0900}
	d.SetClock(func() time.Time { return f.now })
	runner, err := jobs.New(d, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.outbox = mail.NewOutbox(d, runner, nil)
	f.svc = feedback.NewService(d, ratelimit.New(d), f.outbox, "https://psims.example/account/queries", rate)
	if _, err := d.ExecContext(ctx, `INSERT INTO organisations (ods_code, name, created_at, updated_at) VALUES ('RM1', 'Test trust', $1, $1)`, f.now); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		id         *int64
		name, role string
	}{{&f.ann, "Ann Reporter", "reporter"}, {&f.bob, "Bob Reporter", "reporter"},
		{&f.admin, "Ada Admin", "national-admin"}, {&f.colleague, "Cal Admin", "national-admin"}} {
		email := strings.ToLower(strings.ReplaceAll(u.name, " ", ".")) + "@nhs.net"
		err := d.WriteRowContext(ctx, `INSERT INTO users (email, name, job_role, org_ods, role, status, password_hash, created_at, updated_at)
			VALUES ($1, $2, 'Nurse', 'RM1', $3, 'active', 'x', $4, $4) RETURNING id`, email, u.name, u.role, f.now).Scan(u.id)
		if err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fixture) send(t *testing.T, userID int64, kind feedback.Kind, text string, mayReply bool) feedback.Item {
	t.Helper()
	it, err := f.svc.Send(context.Background(), feedback.Submission{UserID: userID, Kind: kind, Text: text, Page: "/events/new", MayReply: mayReply})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	return it
}

func (f *fixture) as(id int64) feedback.Action { return feedback.Action{ActorID: id, IP: "192.0.2.1"} }

func (f *fixture) thread(t *testing.T, id int64) feedback.Thread {
	t.Helper()
	th, err := f.svc.Thread(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return th
}

func (f *fixture) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := f.db.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) audited(t *testing.T, id int64) []string {
	t.Helper()
	rows, err := audit.List(context.Background(), f.db, "feedback", strconv.FormatInt(id, 10), 50)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(rows) - 1; i >= 0; i-- {
		out = append(out, rows[i].Action)
	}
	return out
}

// Feedback and questions are stored with the page they came from (path
// only) and listed for their sender alone, newest first. // P3
func TestSendingStoresTheItemForItsSender(t *testing.T) { // P3
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, 0)
		ctx := context.Background()
		first, err := f.svc.Send(ctx, feedback.Submission{UserID: f.ann, Kind: feedback.Feedback,
			Text: "  The date boxes are hard to use.\r\nPlease make them bigger.  ", Page: "/events/new?q=secret#top", MayReply: false})
		if err != nil {
			t.Fatal(err)
		}
		if first.Page != "/events/new" || first.Text != "The date boxes are hard to use.\nPlease make them bigger." || first.Status != feedback.StatusNew {
			t.Errorf("stored %+v", first)
		}
		if !strings.HasPrefix(first.Reference(), "FB-") {
			t.Errorf("reference %q", first.Reference())
		}
		f.now = f.now.Add(time.Minute)
		second, err := f.svc.Send(ctx, feedback.Submission{UserID: f.ann, Kind: feedback.Question, Text: "How do I change my organisation?",
			Page: "//evil.example/phish", MayReply: true})
		if err != nil {
			t.Fatal(err)
		}
		if second.Page != "" {
			t.Errorf("a page that is not a local path was kept: %q", second.Page)
		}
		f.send(t, f.bob, feedback.Question, "Where is the guidance?", true)

		mine, err := f.svc.Mine(ctx, f.ann)
		if err != nil {
			t.Fatal(err)
		}
		if len(mine) != 2 || mine[0].ID != second.ID || mine[1].ID != first.ID {
			t.Fatalf("Ann's list: %+v", mine)
		}
		if mine[0].UserName != "Ann Reporter" || !mine[0].MayReply || mine[0].Kind != feedback.Question {
			t.Errorf("Ann's question: %+v", mine[0])
		}
		th := f.thread(t, first.ID)
		if th.UserID != f.ann || th.Text != first.Text || len(th.Replies) != 0 {
			t.Errorf("thread: %+v", th)
		}
		if _, err := f.svc.Thread(ctx, 999999); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("a missing thread: %v", err)
		}
	})
}

// Text that could identify someone, or that is empty, too long or holds
// hidden characters, is refused with a field error, and nothing is stored
// or counted against the sender's limit. // P3, T12
func TestSendingRefusesIdentifiersAndBadText(t *testing.T) { // P3, T12
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, 1)
		ctx := context.Background()
		for name, sub := range map[string]feedback.Submission{
			"an NHS number":      {Kind: feedback.Question, Text: "Why was the record for NHS number 943 476 5919 refused?"},
			"an email address":   {Kind: feedback.Feedback, Text: "Write to the patient at jo.bloggs@example.com please"},
			"nothing":            {Kind: feedback.Feedback, Text: "  \r\n "},
			"too much":           {Kind: feedback.Feedback, Text: strings.Repeat("a", feedback.MaxLength+1)},
			"a hidden character": {Kind: feedback.Feedback, Text: "Hello\x00there"},
		} {
			sub.UserID = f.ann
			_, err := f.svc.Send(ctx, sub)
			var fields apperr.Fields
			if apperr.CodeOf(err) != apperr.Invalid || !asFields(err, &fields) || fields[0].Field != "text" {
				t.Errorf("%s: %v, want a field error on text", name, err)
			}
		}
		if _, err := f.svc.Send(ctx, feedback.Submission{UserID: f.ann, Kind: "complaint", Text: "Fine"}); !hasField(err, "kind") {
			t.Errorf("an unknown kind: %v", err)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM feedback_items`); n != 0 {
			t.Fatalf("%d items stored from refused text", n)
		}
		// The limit (one an hour here) was not touched by the refusals.
		f.send(t, f.ann, feedback.Feedback, strings.Repeat("a", feedback.MaxLength), false)
	})
}

func asFields(err error, out *apperr.Fields) bool {
	f, ok := err.(apperr.Fields)
	if ok {
		*out = f
	}
	return ok && len(f) > 0
}

func hasField(err error, field string) bool {
	var fields apperr.Fields
	if !asFields(err, &fields) {
		return false
	}
	for _, fe := range fields {
		if fe.Field == field {
			return true
		}
	}
	return false
}

// Each person may send only so many items an hour; the refusal says how
// long to wait, and another person is not held back. // P3
func TestSendingIsRateLimitedPerUser(t *testing.T) { // P3
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, 3)
		ctx := context.Background()
		for i := range 3 {
			f.send(t, f.ann, feedback.Feedback, "Suggestion number "+strconv.Itoa(i+1), false)
		}
		_, err := f.svc.Send(ctx, feedback.Submission{UserID: f.ann, Kind: feedback.Feedback, Text: "One too many"})
		if apperr.CodeOf(err) != apperr.RateLimited || !strings.Contains(apperr.MessageOf(err), "20 minutes") {
			t.Fatalf("the fourth in an hour: %v, want rate limited for 20 minutes", err)
		}
		f.send(t, f.bob, feedback.Feedback, "Bob has his own allowance", false)
		// A token comes back every 20 minutes.
		f.now = f.now.Add(20 * time.Minute)
		f.send(t, f.ann, feedback.Feedback, "Sent after waiting", false)
		if n := f.count(t, `SELECT COUNT(*) FROM feedback_items WHERE user_id = $1`, f.ann); n != 4 {
			t.Errorf("%d of Ann's items stored, want 4", n)
		}
	})
}

// A reply is kept in the thread and marks the item answered; when the
// sender agreed, it is emailed to their account's address through the
// outbox in the same transaction, with the reply and a link to the
// thread; otherwise nothing is emailed. Every reply is audited. // P8
func TestRepliesAreKeptAndEmailedOnlyWithPermission(t *testing.T) { // P8
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, 0)
		ctx := context.Background()
		question := f.send(t, f.ann, feedback.Question, "How do I record a near miss?", true)
		silent := f.send(t, f.bob, feedback.Feedback, "Thank you for the new form.", false)

		f.now = f.now.Add(time.Hour)
		r, err := f.svc.Reply(ctx, f.as(f.admin), question.ID, "Choose \"Incident\".\r\nThen answer \"no harm\".")
		if err != nil {
			t.Fatal(err)
		}
		if !r.Emailed {
			t.Error("the reply to someone who agreed was not emailed")
		}
		th := f.thread(t, question.ID)
		if th.Status != feedback.StatusAnswered || len(th.Replies) != 1 || th.Replies[0].Text != "Choose \"Incident\".\nThen answer \"no harm\"." ||
			th.Replies[0].AuthorName != "Ada Admin" || !th.Replies[0].CreatedAt.Equal(f.now) {
			t.Fatalf("thread after the reply: %+v", th)
		}
		mails, err := f.outbox.List(ctx, "ann.reporter@nhs.net", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(mails) != 1 || !strings.Contains(mails[0].Subject, question.Reference()) {
			t.Fatalf("mail to Ann: %+v", mails)
		}
		for _, want := range []string{"Choose \"Incident\".", "Then answer \"no harm\".", "https://psims.example/account/queries/" + strconv.FormatInt(question.ID, 10)} {
			if !strings.Contains(mails[0].Text, want) {
				t.Errorf("the email lacks %q:\n%s", want, mails[0].Text)
			}
		}
		if strings.Contains(mails[0].Text, "near miss") {
			t.Error("the email repeats what the sender wrote")
		}

		r, err = f.svc.Reply(ctx, f.as(f.colleague), silent.ID, "Thank you, we have passed this on.")
		if err != nil {
			t.Fatal(err)
		}
		if r.Emailed {
			t.Error("a reply was emailed to someone who did not agree")
		}
		if n := f.count(t, `SELECT COUNT(*) FROM outbox WHERE to_addr = 'bob.reporter@nhs.net'`); n != 0 {
			t.Errorf("%d emails to Bob", n)
		}
		if th := f.thread(t, silent.ID); th.Status != feedback.StatusAnswered || len(th.Replies) != 1 || th.Replies[0].Emailed {
			t.Errorf("Bob's thread: %+v", th)
		}
		if got := f.audited(t, question.ID); len(got) != 1 || got[0] != "feedback.reply" {
			t.Errorf("audit of the reply: %v", got)
		}

		// The guard applies to replies too, and a refused reply changes
		// nothing.
		_, err = f.svc.Reply(ctx, f.as(f.admin), question.ID, "Your NHS number 943 476 5919 is on file.")
		if !hasField(err, "reply") {
			t.Errorf("a reply with an NHS number: %v", err)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM feedback_replies WHERE item_id = $1`, question.ID); n != 1 {
			t.Errorf("%d replies after a refused one, want 1", n)
		}
		if _, err := f.svc.Reply(ctx, f.as(f.admin), 999999, "Hello"); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("a reply to nothing: %v", err)
		}
	})
}

// Statuses move only as the rules say: a reply answers, closing closes
// what is open, reopening makes a closed item new again and restarts its
// wait, a closed item takes no reply, and nobody sets "answered" by hand.
// Each change is audited. // P8
func TestStatusRules(t *testing.T) { // P8
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, 0)
		ctx := context.Background()
		it := f.send(t, f.ann, feedback.Question, "Can I print a record?", false)
		by := f.as(f.admin)
		if err := f.svc.SetStatus(ctx, by, it.ID, feedback.StatusAnswered); apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("answered by hand: %v", err)
		}
		if err := f.svc.SetStatus(ctx, by, it.ID, feedback.StatusNew); apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("reopening what is not closed: %v", err)
		}
		if err := f.svc.SetStatus(ctx, by, it.ID, feedback.StatusClosed); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetStatus(ctx, by, it.ID, feedback.StatusClosed); apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("closing twice: %v", err)
		}
		if _, err := f.svc.Reply(ctx, by, it.ID, "Yes."); apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("a reply to a closed item: %v", err)
		}
		f.now = f.now.AddDate(0, 0, 10)
		if err := f.svc.SetStatus(ctx, by, it.ID, feedback.StatusNew); err != nil {
			t.Fatal(err)
		}
		if th := f.thread(t, it.ID); th.Status != feedback.StatusNew || !th.WaitingSince.Equal(f.now) {
			t.Errorf("after reopening: status %s, waiting since %v, want new since %v", th.Status, th.WaitingSince, f.now)
		}
		if _, err := f.svc.Reply(ctx, by, it.ID, "Yes, from the event page."); err != nil {
			t.Fatal(err)
		}
		if th := f.thread(t, it.ID); th.Status != feedback.StatusAnswered {
			t.Errorf("after the reply: %s", th.Status)
		}
		if err := f.svc.SetStatus(ctx, by, it.ID, feedback.StatusClosed); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetStatus(ctx, by, 999999, feedback.StatusClosed); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("closing nothing: %v", err)
		}
		want := []string{"feedback.close", "feedback.reopen", "feedback.reply", "feedback.close"}
		if got := f.audited(t, it.ID); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("audited %v, want %v", got, want)
		}
	})
}

// Items are assigned to active national admins only, or to nobody, and
// the inbox filters by kind, status and assignment. // P8
func TestAssignmentAndInboxFilters(t *testing.T) { // P8
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, 100)
		ctx := context.Background()
		q1 := f.send(t, f.ann, feedback.Question, "First question", true)
		fb := f.send(t, f.ann, feedback.Feedback, "Some feedback", false)
		q2 := f.send(t, f.bob, feedback.Question, "Second question", true)
		if err := f.svc.Assign(ctx, f.as(f.admin), q1.ID, f.bob); !hasField(err, "assignee") {
			t.Errorf("assigning to a reporter: %v", err)
		}
		if err := f.svc.Assign(ctx, f.as(f.admin), 999999, f.admin); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("assigning nothing: %v", err)
		}
		if err := f.svc.Assign(ctx, f.as(f.admin), q1.ID, f.admin); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Assign(ctx, f.as(f.admin), q2.ID, f.colleague); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Assign(ctx, f.as(f.admin), fb.ID, f.admin); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Assign(ctx, f.as(f.admin), fb.ID, 0); err != nil {
			t.Fatal(err)
		}
		if th := f.thread(t, q1.ID); th.AssigneeID != f.admin || th.AssigneeName != "Ada Admin" {
			t.Errorf("q1 assigned to %d %q", th.AssigneeID, th.AssigneeName)
		}
		if got := f.audited(t, fb.ID); strings.Join(got, " ") != "feedback.assign feedback.assign" {
			t.Errorf("audit of assignments: %v", got)
		}
		if _, err := f.svc.Reply(ctx, f.as(f.admin), q1.ID, "Answered."); err != nil {
			t.Fatal(err)
		}
		people, err := f.svc.Assignees(ctx)
		if err != nil || len(people) != 2 || people[0].Name != "Ada Admin" || people[1].Name != "Cal Admin" {
			t.Errorf("assignees: %+v %v", people, err)
		}

		for _, c := range []struct {
			name string
			f    feedback.Filter
			want []int64
		}{
			{"everything", feedback.Filter{}, []int64{q2.ID, fb.ID, q1.ID}},
			{"questions", feedback.Filter{Kind: feedback.Question}, []int64{q2.ID, q1.ID}},
			{"new", feedback.Filter{Status: feedback.StatusNew}, []int64{q2.ID, fb.ID}},
			{"answered questions", feedback.Filter{Kind: feedback.Question, Status: feedback.StatusAnswered}, []int64{q1.ID}},
			{"assigned to me", feedback.Filter{Assigned: feedback.AssignedToMe, ViewerID: f.admin}, []int64{q1.ID}},
			{"assigned to my colleague", feedback.Filter{Assigned: feedback.AssignedToMe, ViewerID: f.colleague}, []int64{q2.ID}},
			{"unassigned", feedback.Filter{Assigned: feedback.AssignedNobody}, []int64{fb.ID}},
		} {
			page, err := f.svc.Inbox(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, it := range page.Items {
				got = append(got, it.ID)
			}
			if page.Total != len(c.want) || !equalIDs(got, c.want) {
				t.Errorf("%s: %v (total %d), want %v", c.name, got, page.Total, c.want)
			}
		}
	})
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The inbox pages 25 at a time; a page past the end shows the last. // P8
func TestInboxPages(t *testing.T) { // P8
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, 100)
		ctx := context.Background()
		for i := range feedback.PerPage + 3 {
			f.send(t, f.ann, feedback.Feedback, "Item "+strconv.Itoa(i), false)
		}
		first, err := f.svc.Inbox(ctx, feedback.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		last, err := f.svc.Inbox(ctx, feedback.Filter{Page: 9})
		if err != nil {
			t.Fatal(err)
		}
		if first.Total != feedback.PerPage+3 || first.Pages() != 2 || len(first.Items) != feedback.PerPage ||
			last.Page != 2 || len(last.Items) != 3 || last.Items[2].Text != "Item 0" {
			t.Errorf("pages: first %d items of %d, last page %d with %d", len(first.Items), first.Total, last.Page, len(last.Items))
		}
	})
}

// Items still new after more than five working days are counted as
// overdue, weekends not counting; answered and closed ones are not, and a
// reopened item's wait starts again. // P8
func TestOverdueCountsWorkingDays(t *testing.T) { // P8
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, 100)
		ctx := context.Background()
		// Sent on Monday 2 March 2026 at 09:00.
		waiting := f.send(t, f.ann, feedback.Question, "Waiting", true)
		answered := f.send(t, f.ann, feedback.Question, "Answered", true)
		closed := f.send(t, f.ann, feedback.Feedback, "Closed", false)
		f.now = time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC) // Tuesday
		later := f.send(t, f.bob, feedback.Question, "Sent a day later", true)
		if _, err := f.svc.Reply(ctx, f.as(f.admin), answered.ID, "Done."); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetStatus(ctx, f.as(f.admin), closed.ID, feedback.StatusClosed); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			at   time.Time
			want int
		}{
			// Five working days from Monday 09:00 end the next Monday
			// at 09:00: the weekend does not count.
			{time.Date(2026, 3, 6, 17, 0, 0, 0, time.UTC), 0}, // Friday
			{time.Date(2026, 3, 8, 23, 0, 0, 0, time.UTC), 0}, // Sunday night
			{time.Date(2026, 3, 9, 8, 59, 0, 0, time.UTC), 0}, // Monday, a minute early
			{time.Date(2026, 3, 9, 9, 1, 0, 0, time.UTC), 1},  // Monday, just past
			{time.Date(2026, 3, 10, 9, 1, 0, 0, time.UTC), 2}, // Tuesday: the later one too
		} {
			n, err := f.svc.Overdue(ctx, c.at)
			if err != nil {
				t.Fatal(err)
			}
			if n != c.want {
				t.Errorf("at %s: %d overdue, want %d", c.at.Format("Mon 2 Jan 15:04"), n, c.want)
			}
		}
		// The inbox shows the count at the database's time.
		f.now = time.Date(2026, 3, 10, 9, 1, 0, 0, time.UTC)
		if page, err := f.svc.Inbox(ctx, feedback.Filter{Status: feedback.StatusAnswered}); err != nil || page.Overdue != 2 {
			t.Errorf("the inbox's overdue count: %d %v, want 2 whatever the filter", page.Overdue, err)
		}
		// Closing and reopening the first starts its wait again.
		if err := f.svc.SetStatus(ctx, f.as(f.admin), waiting.ID, feedback.StatusClosed); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetStatus(ctx, f.as(f.admin), waiting.ID, feedback.StatusNew); err != nil {
			t.Fatal(err)
		}
		if n, err := f.svc.Overdue(ctx, f.now); err != nil || n != 1 {
			t.Errorf("after reopening: %d overdue %v, want 1 (%d)", n, err, later.ID)
		}
	})
}

// Working days skip Saturdays and Sundays; a moment at the weekend counts
// as the end of Friday. // P8
func TestWorkingDaysBefore(t *testing.T) { // P8
	t.Parallel()
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	at := func(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 0, 0, 0, london) }
	for _, c := range []struct {
		name string
		from time.Time
		n    int
		want time.Time
	}{
		{"Wednesday back one", at(4, 10), 1, at(3, 10)},
		{"Monday back one is Friday", at(9, 10), 1, at(6, 10)},
		{"Monday back five is the Monday before", at(9, 10), 5, at(2, 10)},
		{"Tuesday back five is the Tuesday before", at(10, 10), 5, at(3, 10)},
		{"Saturday back one is the start of Friday", at(7, 15), 1, at(6, 0)},
		{"Sunday back five is the start of Monday", at(8, 15), 5, at(2, 0)},
		{"Friday back zero is itself", at(6, 15), 0, at(6, 15)},
		// The clocks go forward on Sunday 29 March 2026: days, not hours.
		{"across the change to summer time", time.Date(2026, 3, 30, 10, 0, 0, 0, london), 1, time.Date(2026, 3, 27, 10, 0, 0, 0, london)},
	} {
		if got := feedback.WorkingDaysBefore(c.from, c.n, london); !got.Equal(c.want) {
			t.Errorf("%s: %s, want %s", c.name, got.Format(time.RFC1123), c.want.Format(time.RFC1123))
		}
	}
}

// The page a message came from is a path of this site and nothing else:
// anything that could send a person elsewhere, or carry what they typed in
// a search, is dropped. // P3
func TestParsePage(t *testing.T) { // P3
	t.Parallel()
	for in, want := range map[string]string{
		"/":                            "/",
		"/events/new":                  "/events/new",
		"/events?q=jo+bloggs":          "/events",
		"/account#sessions":            "/account",
		"/documents/terms/2":           "/documents/terms/2",
		"/javascript:alert(1)":         "/javascript:alert(1)", // a path on this site
		"":                             "",
		"events":                       "",
		"//evil.example":               "",
		"//evil.example/x?y":           "",
		"/\\evil.example":              "",
		"\\\\evil.example":             "",
		"/%2Fevil.example":             "",
		"/%2f%2fevil.example":          "",
		"/%5Cevil.example":             "",
		"/%0d%0aSet-Cookie:x":          "",
		"/a\nb":                        "",
		"/a b":                         "",
		"/%zz":                         "",
		"javascript:alert(1)":          "",
		"https://evil.example/":        "",
		"http:/evil.example":           "",
		"/\u202eevil":                  "",
		"/" + strings.Repeat("a", 600): "",
	} {
		got, ok := feedback.ParsePage(in)
		if got != want || ok != (want != "") {
			t.Errorf("ParsePage(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// FuzzParsePage: whatever ParsePage accepts is a path of this site, with
// no query, fragment, backslash or white space. // P3
func FuzzParsePage(f *testing.F) {
	for _, s := range []string{"/", "/a?b", "//x", "/%2F/x", "/\\x", "javascript:x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, ok := feedback.ParsePage(s)
		if !ok {
			if p != "" {
				t.Fatalf("refused %q but returned %q", s, p)
			}
			return
		}
		if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "?#\\ \t\r\n") {
			t.Fatalf("accepted %q as %q", s, p)
		}
	})
}
