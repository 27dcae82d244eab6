package web

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// webMetrics are the web layer's Prometheus metrics.
type webMetrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	logins    *prometheus.CounterVec
	streams   prometheus.GaugeFunc
	resolves  *prometheus.CounterVec
	verifyRes *prometheus.CounterVec
}

func newWebMetrics(reg *prometheus.Registry, a *App) *webMetrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &webMetrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tracegate_web_requests_total",
			Help: "HTTP requests by route pattern, method and status code."}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tracegate_web_request_seconds",
			Help: "HTTP request handling time by route pattern (streams excluded).", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"route"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tracegate_web_logins_total",
			Help: "Portal sign-in attempts by outcome (ok, wrong, throttled, csrf)."}, []string{"outcome"}),
		resolves: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tracegate_web_resolver_total",
			Help: "Digital Link resolutions by answer (page, json, linkset, redirect, not-found, invalid)."}, []string{"answer"}),
		verifyRes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tracegate_web_verifications_total",
			Help: "Proof verifications through the API and the /verify page, by outcome (verified, pending, failed)."}, []string{"outcome"}),
	}
	m.streams = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tracegate_web_streams",
		Help: "Open server-sent event streams (/api/v1/stream)."}, func() float64 { return float64(a.streams.Load()) })
	m.requests = register(reg, m.requests)
	m.duration = register(reg, m.duration)
	m.logins = register(reg, m.logins)
	m.resolves = register(reg, m.resolves)
	m.verifyRes = register(reg, m.verifyRes)
	_ = reg.Register(m.streams) // a second App on one registry keeps the first gauge
	return m
}

// register registers c, or returns the collector already registered under
// its name (two apps on one registry, as in some tests).
func register[C prometheus.Collector](reg *prometheus.Registry, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if old, ok := are.ExistingCollector.(C); ok {
				return old
			}
		}
	}
	return c
}

// observe counts requests by route pattern and logs server errors.
func (a *App) observe(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		// Let the error handler write the response now, so the status is
		// known; then tell Fiber the error is handled.
		if herr := a.fiber.ErrorHandler(c, err); herr != nil {
			a.log.Error("error handler failed", "err", herr)
		}
	}
	// Label by route pattern, never by raw path (bounded cardinality);
	// a request that matched only middleware is "unmatched".
	route := "unmatched"
	if r := c.Route(); r != nil && r.Method == c.Method() {
		route = r.Path
	}
	code := c.Response().StatusCode()
	a.m.requests.WithLabelValues(route, c.Method(), strconv.Itoa(code)).Inc()
	if route != "/api/v1/stream" {
		a.m.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	}
	return nil
}

// securityHeaders sets the headers every response carries. Pages load only
// this server's own scripts, styles and images.
func (a *App) securityHeaders(c *fiber.Ctx) error {
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "same-origin")
	c.Set("X-Frame-Options", "DENY")
	c.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "+
		"connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
	if a.cfg.CookieSecure {
		c.Set("Strict-Transport-Security", "max-age=31536000")
	}
	return c.Next()
}

// exposedHeaders are the response headers cross-origin clients may read.
const exposedHeaders = "Link, Location, Content-Location, Retry-After, GS1-EPCIS-Version, GS1-CBV-Version, " +
	"GS1-EPCIS-Capture-Limit, GS1-EPCIS-Capture-File-Size-Limit, GS1-Next-Page-Token-Expires"

// cors allows any origin to call the resolver and the API. With a wildcard
// origin browsers send no cookies, so portal sessions never ride along.
func (a *App) cors(methods string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Set("Access-Control-Allow-Origin", "*")
		c.Set("Access-Control-Expose-Headers", exposedHeaders)
		c.Vary("Accept", "Accept-Language")
		return c.Next()
	}
}

// preflight answers OPTIONS: a CORS preflight or a plain capability
// question, both with 204 and the allowed methods.
func (a *App) preflight(methods string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Set("Allow", methods)
		c.Set("Access-Control-Allow-Methods", methods)
		h := c.Get("Access-Control-Request-Headers")
		if h == "" {
			h = "Accept, Accept-Language, Content-Type, Content-Encoding, Authorization, GS1-EPCIS-Version, GS1-CBV-Version"
		}
		c.Set("Access-Control-Allow-Headers", h)
		c.Set("Access-Control-Max-Age", "86400")
		return c.SendStatus(fiber.StatusNoContent)
	}
}

// answerOptions answers OPTIONS requests (CORS preflights) for a whole
// route group without adding OPTIONS routes, which would turn 404s for
// unknown paths into 405s.
func (a *App) answerOptions(methods string) fiber.Handler {
	pre := a.preflight(methods)
	return func(c *fiber.Ctx) error {
		if c.Method() == fiber.MethodOptions {
			return pre(c)
		}
		return c.Next()
	}
}

// healthz answers 200 while the process serves.
func (a *App) healthz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return sendJSON(c, fiber.StatusOK, fiber.MIMEApplicationJSON, map[string]string{"status": "ok"})
}

// readyz answers 200 when the gateway can do its work, 503 with the
// reasons otherwise.
func (a *App) readyz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	ok, problems := a.svc.Ready(c.UserContext())
	if problems == nil {
		problems = []string{}
	}
	for _, e := range a.cfg.Edges {
		st, err := e.Status()
		if err != nil {
			ok = false
			problems = append(problems, "edge "+e.ID()+": "+err.Error())
			continue
		}
		for _, p := range st.Problems {
			ok = false
			problems = append(problems, "edge "+e.ID()+": "+p)
		}
	}
	code := fiber.StatusOK
	if !ok {
		code = fiber.StatusServiceUnavailable
	}
	return sendJSON(c, code, fiber.MIMEApplicationJSON, map[string]any{"ready": ok, "problems": problems})
}

// static serves the embedded assets.
func (a *App) static(c *fiber.Ctx) error {
	name := c.Params("name")
	f, ok := a.views.static[name]
	if !ok || strings.Contains(name, "/") {
		return notFound("no such asset", "/static/"+name+" does not exist")
	}
	c.Set(fiber.HeaderContentType, f.contentType)
	if c.Query("v") == f.version {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	}
	c.Set(fiber.HeaderETag, `"`+f.version+`"`)
	if c.Get(fiber.HeaderIfNoneMatch) == `"`+f.version+`"` {
		return c.SendStatus(fiber.StatusNotModified)
	}
	return c.Send(f.body)
}
