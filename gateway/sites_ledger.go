package gateway

import (
	"context"
	"sync"
)

// siteTopics maps GLNs to MQTT topic site keys (tracegate/{site}/…), as
// the deployment configures them (tracegate up: from the edge's sites).
type siteTopics struct {
	mu sync.Mutex
	m  map[string]string
}

// WithSiteTopics tells the gateway which topic site key each GLN has, so
// alerts for a site go out on its own tracegate/{site}/alerts topic.
func WithSiteTopics(m map[string]string) Option {
	return func(s *Service) {
		s.topics.mu.Lock()
		s.topics.m = m
		s.topics.mu.Unlock()
	}
}

// loadSites reads the site directory from the ledger, with org names.
func (s *Service) loadSites(ctx context.Context) (map[string]SiteInfo, error) {
	list, err := s.led.Sites(ctx, s.cfg.Reader, "")
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	if orgs, err := s.led.Orgs(ctx, s.cfg.Reader); err == nil {
		for _, o := range orgs {
			names[o.ID] = o.Name
		}
	}
	s.topics.mu.Lock()
	topics := s.topics.m
	s.topics.mu.Unlock()
	out := make(map[string]SiteInfo, len(list))
	for _, si := range list {
		info := SiteInfo{GLN: si.GLN, Org: si.Org, OrgName: names[si.Org], Name: si.Name, Kind: si.Kind,
			Address: si.Address, Country: si.Country, Lat: si.Lat, Lon: si.Lon, Places: map[string]string{}, Topic: topics[si.GLN]}
		for _, l := range si.Locations {
			info.Places[l.ID] = l.Name
		}
		out[si.GLN] = info
	}
	return out, nil
}
