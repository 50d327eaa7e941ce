package usage

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/psims/psims/internal/csvsafe"
)

// Rows are the report's rows with their kind: "week", "month", and
// last "total".
func (rep Report) Rows() (kinds []string, periods []Period) {
	for _, p := range rep.Weeks {
		kinds, periods = append(kinds, "week"), append(periods, p)
	}
	for _, p := range rep.Months {
		kinds, periods = append(kinds, "month"), append(periods, p)
	}
	return append(kinds, "total"), append(periods, rep.Total)
}

// WriteCSV writes the report as CSV: a row for each week, each month and
// the total, with suppressed figures as "<5" and unknown ones as
// "unknown"; then, for an organisation's report with individuals, a blank
// line and a row for each consenting person (P19). The web download and
// psims usage report both write it.
func WriteCSV(w io.Writer, rep Report) error {
	c := csv.NewWriter(w)
	head := []string{"period", "from", "to", "active_users", "sign_ins", "page_views", "documents_opened", "events_recorded"}
	for _, a := range Areas() {
		head = append(head, "views_"+a)
	}
	c.Write(head)
	kinds, periods := rep.Rows()
	for i, p := range periods {
		row := []string{kinds[i], p.From.Format(time.DateOnly), p.To.Format(time.DateOnly), p.ActiveUsers.String(), p.SignIns.String(),
			p.PageViews.String(), p.DocumentsOpened.String(), p.EventsRecorded.String()}
		for _, a := range p.Areas {
			row = append(row, a.Views.String())
		}
		c.Write(row)
	}
	if rep.Query.Individuals && rep.Query.Org != "" {
		c.Write(nil)
		c.Write([]string{"user_id", "name", "email", "sign_ins", "page_views", "documents_opened", "active_days", "last_active"})
		for _, p := range rep.People {
			c.Write([]string{strconv.FormatInt(p.UserID, 10), csvsafe.Cell(p.Name), csvsafe.Cell(p.Email), strconv.FormatInt(p.SignIns, 10),
				strconv.FormatInt(p.PageViews, 10), strconv.FormatInt(p.DocumentsOpened, 10), strconv.Itoa(p.ActiveDays),
				p.LastActive.UTC().Format(time.RFC3339)})
		}
	}
	c.Flush()
	if err := c.Error(); err != nil {
		return fmt.Errorf("usage report: write: %w", err)
	}
	return nil
}
