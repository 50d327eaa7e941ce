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
	if err := s.Send(context.Background(), m); err != nil {
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
	err = s.Send(context.Background(), m)
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
	if err := s.Send(context.Background(), mail.AccountLocked("f@example.nhs.uk", "F")); err == nil {
		t.Fatal("server accepted mail without authentication")
	}
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("%d messages accepted", n)
	}
}
