package smtptest_test

import (
	"net/smtp"
	"strings"
	"testing"

	"github.com/psims/psims/internal/mail/smtptest"
)

const multipartMessage = "From: a@example.com\r\n" +
	"To: b@example.com\r\n" +
	"Subject: =?UTF-8?q?Caf=C3=A9?=\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/alternative; boundary=XYZ\r\n" +
	"\r\n" +
	"--XYZ\r\n" +
	"Content-Type: text/plain; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Open https://psims.example/v?a=3D1&b=3D2 now, or=\r\n" +
	" later.\r\n" +
	"--XYZ\r\n" +
	"Content-Type: text/html; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"PHA+SGVsbG88L3A+\r\n" +
	"--XYZ--\r\n"

func TestServerRecordsAndDecodesMessages(t *testing.T) {
	srv := smtptest.Start(t)
	if err := smtp.SendMail(srv.Addr(), nil, "a@example.com", []string{"b@example.com"}, []byte(multipartMessage)); err != nil {
		t.Fatal(err)
	}
	m := srv.WaitFor(t, "B@example.com", 1)
	if m.From != "a@example.com" || len(m.To) != 1 || m.To[0] != "b@example.com" {
		t.Errorf("envelope %s -> %v", m.From, m.To)
	}
	if m.Subject() != "Café" {
		t.Errorf("subject %q", m.Subject())
	}
	if m.Text() != "Open https://psims.example/v?a=1&b=2 now, or later." {
		t.Errorf("text %q", m.Text())
	}
	if m.HTML() != "<p>Hello</p>" {
		t.Errorf("html %q", m.HTML())
	}
	if m.FirstURL() != "https://psims.example/v?a=1&b=2" {
		t.Errorf("first URL %q", m.FirstURL())
	}
	if got := strings.Join(m.ContentTypes(), ","); got != "text/plain,text/html" {
		t.Errorf("content types %s", got)
	}
}

func TestFailNextRefusesWithATemporaryError(t *testing.T) {
	srv := smtptest.Start(t)
	srv.FailNext(1)
	err := smtp.SendMail(srv.Addr(), nil, "a@example.com", []string{"b@example.com"}, []byte("Subject: x\r\n\r\nhi\r\n"))
	if err == nil || !strings.Contains(err.Error(), "451") {
		t.Fatalf("first delivery: err = %v, want a 451", err)
	}
	if err := smtp.SendMail(srv.Addr(), nil, "a@example.com", []string{"b@example.com"}, []byte("Subject: x\r\n\r\nhi\r\n")); err != nil {
		t.Fatalf("second delivery: %v", err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Fatalf("%d messages, want 1", n)
	}
}

func TestRefuseNextRefusesWithAPermanentError(t *testing.T) {
	srv := smtptest.Start(t)
	srv.RefuseNext(1)
	err := smtp.SendMail(srv.Addr(), nil, "a@example.com", []string{"b@example.com"}, []byte("Subject: x\r\n\r\nhi\r\n"))
	if err == nil || !strings.Contains(err.Error(), "550") {
		t.Fatalf("first delivery: err = %v, want a 550", err)
	}
	if err := smtp.SendMail(srv.Addr(), nil, "a@example.com", []string{"b@example.com"}, []byte("Subject: x\r\n\r\nhi\r\n")); err != nil {
		t.Fatalf("second delivery: %v", err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Fatalf("%d messages, want 1", n)
	}
}

func TestAuthIsRequiredWhenConfigured(t *testing.T) {
	srv := smtptest.StartWithAuth(t, "u", "p")
	if !strings.HasPrefix(srv.URL(), "smtp://u:p@127.0.0.1:") {
		t.Errorf("URL %s", srv.URL())
	}
	msg := []byte("Subject: x\r\n\r\nhi\r\n")
	if err := smtp.SendMail(srv.Addr(), nil, "a@example.com", []string{"b@example.com"}, msg); err == nil {
		t.Error("accepted mail without authentication")
	}
	if err := smtp.SendMail(srv.Addr(), smtp.PlainAuth("", "u", "bad", "127.0.0.1"), "a@example.com", []string{"b@example.com"}, msg); err == nil {
		t.Error("accepted a wrong password")
	}
	if err := smtp.SendMail(srv.Addr(), smtp.PlainAuth("", "u", "p", "127.0.0.1"), "a@example.com", []string{"b@example.com"}, msg); err != nil {
		t.Fatalf("authenticated delivery: %v", err)
	}
	if m := srv.WaitFor(t, "b@example.com", 1); m.Username != "u" {
		t.Errorf("username %q", m.Username)
	}
}

func TestDropNextKeepsTheMessageAndAnswersNothing(t *testing.T) {
	srv := smtptest.Start(t)
	srv.DropNext(1)
	err := smtp.SendMail(srv.Addr(), nil, "a@example.com", []string{"b@example.com"}, []byte("Subject: x\r\n\r\nhi\r\n"))
	if err == nil {
		t.Fatal("the delivery was answered")
	}
	if n := len(srv.Messages()); n != 1 {
		t.Fatalf("%d messages kept, want 1", n)
	}
	if err := smtp.SendMail(srv.Addr(), nil, "a@example.com", []string{"b@example.com"}, []byte("Subject: x\r\n\r\nhi\r\n")); err != nil {
		t.Fatalf("second delivery: %v", err)
	}
}
