package mail

import "time"

// DataExportReady tells a person that the download of their data they
// asked for is ready (P15). The link opens it only for them, signed in, so
// it is not a one-time secret; it works until expires.
func DataExportReady(to Addressee, link string, expires time.Time) Message {
	return build(to.Email, "Your PSIMS data is ready to download", "", letter{
		Name: to.Name,
		Before: []string{
			"The download of your data you asked for is ready.",
			"Sign in to PSIMS and use this link to download it:",
		},
		Link: link,
		After: []string{
			"The download is available until " + longDate(expires) + ". After that it is deleted, and you can ask for a new one from \"Your data\".",
			"If you did not ask for your data, sign in and change your password, and tell the PSIMS team using the feedback link on any page.",
		},
	})
}
