package mail_test

import (
	"context"
	"strings"
	"testing"

	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/mail/smtptest"
)

func TestNewSenderReadsTheSMTPURL(t *testing.T) {
	if s, err := mail.NewSender("", ""); s != nil || err != nil {
		t.Errorf("empty URL: %v, %v; want no sender and no error", s, err)
	}
	for _, good := range []string{"smtp://mail.example:2525", "smtp://user:pa%24s@mail.example:587", "smtps://mail.example", "smtp://127.0.0.1"} {
		if _, err := mail.NewSender(good, ""); err != nil {
			t.Errorf("%s: %v", good, err)
		}
	}
	for _, bad := range []string{"http://mail.example", "smtp://", "smtp://u:hunter2@mail.example:99999", "smtp://u:hunter2@mail.example:x", "smtp://u:hunter2@[::1"} {
		_, err := mail.NewSender(bad, "")
		if err == nil {
			t.Errorf("%s: accepted", bad)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error shows the password: %v", bad, err)
		}
	}
	if _, err := mail.NewSender("smtp://mail.example", "not an address"); err == nil {
		t.Error("bad from address accepted")
	}
}

func TestSenderAuthenticatesWithPlain(t *testing.T) {
	srv := smtptest.StartWithAuth(t, "psims", "correct horse")
	s, err := mail.NewSender(srv.URL(), "")
	if err != nil {
		t.Fatal(err)
	}
	m := mail.Approved("eve@example.nhs.uk", "Eve", "https://psims.example/sign-in")
	if err := s.Send(context.Background(), "k1", m); err != nil {
		t.Fatalf("send: %v", err)
	}
	got := srv.WaitFor(t, "eve@example.nhs.uk", 1)
	if got.Username != "psims" {
		t.Errorf("authenticated as %q", got.Username)
	}
	if got.FirstURL() != "https://psims.example/sign-in" {
		t.Errorf("first URL %q", got.FirstURL())
	}

	wrong := strings.Replace(srv.URL(), "correct", "wrong", 1)
	s, err = mail.NewSender(wrong, "")
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), "k1", m)
	if err == nil {
		t.Fatal("sent with the wrong password")
	}
	if strings.Contains(err.Error(), "wrong horse") {
		t.Errorf("error shows the password: %v", err)
	}
}

func TestSenderWithoutCredentialsIsRefusedByAServerThatWantsThem(t *testing.T) {
	srv := smtptest.StartWithAuth(t, "psims", "secret")
	s, err := mail.NewSender("smtp://"+srv.Addr(), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), "k2", mail.AccountLocked("f@example.nhs.uk", "F")); err == nil {
		t.Fatal("server accepted mail without authentication")
	}
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("%d messages accepted", n)
	}
}

func TestSenderSendsTheStoredMessageIDAndOneClickUnsubscribe(t *testing.T) {
	srv := smtptest.Start(t)
	s, err := mail.NewSender(srv.URL(), "PSIMS <news@psims.example>")
	if err != nil {
		t.Fatal(err)
	}
	m := mail.Message{To: "uma@example.nhs.uk", Subject: "News", Text: "Hello", Category: mail.CategoryNewsletter,
		ListUnsubscribe: "https://psims.example/unsubscribe/abc"}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), "0123abcd", m); err != nil {
		t.Fatal(err)
	}
	got := srv.WaitFor(t, "uma@example.nhs.uk", 1)
	if id := got.Header("Message-ID"); id != "<0123abcd@psims.example>" {
		t.Errorf("Message-ID %q", id)
	}
	if h := got.Header("List-Unsubscribe"); h != "<https://psims.example/unsubscribe/abc>" {
		t.Errorf("List-Unsubscribe %q", h)
	}
	if h := got.Header("List-Unsubscribe-Post"); h != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post %q", h)
	}

	plain := mail.AccountLocked("uma@example.nhs.uk", "Uma")
	if err := s.Send(context.Background(), "ffee", plain); err != nil {
		t.Fatal(err)
	}
	got = srv.WaitFor(t, "uma@example.nhs.uk", 2)
	if h := got.Header("List-Unsubscribe"); h != "" {
		t.Errorf("a service notice carries List-Unsubscribe %q", h)
	}
}

func TestMessageCategoriesNeedTheirUnsubscribeAddress(t *testing.T) {
	base := mail.Message{To: "uma@example.nhs.uk", Subject: "News", Text: "Hello"}
	for _, c := range []struct {
		category, unsub string
		ok              bool
	}{
		{"", "", true},
		{mail.CategoryService, "", true},
		{mail.CategoryService, "https://psims.example/u/1", false},
		{mail.CategoryNewsletter, "", false},
		{mail.CategoryNewsletter, "mailto:x@example.com", false},
		{mail.CategoryNewsletter, "https://psims.example/u/1>, <https://evil.example", false},
		{mail.CategoryInvitation, "https://psims.example/u/1", true},
		{"marketing", "https://psims.example/u/1", false},
	} {
		m := base
		m.Category, m.ListUnsubscribe = c.category, c.unsub
		if err := m.Validate(); (err == nil) != c.ok {
			t.Errorf("%q %q: %v", c.category, c.unsub, err)
		}
	}
}
