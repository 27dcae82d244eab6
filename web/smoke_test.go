package web

import "testing"

func TestSmoke(t *testing.T) {
	e := shared(t)
	r := e.get("/epcis/events?perPage=3")
	t.Logf("%d %s %s", r.StatusCode, r.Header.Get("Link"), r.body[:min(len(r.body), 600)])
	r = e.get("/01/" + e.gtin + "/10/" + testLot, "Accept", "text/html")
	t.Logf("%d %.300s", r.StatusCode, r.body)
}
