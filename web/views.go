package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"path"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

//go:embed assets/templates/*.html assets/static/*
var assets embed.FS

// staticFile is an embedded asset with its content hash (for cache busting).
type staticFile struct {
	body        []byte
	contentType string
	version     string
}

// views holds the parsed page templates and the static assets.
type views struct {
	pages  map[string]*template.Template
	static map[string]staticFile
}

// pageNames are the page templates; each is parsed with the layout and
// the partials.
var pageNames = []string{"passport", "verify", "login", "dashboard", "events", "event", "batches", "edges", "error", "alerts", "regulator", "insurance", "sharing", "donations", "allocation", "donor-receipt", "hospital", "charity"}

func loadViews() (*views, error) {
	v := &views{pages: map[string]*template.Template{}, static: map[string]staticFile{}}
	files, err := fs.ReadDir(assets, "assets/static")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		b, err := assets.ReadFile("assets/static/" + f.Name())
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(f.Name()))
		switch path.Ext(f.Name()) {
		case ".js":
			ct = "text/javascript; charset=utf-8"
		case ".css":
			ct = "text/css; charset=utf-8"
		case ".svg":
			ct = "image/svg+xml"
		}
		v.static[f.Name()] = staticFile{body: b, contentType: ct, version: hex.EncodeToString(sum[:6])}
	}
	funcs := template.FuncMap{
		"asset": func(name string) string {
			if f, ok := v.static[name]; ok {
				return "/static/" + name + "?v=" + f.version
			}
			return "/static/" + name
		},
		"fmtTime":  fmtTime,
		"fmtDate":  func(t time.Time) string { return t.UTC().Format("2 Jan 2006") },
		"isoTime":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"ago":      func(t time.Time) string { return ago(time.Now(), t) },
		"shortHex": shortHex,
		"timeSpan": timeSpan,
		"typeLabel": func(t string) string {
			if s, ok := strings.CutSuffix(t, "Event"); ok && s != "" {
				return s + " event"
			}
			return t
		},
		"add":  func(a, b int) int { return a + b },
		"add2": func(a, b float64) float64 { return a + b },
		"pct": func(n, total int) int {
			if total == 0 {
				return 0
			}
			return n * 100 / total
		},
		"json": func(v any) (template.JS, error) {
			b, err := json.Marshal(v)
			return template.JS(b), err
		},
		"lower": strings.ToLower,
		"capital": func(s any) string {
			str := fmt.Sprint(s)
			if str == "" {
				return str
			}
			return strings.ToUpper(str[:1]) + str[1:]
		},
		"icons": func() []string {
			return []string{"factory", "inbox", "truck", "shelf", "box", "check", "thermo", "hand", "cross", "shield", "clock", "alert", "dot"}
		},
		"states": func() []string { return []string{"proven", "pending", "failed"} },
		"state":  func(s string) map[string]string { return map[string]string{"State": s} },
		"checkTexts": func() map[string]string {
			m := make(map[string]string, len(checkExplanations))
			for k, v := range checkExplanations {
				m[string(k)] = v
			}
			return m
		},
		"plural": plural,
	}
	layout, err := fs.ReadFile(assets, "assets/templates/layout.html")
	if err != nil {
		return nil, err
	}
	partials, err := fs.ReadFile(assets, "assets/templates/partials.html")
	if err != nil {
		return nil, err
	}
	for _, name := range pageNames {
		body, err := fs.ReadFile(assets, "assets/templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		t := template.New("layout").Funcs(funcs)
		for _, src := range []struct{ name, text string }{{"layout.html", string(layout)}, {"partials.html", string(partials)}, {name + ".html", string(body)}} {
			if _, err := t.New(src.name).Parse(src.text); err != nil {
				return nil, fmt.Errorf("parse %s: %w", src.name, err)
			}
		}
		v.pages[name] = t
	}
	return v, nil
}

// pageData is what every page template gets.
type pageData struct {
	Title   string
	Nav     string // the active navigation entry
	User    *session
	CSRF    string
	Public  bool // a public page: no portal navigation for visitors
	Wide    bool
	Data    any
	Flash   string
	BaseURL string
	NavInfo navInfo // alert badge and role links (signed in)
}

// render writes a page with the current status code.
func (a *App) render(c *fiber.Ctx, name string, d pageData) error {
	t, ok := a.views.pages[name]
	if !ok {
		return fmt.Errorf("no page template %q", name)
	}
	if s, ok := c.Locals(localSession).(*session); ok && d.User == nil {
		d.User = s
	}
	if d.User != nil {
		d.CSRF = d.User.CSRF
		d.NavInfo = a.navInfo(c.UserContext(), d.User)
	}
	if d.BaseURL == "" {
		d.BaseURL = a.baseURL(c)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", d); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	if d.User != nil {
		c.Set(fiber.HeaderCacheControl, "private, no-store")
	}
	return c.Send(buf.Bytes())
}

// errorView is the error page's data.
type errorView struct {
	Problem Problem
	Hint    string
}

// renderError renders the friendly error page for a problem (the status
// is already set).
func (a *App) renderError(c *fiber.Ctx, p Problem) error {
	hint := ""
	switch p.Status {
	case fiber.StatusNotFound:
		hint = "Check the address, or scan the code on the pack again."
	case fiber.StatusBadRequest:
		hint = "The address or the form has a mistake in it; the details below say where."
	case fiber.StatusUnauthorized:
		hint = "Sign in to see this page."
	case fiber.StatusForbidden:
		hint = "Your role does not give access to this. Ask your organisation's admin if you need it."
		if strings.HasSuffix(p.Type, kindCSRF) {
			hint = "Reload the page and try again."
		}
	case fiber.StatusTooManyRequests:
		hint = "Wait a little before trying again."
	case fiber.StatusServiceUnavailable:
		hint = "A part of the system is unavailable for the moment. Try again in a minute."
	}
	if c.Method() == fiber.MethodHead {
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		return nil
	}
	err := a.render(c, "error", pageData{Title: p.Title, Public: true, Data: errorView{Problem: p, Hint: hint}})
	if err != nil {
		a.log.Error("render error page", "err", err)
		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		return c.SendString(fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail))
	}
	return nil
}

// fmtTime renders a time for people, in UTC.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2 Jan 2006, 15:04 UTC")
}

// timeSpan renders a batch's event time range (header times) for people.
func timeSpan(from, to string) string {
	f, err1 := time.Parse(time.RFC3339Nano, from)
	t, err2 := time.Parse(time.RFC3339Nano, to)
	switch {
	case err1 != nil || err2 != nil:
		return from + " – " + to
	case f.Equal(t):
		return fmtTime(f)
	case f.UTC().Format("2006-01-02") == t.UTC().Format("2006-01-02"):
		return f.UTC().Format("2 Jan 2006, 15:04") + "–" + t.UTC().Format("15:04 UTC")
	}
	return f.UTC().Format("2 Jan 2006, 15:04") + " – " + fmtTime(t)
}

// ago renders how long before now t was.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < 5*time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

func shortHex(s string) string {
	if len(s) > 12 {
		return s[:12] + "…"
	}
	return s
}

// plural renders a count with its noun: "1 batch", "3 batches". n is any
// integer type.
func plural(n any, one, many string) string {
	var v int64
	switch x := n.(type) {
	case int:
		v = int64(x)
	case int64:
		v = x
	case uint64:
		v = int64(min(x, 1<<62))
	case uint:
		v = int64(min(uint64(x), 1<<62))
	case int32:
		v = int64(x)
	}
	if v == 1 {
		return fmt.Sprintf("%d %s", v, one)
	}
	return fmt.Sprintf("%d %s", v, many)
}
