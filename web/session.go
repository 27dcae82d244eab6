package web

import (
	"crypto/subtle"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

const (
	cookieSession = "tg_session"
	cookieLogin   = "tg_login" // double-submit CSRF token of the sign-in form
	localSession  = "session"
	headerCSRF    = "X-CSRF-Token"
	fieldCSRF     = "_csrf"
)

// currentSession reads the session cookie.
func (a *App) currentSession(c *fiber.Ctx) (*session, string) {
	id := c.Cookies(cookieSession)
	if id == "" {
		return nil, ""
	}
	s, ok := a.users.session(id)
	if !ok {
		return nil, id
	}
	return s, id
}

// optionalUser attaches the session, if any, for pages that also serve
// visitors.
func (a *App) optionalUser(c *fiber.Ctx) error {
	if s, _ := a.currentSession(c); s != nil {
		c.Locals(localSession, s)
	}
	return c.Next()
}

// requireUser lets signed-in users through. Browsers without a session are
// sent to the sign-in page; API clients get 401.
func (a *App) requireUser(c *fiber.Ctx) error {
	s, id := a.currentSession(c)
	if s == nil {
		if id != "" {
			a.clearCookie(c, cookieSession)
		}
		if c.Method() == fiber.MethodGet && a.wantsHTML(c) {
			return c.Redirect("/login?next="+url.QueryEscape(c.OriginalURL()), fiber.StatusSeeOther)
		}
		if id != "" {
			return errUnauthenticated("the portal session has expired; sign in again")
		}
		return errUnauthenticated("sign in to the portal first (POST /login)")
	}
	c.Locals(localSession, s)
	return c.Next()
}

// requireCSRF checks the session's synchronizer token on state-changing
// requests: the form field _csrf or the header X-CSRF-Token.
func (a *App) requireCSRF(c *fiber.Ctx) error {
	if err := a.checkCSRF(c); err != nil {
		return err
	}
	return c.Next()
}

// checkCSRF compares the request's CSRF token with its session's.
func (a *App) checkCSRF(c *fiber.Ctx) error {
	s, ok := c.Locals(localSession).(*session)
	if !ok {
		return errUnauthenticated("sign in first")
	}
	tok := c.Get(headerCSRF)
	if tok == "" {
		tok = c.FormValue(fieldCSRF)
	}
	if tok == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(s.CSRF)) != 1 {
		return errCSRF()
	}
	return nil
}

func (a *App) setCookie(c *fiber.Ctx, name, value string, expires time.Time) {
	c.Cookie(&fiber.Cookie{Name: name, Value: value, Path: "/", Expires: expires, HTTPOnly: true,
		Secure: a.cfg.CookieSecure, SameSite: fiber.CookieSameSiteLaxMode})
}

func (a *App) clearCookie(c *fiber.Ctx, name string) {
	c.Cookie(&fiber.Cookie{Name: name, Value: "", Path: "/", Expires: time.Unix(1, 0), MaxAge: -1, HTTPOnly: true,
		Secure: a.cfg.CookieSecure, SameSite: fiber.CookieSameSiteLaxMode})
}

// loginView is the sign-in page's data.
type loginView struct {
	Username string
	Next     string
	Error    string
	Token    string
	Wait     int
}

// safeNext keeps post-sign-in redirects on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}

// loginToken returns the sign-in form's CSRF token, setting its cookie
// when there is none.
func (a *App) loginToken(c *fiber.Ctx) string {
	tok := c.Cookies(cookieLogin)
	if len(tok) < 32 {
		tok = randomToken()
		a.setCookie(c, cookieLogin, tok, time.Time{})
	}
	return tok
}

func (a *App) loginPage(c *fiber.Ctx) error {
	next := safeNext(c.Query("next"))
	if s, ok := c.Locals(localSession).(*session); ok && s != nil {
		return c.Redirect(next, fiber.StatusSeeOther)
	}
	return a.render(c, "login", pageData{Title: "Sign in", Public: true, Data: loginView{Next: next, Token: a.loginToken(c)}})
}

// loginSubmit signs a user in. Failures are counted per user name and per
// client address and slow further attempts down.
func (a *App) loginSubmit(c *fiber.Ctx) error {
	username := strings.TrimSpace(c.FormValue("username"))
	password := c.FormValue("password")
	next := safeNext(c.FormValue("next"))
	view := loginView{Username: username, Next: next}
	again := func(status int, msg string) error {
		view.Error = msg
		view.Token = a.loginToken(c)
		c.Status(status)
		return a.render(c, "login", pageData{Title: "Sign in", Public: true, Data: view})
	}
	cookieTok := c.Cookies(cookieLogin)
	formTok := c.FormValue(fieldCSRF)
	if cookieTok == "" || subtle.ConstantTimeCompare([]byte(cookieTok), []byte(formTok)) != 1 {
		a.m.logins.WithLabelValues("csrf").Inc()
		return again(fiber.StatusForbidden, "The sign-in form expired. Please try again.")
	}
	if username == "" || password == "" {
		return again(fiber.StatusBadRequest, "Enter your user name and your password.")
	}
	userKey, ipKey := "u:"+strings.ToLower(username), "ip:"+c.IP()
	if w := a.throttle.wait(userKey, ipKey); w > 0 {
		a.m.logins.WithLabelValues("throttled").Inc()
		secs := int(math.Ceil(w.Seconds()))
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
		view.Wait = secs
		return again(fiber.StatusTooManyRequests, fmt.Sprintf("Too many failed attempts. Wait %s before trying again.", plural(secs, "second", "seconds")))
	}
	u, ok := a.authenticate(username, password)
	if !ok {
		a.throttle.fail(userKey, ipKey)
		a.m.logins.WithLabelValues("wrong").Inc()
		a.log.Info("portal sign-in failed", "user", username, "ip", c.IP())
		return again(fiber.StatusUnauthorized, "Wrong user name or password.")
	}
	a.throttle.succeed(userKey)
	if old := c.Cookies(cookieSession); old != "" {
		_ = a.users.endSession(old)
	}
	id, s, err := a.users.newSession(u, a.cfg.SessionTTL)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	a.setCookie(c, cookieSession, id, s.Expires)
	a.clearCookie(c, cookieLogin)
	a.m.logins.WithLabelValues("ok").Inc()
	a.log.Info("portal sign-in", "user", u.Username, "org", u.Org, "role", u.Role)
	return c.Redirect(next, fiber.StatusSeeOther)
}

// logout ends the session. Without a (live) session there is nothing to
// end; with one, the request must carry its CSRF token.
func (a *App) logout(c *fiber.Ctx) error {
	if _, ok := c.Locals(localSession).(*session); !ok {
		a.clearCookie(c, cookieSession)
		return c.Redirect("/login", fiber.StatusSeeOther)
	}
	if err := a.checkCSRF(c); err != nil {
		return err
	}
	return a.endSession(c)
}

func (a *App) endSession(c *fiber.Ctx) error {
	if id := c.Cookies(cookieSession); id != "" {
		if err := a.users.endSession(id); err != nil {
			return fmt.Errorf("end session: %w", err)
		}
	}
	a.clearCookie(c, cookieSession)
	return c.Redirect("/login", fiber.StatusSeeOther)
}
