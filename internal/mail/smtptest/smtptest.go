// Package smtptest runs a real SMTP server for tests. It listens on
// 127.0.0.1 on a free port, speaks plain SMTP (no STARTTLS) with optional
// AUTH PLAIN, keeps every message it accepts, and can be told to refuse the
// next deliveries with a temporary or a permanent error, or to take the
// next ones and drop the connection before answering.
package smtptest

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// WaitTimeout is how long WaitFor waits for mail to arrive.
const WaitTimeout = 10 * time.Second

// Message is one message the server accepted.
type Message struct {
	// From is the envelope sender (MAIL FROM).
	From string
	// To are the envelope recipients (RCPT TO).
	To []string
	// Data is the message as received: headers and body.
	Data []byte
	// Username is who authenticated, or empty.
	Username string
}

// Server is a running test SMTP server.
type Server struct {
	addr string
	user string
	pass string
	smtp *smtp.Server

	mu       sync.Mutex
	messages []Message
	failNext int
	// refuseNext counts deliveries still to refuse permanently.
	refuseNext int
	// dropNext counts deliveries still to keep without answering.
	dropNext int
	arrived  chan struct{} // closed and replaced when a message arrives
}

// Start runs a server that needs no authentication, stopped when the test
// ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	return start(tb, "", "")
}

// StartWithAuth runs a server that requires AUTH PLAIN with user and pass
// before it accepts mail. URL includes them.
func StartWithAuth(tb testing.TB, user, pass string) *Server {
	tb.Helper()
	return start(tb, user, pass)
}

func start(tb testing.TB, user, pass string) *Server {
	tb.Helper()
	s := &Server{user: user, pass: pass, arrived: make(chan struct{})}
	srv := smtp.NewServer(backend{s})
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.ErrorLog = tbLogger{tb}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("smtptest: listen: %v", err)
	}
	s.addr = l.Addr().String()
	s.smtp = srv
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(l); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			tb.Errorf("smtptest: serve: %v", err)
		}
	}()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			srv.Close()
		}
		<-done
	})
	return s
}

// Addr is the host:port the server listens on.
func (s *Server) Addr() string { return s.addr }

// URL is the server as a --smtp value, with the user and password when it
// requires them.
func (s *Server) URL() string {
	u := url.URL{Scheme: "smtp", Host: s.addr}
	if s.user != "" {
		u.User = url.UserPassword(s.user, s.pass)
	}
	return u.String()
}

// FailNext makes the next n deliveries fail with "451 4.3.0" (try again
// later) after their data is sent.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = n
}

// RefuseNext makes the next n deliveries fail with "550 5.1.1" (mailbox
// unavailable), a permanent refusal, after their data is sent. Temporary
// failures set by FailNext come first.
func (s *Server) RefuseNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuseNext = n
}

// DropNext makes the server keep the next n deliveries and then close the
// connection before it answers: the worst moment for a connection to fail,
// when the message has arrived and the sender cannot know it.
func (s *Server) DropNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropNext = n
}

// Messages returns every message accepted so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.messages))
	copy(out, s.messages)
	return out
}

// WaitFor waits until the server has accepted n messages for the recipient
// to (compared without regard to case) and returns the nth (1 is the
// first). It fails the test after WaitTimeout.
func (s *Server) WaitFor(tb testing.TB, to string, n int) Message {
	tb.Helper()
	deadline := time.NewTimer(WaitTimeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		var found []Message
		for _, m := range s.messages {
			for _, rcpt := range m.To {
				if strings.EqualFold(rcpt, to) {
					found = append(found, m)
					break
				}
			}
		}
		arrived := s.arrived
		s.mu.Unlock()
		if len(found) >= n {
			return found[n-1]
		}
		select {
		case <-arrived:
		case <-deadline.C:
			tb.Fatalf("smtptest: %d message(s) for %s after %v, want %d", len(found), to, WaitTimeout, n)
			return Message{}
		}
	}
}

// takeDrop reports whether this delivery is one to keep without answering.
func (s *Server) takeDrop() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dropNext == 0 {
		return false
	}
	s.dropNext--
	return true
}

// keep stores m as accepted.
func (s *Server) keep(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, m)
	close(s.arrived)
	s.arrived = make(chan struct{})
}

func (s *Server) deliver(m Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext > 0 {
		s.failNext--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure, try again later"}
	}
	if s.refuseNext > 0 {
		s.refuseNext--
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "Mailbox unavailable"}
	}
	s.messages = append(s.messages, m)
	close(s.arrived)
	s.arrived = make(chan struct{})
	return nil
}

// Header returns the decoded value of the named header, or "".
func (m Message) Header(name string) string {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return ""
	}
	v := msg.Header.Get(name)
	if decoded, err := new(mime.WordDecoder).DecodeHeader(v); err == nil {
		return decoded
	}
	return v
}

// Subject is the decoded Subject header.
func (m Message) Subject() string { return m.Header("Subject") }

// Text returns the decoded text/plain part ("" if there is none).
func (m Message) Text() string { return m.part("text/plain") }

// HTML returns the decoded text/html part ("" if there is none).
func (m Message) HTML() string { return m.part("text/html") }

// ContentTypes lists the media types of the message's leaf parts, in order.
func (m Message) ContentTypes() []string {
	var out []string
	m.walk(func(mediaType string, _ []byte) { out = append(out, mediaType) })
	return out
}

var urlPattern = regexp.MustCompile(`https?://[^\s<>"']+`)

// FirstURL returns the first http or https URL in the text part, or "".
func (m Message) FirstURL() string {
	return urlPattern.FindString(m.Text())
}

func (m Message) part(mediaType string) string {
	var out string
	found := false
	m.walk(func(t string, body []byte) {
		if !found && t == mediaType {
			out, found = string(body), true
		}
	})
	return out
}

// walk calls fn with each leaf part's media type and decoded body.
func (m Message) walk(fn func(mediaType string, body []byte)) {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return
	}
	walkPart(msg.Header, msg.Body, fn)
}

// header is what walkPart needs of mail.Header and textproto.MIMEHeader.
type header interface{ Get(string) string }

func walkPart(h header, body io.Reader, fn func(string, []byte)) {
	mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		mediaType = "text/plain"
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		r := multipart.NewReader(body, params["boundary"])
		for {
			p, err := r.NextRawPart()
			if err != nil {
				return
			}
			walkPart(p.Header, p, fn)
		}
	}
	var decoded io.Reader = body
	switch strings.ToLower(h.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		decoded = quotedprintable.NewReader(body)
	case "base64":
		decoded = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(decoded)
	if err != nil {
		return
	}
	fn(mediaType, b)
}

// backend makes a session per connection.
type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: b.s, conn: c}, nil
}

// session is one SMTP conversation.
type session struct {
	s        *Server
	conn     *smtp.Conn
	username string
	from     string
	to       []string
}

func (ss *session) AuthMechanisms() []string {
	if ss.s.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain || ss.s.user == "" {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.s.user || password != ss.s.pass {
			return smtp.ErrAuthFailed
		}
		ss.username = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.user != "" && ss.username == "" {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("smtptest: read data: %w", err)
	}
	m := Message{From: ss.from, To: append([]string(nil), ss.to...), Data: data, Username: ss.username}
	if ss.s.takeDrop() {
		ss.s.keep(m)
		ss.conn.Close()
		return errors.New("smtptest: connection dropped on purpose")
	}
	return ss.s.deliver(m)
}

func (ss *session) Reset() {
	ss.from = ""
	ss.to = nil
}

func (ss *session) Logout() error { return nil }

// tbLogger sends the server's own error log to the test log.
type tbLogger struct{ tb testing.TB }

func (l tbLogger) Printf(format string, v ...any) { l.tb.Logf("smtptest: "+format, v...) }
func (l tbLogger) Println(v ...any)               { l.tb.Log(append([]any{"smtptest:"}, v...)...) }
