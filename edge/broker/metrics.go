package broker

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Connection results, the values of tracegate_broker_connections_total{result}.
const (
	ConnAccepted         = "accepted"
	ConnUnknownUser      = "unknown_user"
	ConnBadPassword      = "bad_password"
	ConnClientIDMismatch = "client_id_mismatch" // a device whose client ID is not its username
	ConnClientIDReserved = "client_id_reserved" // a service using a device's client ID
	ConnAuthError        = "error"              // the account's hash could not be checked
)

// Publish results, the values of tracegate_broker_publish_total{result}.
const (
	PubAccepted     = "accepted"
	PubACLDenied    = "acl_denied"
	PubTooLarge     = "too_large"
	PubIngestFailed = "ingest_failed"
)

type metrics struct {
	connections *prometheus.CounterVec
	publishes   *prometheus.CounterVec
	ingest      prometheus.Histogram
	clients     prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		connections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tracegate_broker_connections_total",
			Help: "MQTT connection attempts by result (accepted, unknown_user, bad_password, client_id_mismatch, client_id_reserved, error).",
		}, []string{"result"}),
		publishes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tracegate_broker_publish_total",
			Help: "Client publishes by result (accepted, acl_denied, too_large, ingest_failed).",
		}, []string{"result"}),
		ingest: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "tracegate_broker_ingest_duration_seconds",
			Help:    "Time the ingest callback took per device publish (the PUBACK waits for it).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 12),
		}),
		clients: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tracegate_broker_clients_connected",
			Help: "MQTT clients currently connected.",
		}),
	}
	// Start every series at zero so dashboards and alerts see them.
	for _, r := range []string{ConnAccepted, ConnUnknownUser, ConnBadPassword, ConnClientIDMismatch, ConnClientIDReserved, ConnAuthError} {
		m.connections.WithLabelValues(r)
	}
	for _, r := range []string{PubAccepted, PubACLDenied, PubTooLarge, PubIngestFailed} {
		m.publishes.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.connections, m.publishes, m.ingest, m.clients} {
		if err := reg.Register(c); err != nil {
			if are := (prometheus.AlreadyRegisteredError{}); errors.As(err, &are) {
				return nil, fmt.Errorf("register broker metrics (one registry per broker): %w", err)
			}
			return nil, fmt.Errorf("register broker metrics: %w", err)
		}
	}
	return m, nil
}
