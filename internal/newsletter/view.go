package newsletter

import (
	"context"
	"fmt"
	"html/template"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/terms"
)

// View is a mailing as its admin page shows it.
type View struct {
	Newsletter
	// Preview is the message exactly as a recipient gets it, made for the
	// admin looking (their own unsubscribe link in it), and PreviewBody the
	// Markdown rendered as the HTML message shows it.
	Preview     mail.Message
	PreviewBody template.HTML
	// Why is the footer's sentence saying why the recipient gets it.
	Why string
	// AudienceSize is how many people it would go to now.
	AudienceSize int
	// Delivery is the per-message status once messages are queued.
	Delivery Delivery
}

// View returns mailing id with its preview for viewer, the size of its
// audience now and the page of its messages after outbox id after.
// Errors: NotFound.
func (s *Service) View(ctx context.Context, id int64, viewer account.Contactable, after int64) (View, error) {
	n, err := s.Get(ctx, id)
	if err != nil {
		return View{}, err
	}
	v := View{Newsletter: n, Why: why(n.Kind)}
	if v.Preview, err = s.Message(n, viewer); err != nil {
		return View{}, err
	}
	if v.PreviewBody, err = terms.Render(n.Body); err != nil {
		return View{}, fmt.Errorf("newsletter: preview %d: %w", id, err)
	}
	if v.AudienceSize, err = s.AudienceSize(ctx, n); err != nil {
		return View{}, err
	}
	if v.Delivery, err = s.Delivery(ctx, id, after); err != nil {
		return View{}, err
	}
	return v, nil
}
