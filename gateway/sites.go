package gateway

import (
	"context"
	"math"
	"sync"
	"time"
)

// SiteInfo is a site of the consortium's location master data (held on
// the ledger), with its organisation's name, as custody and the genuine
// checks use it.
type SiteInfo struct {
	GLN     string            `json:"gln"`
	Org     string            `json:"org"`
	OrgName string            `json:"orgName,omitempty"`
	Name    string            `json:"name"`
	Kind    string            `json:"kind,omitempty"`
	Address string            `json:"address,omitempty"`
	Country string            `json:"country,omitempty"`
	Lat     float64           `json:"lat"`
	Lon     float64           `json:"lon"`
	Places  map[string]string `json:"places,omitempty"` // SGLN -> name
	// Topic is the site's key in the MQTT topic layout (tracegate/{site}/…)
	// when the gateway knows it.
	Topic string `json:"topic,omitempty"`
}

// siteCache keeps the ledger's sites for a short while.
type siteCache struct {
	mu     sync.Mutex
	at     time.Time
	bySite map[string]SiteInfo
}

// siteTTL is how long the site directory is trusted before it is read again.
const siteTTL = 10 * time.Second

// sites returns the site directory by GLN (empty when the ledger has none
// or cannot be read: custody then names sites by GLN only).
func (s *Service) sites(ctx context.Context) map[string]SiteInfo {
	s.siteC.mu.Lock()
	defer s.siteC.mu.Unlock()
	if s.siteC.bySite != nil && time.Since(s.siteC.at) < siteTTL {
		return s.siteC.bySite
	}
	m, err := s.loadSites(ctx)
	if err != nil {
		s.log.Warn("cannot read sites from the ledger", "err", err)
		if s.siteC.bySite != nil {
			return s.siteC.bySite
		}
		return map[string]SiteInfo{}
	}
	s.siteC.bySite, s.siteC.at = m, time.Now()
	return m
}

// Sites returns the consortium's site directory by GLN (from the ledger,
// cached for a few seconds).
func (s *Service) Sites(ctx context.Context) map[string]SiteInfo { return s.sites(ctx) }

// forgetSites drops the cached directory (after a site is registered).
func (s *Service) forgetSites() {
	s.siteC.mu.Lock()
	s.siteC.bySite = nil
	s.siteC.mu.Unlock()
}

// placeName names a location for people: the sub-location's name on the
// ledger, else its site's name, else the location itself.
func (s *Service) placeName(ctx context.Context, loc string) string {
	sites := s.sites(ctx)
	si, ok := sites[siteOf(loc)]
	if !ok {
		return loc
	}
	if n, ok := si.Places[loc]; ok && n != "" {
		return n
	}
	return si.Name
}

// distanceKm is the great-circle distance between two sites (haversine,
// mean Earth radius 6371.0088 km).
func distanceKm(a, b SiteInfo) float64 {
	const r = 6371.0088
	rad := math.Pi / 180
	dLat := (b.Lat - a.Lat) * rad
	dLon := (b.Lon - a.Lon) * rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(h)))
}
