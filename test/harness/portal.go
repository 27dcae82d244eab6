package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/tracegate/tracegate/ledger"
)

// Portal is a signed-in portal session, used as an integration would use
// the JSON API: the session cookie plus the CSRF token on every POST.
type Portal struct {
	Base string
	CSRF string
	c    *http.Client
}

var (
	formCSRF = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	metaCSRF = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)
)

// AddPortalUser registers user as a user of org with role in the ledger's
// registry (as the org's admin) and in the portal.
func (g *Gateway) AddPortalUser(ctx context.Context, user, password, org, role string) error {
	if _, err := g.Svc.Ledger().RegisterUser(ctx, ledger.Identity{Org: org, User: ledger.AdminUser}, ledger.User{Org: org, ID: user, Role: role}); err != nil {
		return fmt.Errorf("register %s of %s: %w", user, org, err)
	}
	return g.App.EnsureUser(user, password, org, role)
}

// SignIn signs in through the portal's sign-in form.
func SignIn(ctx context.Context, base, user, password string) (*Portal, error) {
	jar, _ := cookiejar.New(nil)
	p := &Portal{Base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	st, body, err := p.do(ctx, http.MethodGet, "/login", "", nil, "text/html")
	if err != nil {
		return nil, err
	}
	m := formCSRF.FindSubmatch(body)
	if st != 200 || m == nil {
		return nil, fmt.Errorf("sign-in page: %d", st)
	}
	form := url.Values{"_csrf": {string(m[1])}, "username": {user}, "password": {password}, "next": {"/"}}
	st, body, err = p.do(ctx, http.MethodPost, "/login", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), "text/html")
	if err != nil {
		return nil, err
	}
	if st != http.StatusSeeOther {
		return nil, fmt.Errorf("sign in as %s: %d %.300s", user, st, body)
	}
	st, body, err = p.do(ctx, http.MethodGet, "/", "", nil, "text/html")
	if err != nil {
		return nil, err
	}
	mm := metaCSRF.FindSubmatch(body)
	if st != 200 || mm == nil {
		return nil, fmt.Errorf("dashboard after sign-in: %d", st)
	}
	p.CSRF = string(mm[1])
	return p, nil
}

func (p *Portal) do(ctx context.Context, method, path, ctype string, body io.Reader, accept string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, p.Base+path, body)
	if err != nil {
		return 0, nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", accept)
	if p.CSRF != "" && method != http.MethodGet {
		req.Header.Set("X-CSRF-Token", p.CSRF)
	}
	resp, err := p.c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// JSON sends a JSON request (in may be nil) and decodes the answer into
// out (if not nil) when it is a 2xx; it returns the status and the body.
func (p *Portal) JSON(ctx context.Context, method, path string, in, out any) (int, []byte, error) {
	var body io.Reader
	ctype := ""
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, nil, err
		}
		body, ctype = bytes.NewReader(b), "application/json"
	}
	st, b, err := p.do(ctx, method, path, ctype, body, "application/json")
	if err != nil {
		return st, b, err
	}
	if out != nil && st >= 200 && st < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			return st, b, fmt.Errorf("%s %s: answer is not the expected JSON: %w (%.300s)", method, path, err, b)
		}
	}
	return st, b, nil
}

// Page fetches an HTML page.
func (p *Portal) Page(ctx context.Context, path string) (int, string, error) {
	st, b, err := p.do(ctx, http.MethodGet, path, "", nil, "text/html")
	return st, string(b), err
}

// Visitor is an anonymous client of the public pages and API.
func Visitor(base string) *Portal {
	return &Portal{Base: base, c: &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}
