package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes registers every route; docs/api.md documents them.
func (a *App) routes() {
	f := a.fiber

	// Operations.
	f.Get("/healthz", a.healthz)
	f.Get("/readyz", a.readyz)
	var g prometheus.Gatherer = a.m.reg
	if a.cfg.Registry != nil {
		g = a.cfg.Registry
	}
	f.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(g, promhttp.HandlerOpts{})))
	f.Get("/static/:name", a.static)
	f.Get("/favicon.ico", func(c *fiber.Ctx) error { return c.Redirect("/static/favicon.svg", fiber.StatusMovedPermanently) })

	// JSON API (CORS: integrations and third-party verifiers call it from
	// anywhere; cookies never make it cross-origin with a wildcard origin).
	api := f.Group("/api/v1", a.cors("GET, HEAD, POST, OPTIONS"), a.answerOptions("GET, HEAD, POST, OPTIONS"))
	api.Post("/batches", a.postBatch)
	api.Get("/events/:id/proof", a.getProof)
	api.Post("/verify", a.postVerify)
	api.Get("/stream", a.optionalUser, a.stream)
	api.Get("/status", a.status)
	api.Get("/ledger/info", a.ledgerInfo)
	api.Get("/ledger/devices/:id", a.ledgerDevice)
	api.Get("/ledger/anchors/:edge/:seq", a.ledgerAnchor)
	api.Get("/ledger/transactions/:tx", a.ledgerTx)
	api.Get("/dashboard", a.requireUser, a.dashboardJSON)
	api.Get("/lots/:gtin/:lot/trace", a.lotTrace)
	api.Get("/lots/:gtin/:lot/custody", a.lotCustody)
	api.Get("/lots/:gtin/:lot/coldchain", a.lotColdChain)
	api.Get("/objects/:id/trace", a.objectTrace)
	api.Get("/excursions", a.excursionsJSON)
	api.Get("/sites", a.sitesJSON)
	api.Get("/recalls", a.recallsJSON)
	api.Post("/recalls", a.requireUser, a.requireCSRF, a.requireRegulator, a.postRecall)
	api.Get("/suspects", a.requireUser, a.requireRegulator, a.suspectsJSON)
	api.Get("/alerts", a.requireUser, a.alertsJSON)

	// EPCIS 2.0 REST binding.
	ep := f.Group("/epcis", a.cors("GET, HEAD, POST, OPTIONS"), a.epcisHeaders)
	ep.Get("/", a.epcisRoot)
	ep.Options("/", a.epcisOptions("OPTIONS, GET"))
	ep.Options("/capture", a.epcisOptions("OPTIONS, POST"))
	ep.Post("/capture", a.captureAuth, a.postCapture)
	ep.Options("/capture/:id", a.epcisOptions("OPTIONS, GET"))
	ep.Get("/capture/:id", a.getCapture)
	ep.Options("/events", a.epcisOptions("OPTIONS, GET, POST"))
	ep.Get("/events", a.getEvents)
	ep.Post("/events", a.captureAuth, a.postEvent)
	ep.Options("/events/:id", a.epcisOptions("OPTIONS, GET"))
	ep.Get("/events/:id", a.getEvent)

	// GS1 Digital Link resolver.
	for _, p := range []string{"/01/*", "/00/*", "/gtin/*", "/sscc/*"} {
		f.Get(p, a.cors("GET, HEAD, OPTIONS"), a.resolve)
		f.Options(p, a.cors("GET, HEAD, OPTIONS"), a.preflight("GET, HEAD, OPTIONS"))
	}
	f.Get("/.well-known/gs1resolver", a.cors("GET, HEAD, OPTIONS"), a.resolverDescription)
	f.Get("/qr", a.cors("GET, HEAD, OPTIONS"), a.qr)
	f.Get("/lookup", a.lookup)

	// Public pages.
	f.Get("/login", a.optionalUser, a.loginPage)
	f.Post("/login", a.loginSubmit)
	f.Post("/logout", a.optionalUser, a.logout)
	f.Get("/verify", a.optionalUser, a.verifyPage)
	f.Post("/verify", a.optionalUser, a.verifySubmit)

	// Pages behind sign-in.
	f.Get("/", a.requireUser, a.dashboardPage)
	f.Get("/events", a.requireUser, a.eventsPage)
	f.Get("/events/:id", a.requireUser, a.eventPage)
	f.Get("/batches", a.requireUser, a.batchesPage)
	f.Get("/edges", a.requireUser, a.edgesPage)
	f.Get("/alerts", a.requireUser, a.alertsPage)
	f.Get("/regulator", a.requireUser, a.requireRegulator, a.regulatorPage)
	f.Post("/regulator/recalls", a.requireUser, a.requireCSRF, a.requireRegulator, a.recallSubmit)

	// Donations, insurance and data sharing (pages and JSON API).
	a.donationRoutes(f, api)
	a.insuranceRoutes(f, api)
	a.sharingRoutes(f, api)
}
