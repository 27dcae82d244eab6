package web

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tracegate/tracegate/ledger"
)

// extraApp serves a second app over the shared service (its own config
// and options) and returns its base URL.
func (e *env) extraApp(t *testing.T, cfg Config, opts ...Option) (string, *App) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	if cfg.PublicURL == "" {
		cfg.PublicURL = base
	}
	app, err := New(e.svc, cfg, append([]Option{WithLogger(logger())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("extra app: %v", err)
		}
	})
	return base, app
}

var (
	hiddenCSRF = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	metaCSRF   = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)
)

// loginForm opens the sign-in page and returns the client (with the
// form's cookie) and the form's token.
func (e *env) loginForm(t *testing.T, base string) (*http.Client, string) {
	t.Helper()
	c := e.client()
	r := e.do(c, http.MethodGet, base+"/login", nil)
	m := hiddenCSRF.FindSubmatch(r.body)
	if r.StatusCode != 200 || m == nil {
		t.Fatalf("login page: %d, token found %v", r.StatusCode, m != nil)
	}
	return c, string(m[1])
}

func (e *env) submitLogin(c *http.Client, base, token, user, pass string) response {
	form := url.Values{"_csrf": {token}, "username": {user}, "password": {pass}, "next": {"/events"}}
	return e.do(c, http.MethodPost, base+"/login", strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html")
}

// login signs in through the form and returns the client and the
// session's CSRF token.
func (e *env) login(t *testing.T, base, user, pass string) (*http.Client, string) {
	t.Helper()
	c, tok := e.loginForm(t, base)
	r := e.submitLogin(c, base, tok, user, pass)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/events" {
		t.Fatalf("sign-in: %d %v %.300s", r.StatusCode, r.Header, r.body)
	}
	p := e.do(c, http.MethodGet, base+"/", nil, "Accept", "text/html")
	m := metaCSRF.FindSubmatch(p.body)
	if p.StatusCode != 200 || m == nil {
		t.Fatalf("dashboard after sign-in: %d", p.StatusCode)
	}
	return c, string(m[1])
}

func TestSignIn(t *testing.T) {
	e := shared(t)
	base, _ := e.extraApp(t, Config{})

	// Pages need a session; browsers are sent to the sign-in page.
	r := e.get(base+"/events", "Accept", "text/html")
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login?next=%2Fevents" {
		t.Errorf("anonymous /events: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	wantProblem(t, e.get(base+"/api/v1/dashboard"), 401, "/unauthenticated")

	// The sign-in form is protected against CSRF (no token, wrong token).
	c, tok := e.loginForm(t, base)
	r = e.submitLogin(e.client(), base, tok, adminUser, adminPass)
	if r.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in without the form's cookie: %d", r.StatusCode)
	}
	r = e.submitLogin(c, base, "forged", adminUser, adminPass)
	if r.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in with a forged token: %d", r.StatusCode)
	}
	r = e.submitLogin(c, base, tok, adminUser, "wrong password")
	if r.StatusCode != http.StatusUnauthorized || !strings.Contains(string(r.body), "Wrong user name or password") {
		t.Errorf("wrong password: %d", r.StatusCode)
	}
	r = e.submitLogin(c, base, tok, adminUser, adminPass)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d %.300s", r.StatusCode, r.body)
	}
	var cookie *http.Cookie
	for _, ck := range r.Cookies() {
		if ck.Name == cookieSession {
			cookie = ck
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Secure || len(cookie.Value) < 40 {
		t.Fatalf("session cookie %+v", cookie)
	}
	for _, p := range []string{"/", "/events", "/events/" + hashOf(e.eventIDs[0]), "/batches", "/edges", "/api/v1/dashboard"} {
		if r := e.do(c, http.MethodGet, base+p, nil, "Accept", "text/html"); r.StatusCode != 200 {
			t.Errorf("signed in, GET %s: %d %.200s", p, r.StatusCode, r.body)
		}
	}
	// The session ID is stored hashed, never as is.
	if _, ok := e.app.users.session(cookie.Value); !ok {
		t.Error("session not found")
	}
	raw := e.get(base + "/api/v1/dashboard")
	if raw.StatusCode != 401 {
		t.Error("dashboard JSON without the cookie")
	}

	// Sign-out is a state change: it needs the session's CSRF token.
	m := metaCSRF.FindSubmatch(e.do(c, http.MethodGet, base+"/", nil, "Accept", "text/html").body)
	out := func(tok string) response {
		return e.do(c, http.MethodPost, base+"/logout", strings.NewReader(url.Values{"_csrf": {tok}}.Encode()),
			"Content-Type", "application/x-www-form-urlencoded")
	}
	wantProblem(t, out(""), 403, "/csrf")
	wantProblem(t, out("not-the-token"), 403, "/csrf")
	if r := out(string(m[1])); r.StatusCode != http.StatusSeeOther {
		t.Errorf("sign-out: %d", r.StatusCode)
	}
	if r := e.do(c, http.MethodGet, base+"/api/v1/dashboard", nil); r.StatusCode != 401 {
		t.Errorf("after sign-out the session still works: %d", r.StatusCode)
	}
	if _, ok := e.app.users.session(cookie.Value); ok {
		t.Error("sign-out left the session in the store")
	}
	if r := out(""); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login" {
		t.Errorf("sign-out without a session: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	// Open redirects are refused.
	if safeNext("//evil.example/") != "/" || safeNext("https://evil.example/") != "/" || safeNext("/events?x=1") != "/events?x=1" {
		t.Error("safeNext lets foreign redirects through")
	}
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeClock) add(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

func TestSessionExpiry(t *testing.T) {
	e := shared(t)
	clock := &fakeClock{t: time.Now()}
	base, _ := e.extraApp(t, Config{SessionTTL: time.Hour}, WithClock(clock.now))
	c, _ := e.login(t, base, adminUser, adminPass)
	clock.add(59 * time.Minute)
	if r := e.do(c, http.MethodGet, base+"/api/v1/dashboard", nil); r.StatusCode != 200 {
		t.Fatalf("within the session's life: %d", r.StatusCode)
	}
	clock.add(2 * time.Minute)
	r := e.do(c, http.MethodGet, base+"/api/v1/dashboard", nil)
	p := wantProblem(t, r, 401, "/unauthenticated")
	if !strings.Contains(p["detail"].(string), "expired") {
		t.Errorf("expired session: %v", p["detail"])
	}
	r = e.do(c, http.MethodGet, base+"/", nil, "Accept", "text/html")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Errorf("expired session on a page: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
}

func TestLoginThrottling(t *testing.T) {
	e := shared(t)
	clock := &fakeClock{t: time.Now()}
	base, _ := e.extraApp(t, Config{}, WithClock(clock.now))
	c, tok := e.loginForm(t, base)
	for i := 0; i < throttleFree; i++ {
		if r := e.submitLogin(c, base, tok, adminUser, "guess"); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, r.StatusCode)
		}
	}
	// Now even the right password must wait.
	r := e.submitLogin(c, base, tok, adminUser, adminPass)
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("after %d failures: %d (Retry-After %q)", throttleFree, r.StatusCode, r.Header.Get("Retry-After"))
	}
	// Other users from the same address wait too (the address counts).
	if r := e.submitLogin(c, base, tok, "someone-else", "guess"); r.StatusCode != http.StatusTooManyRequests {
		t.Errorf("another user from the throttled address: %d", r.StatusCode)
	}
	clock.add(2 * time.Second)
	if r := e.submitLogin(c, base, tok, adminUser, adminPass); r.StatusCode != http.StatusSeeOther {
		t.Errorf("after the delay: %d", r.StatusCode)
	}
	// Each further failure doubles the delay.
	th := newThrottle(clock.now)
	for i := 0; i < throttleFree+3; i++ {
		th.fail("u:x")
	}
	if w := th.wait("u:x"); w != 8*time.Second {
		t.Errorf("delay after %d failures: %s, want 8s", throttleFree+3, w)
	}
	clock.add(throttleWindow + time.Second)
	if w := th.wait("u:x"); w != 0 {
		t.Errorf("failures not forgotten after the window: %s", w)
	}
}

func TestUsers(t *testing.T) {
	e := shared(t)
	a := e.app
	if err := a.EnsureUser("inspector", "first-password-1", "RegulatorMSP", ledger.RoleRegulatorInspector); err != nil {
		t.Fatal(err)
	}
	// Idempotent, and never overwrites the password.
	if err := a.EnsureUser("inspector", "another-password-2", "RegulatorMSP", ledger.RoleRegulatorInspector); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.authenticate("inspector", "first-password-1"); !ok {
		t.Error("EnsureUser replaced an existing password")
	}
	if _, ok := a.authenticate("INSPECTOR", "first-password-1"); !ok {
		t.Error("user names are not case-insensitive")
	}
	u, _ := a.users.get("inspector")
	if !strings.HasPrefix(u.Hash, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(u.Hash, "first-password") {
		t.Errorf("stored hash %q is not an argon2id PHC string", u.Hash)
	}
	if err := a.SetPassword("inspector", "new-password-3"); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.authenticate("inspector", "first-password-1"); ok {
		t.Error("old password still works after SetPassword")
	}
	if _, ok := a.authenticate("inspector", "new-password-3"); !ok {
		t.Error("new password does not work")
	}
	for _, bad := range []struct{ user, pass, org, role string }{
		{"", "long-enough-pass", "X", ledger.RoleOperator},
		{"bad user", "long-enough-pass", "X", ledger.RoleOperator},
		{"short", "short", "X", ledger.RoleOperator},
		{"norole", "long-enough-pass", "X", "emperor"},
		{"noorg", "long-enough-pass", "", ledger.RoleOperator},
	} {
		if err := a.EnsureUser(bad.user, bad.pass, bad.org, bad.role); err == nil {
			t.Errorf("EnsureUser(%q, %q, %q, %q) accepted", bad.user, bad.pass, bad.org, bad.role)
		}
	}
	if err := a.SetPassword("nobody", "long-enough-pass"); err == nil {
		t.Error("SetPassword of a missing user")
	}
}
