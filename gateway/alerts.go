package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Alert is something a member must act on: a cold-chain excursion, a
// recall of goods it holds, a suspect pack, a faulty sensor. Alerts are
// kept in the gateway store, shown live in the portal (the "alert" update
// on the bus) and published over MQTT on tracegate/{site}/alerts.
type Alert struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`     // see the Alert* constants
	Severity  string    `json:"severity"` // "critical", "warning" or "info"
	At        time.Time `json:"at"`       // when the gateway raised it
	EventTime time.Time `json:"eventTime,omitzero"`
	Site      string    `json:"site,omitempty"` // GLN
	SiteName  string    `json:"siteName,omitempty"`
	Topic     string    `json:"topic,omitempty"` // the MQTT topic it went out on
	Orgs      []string  `json:"orgs,omitempty"`  // who sees it
	GTIN      string    `json:"gtin,omitempty"`
	Lot       string    `json:"lot,omitempty"`
	EPC       string    `json:"epc,omitempty"`
	Sensor    string    `json:"sensor,omitempty"`
	Title     string    `json:"title"`
	Message   string    `json:"message"`
	Link      string    `json:"link,omitempty"` // portal path to look at
	Data      any       `json:"data,omitempty"`
}

// Alert kinds.
const (
	AlertExcursionStart    = "excursion-start"
	AlertExcursionBreach   = "excursion-breach"
	AlertExcursionRecorded = "excursion-recorded"
	AlertRecall            = "recall"
	AlertSuspect           = "suspect"
	AlertSensorFault       = "sensor-fault"
)

// AlertPublisher sends an alert payload to an MQTT topic (the embedded
// broker's inline client in `tracegate up`, a paho client otherwise).
type AlertPublisher interface {
	PublishAlert(topic string, payload []byte) error
}

// WithAlertPublisher makes the gateway publish alerts over MQTT.
func WithAlertPublisher(p AlertPublisher) Option { return func(s *Service) { s.alertPub = p } }

// AlertTopic is the MQTT topic of a site's alerts.
func AlertTopic(site string) string { return "tracegate/" + site + "/alerts" }

// raise stores an alert once (by ID), then tells the portal and the site's
// MQTT topic. It reports whether the alert was new.
func (s *Service) raise(ctx context.Context, a Alert) bool {
	if a.At.IsZero() {
		a.At = s.now().UTC()
	}
	site := a.Site
	if si, ok := s.sites(ctx)[a.Site]; ok {
		a.SiteName = si.Name
		if si.Topic != "" {
			site = si.Topic
		}
		if !contains(a.Orgs, si.Org) && si.Org != "" {
			a.Orgs = append(a.Orgs, si.Org)
		}
	}
	if site == "" {
		site = "all"
	}
	a.Topic = AlertTopic(site)
	added, err := s.st.PutAlert(a.ID, a.At, a.Orgs, a)
	if err != nil {
		s.log.Error("store alert", "id", a.ID, "err", err)
		s.m.alertErrors.WithLabelValues("store").Inc()
	}
	if !added && err == nil {
		return false
	}
	s.m.alerts.WithLabelValues(a.Kind).Inc()
	s.bus.Publish(Update{Type: "alert", Data: a})
	if s.alertPub != nil {
		b, _ := json.Marshal(a)
		if err := s.alertPub.PublishAlert(a.Topic, b); err != nil {
			s.m.alertErrors.WithLabelValues("mqtt").Inc()
			s.log.Warn("publish alert over MQTT", "topic", a.Topic, "err", err)
		}
	}
	s.log.Info("alert", "kind", a.Kind, "title", a.Title, "topic", a.Topic)
	return true
}

// Alerts lists the newest alerts an org sees (all alerts with org "").
func (s *Service) Alerts(org string, limit int) ([]Alert, error) {
	raws, err := s.st.Alerts(org, limit)
	if err != nil {
		return nil, errf(KindUnavailable, "cannot read alerts", "%w", err)
	}
	out := make([]Alert, 0, len(raws))
	for _, r := range raws {
		var a Alert
		if err := json.Unmarshal(r, &a); err != nil {
			return nil, fmt.Errorf("stored alert: %w", err)
		}
		out = append(out, a)
	}
	return out, nil
}
