package mail

import (
	"strconv"
	"time"
)

// AuditChainBroken tells a national admin that the daily check found the
// audit log's hash chain broken: a row was changed or removed outside
// PSIMS. It names the first row that does not fit and what is wrong with
// it, never the row's content, and says what to do. No link: the viewer
// needs signing in anyway, and an alarm email is not where to click.
func AuditChainBroken(to Addressee, rowID int64, reason string, rowsChecked int, at time.Time) Message {
	return build(to.Email, "PSIMS: the audit log has been changed", "", letter{
		Name: to.Name,
		Before: []string{
			"The daily check of the PSIMS audit log at " + at.UTC().Format("15:04 on 2 January 2006") + " (UTC) found that its hash chain is broken.",
			"The first row that does not fit is row " + strconv.FormatInt(rowID, 10) + ": " + reason + ". " +
				strconv.Itoa(rowsChecked) + " rows were checked.",
			"This means someone changed or removed audit rows outside PSIMS, for example directly in the database. Treat it as a possible security incident: keep a copy of the database as it is now, compare it with a backup and the anchor file, and find out who had access.",
			"To check again, run: psims audit verify --anchor FILE",
		},
		After: []string{"You get this email because you are a national administrator of PSIMS. It is sent after each check while the chain stays broken."},
	})
}
