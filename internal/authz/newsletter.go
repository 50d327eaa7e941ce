package authz

// ManageNewsletters composes, previews, schedules, sends and cancels
// newsletters and research invitations, and reads their per-message
// status (issue 14, P7): the operator's, so national admins. The role table
// gives national admins every action it does not name, so this needs no
// line of its own there.
const ManageNewsletters Action = "newsletters.manage"
