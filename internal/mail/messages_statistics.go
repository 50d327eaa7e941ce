package mail

// PreReleaseAccess tells the owner of an address that a national admin put
// it on an official statistics publication's pre-release access list
// (T16): what they may see, from when, where, and that it stays private
// until its release. release is the release time as the reader reads it,
// such as "12 November 2026 at 09:30 (UK time)".
func PreReleaseAccess(to, title, release, link string) Message {
	return build(to, "Pre-release access to PSIMS official statistics", "", letter{
		Before: []string{
			"You have been given pre-release access to the official statistics publication \"" + title + "\", to be released on " + release + ".",
			"Once it is published you can read it before its release, signed in to PSIMS with this email address. Each time you read it early is recorded.",
			"Until the release time, do not share it or anything from it with anyone who is not on the pre-release list.",
			"The publication will be at:",
		},
		Link:  link,
		After: []string{"If you do not have a PSIMS account with this email address, register with it first. If you did not expect this, you do not need to do anything."},
	})
}
