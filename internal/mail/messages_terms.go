package mail

// DocumentChanged tells a user that a new version of the terms of use or
// the privacy policy needs their acceptance (T19). title is the kind, such
// as "privacy policy"; summary is what the operator said changed.
func DocumentChanged(to, name, title, summary, reviewURL string) Message {
	before := []string{
		"We have published a new version of the PSIMS " + title + ". The change affects how you use the service or how we use your information, so we need you to read it and accept it again.",
	}
	if summary != "" {
		before = append(before, "What has changed: "+summary)
	}
	before = append(before, "The next time you sign in, PSIMS will show you what changed and ask you to accept it. You can read it now:")
	return build(to, "A new version of the PSIMS "+title+" needs your acceptance", "", letter{
		Name:   name,
		Before: before,
		Link:   reviewURL,
		After:  []string{"If you do not accept the new version, you will not be able to use PSIMS. You can ask your organisation's PSIMS administrator about it."},
	})
}
