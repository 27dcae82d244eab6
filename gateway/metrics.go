package gateway

import (
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	reg           *prometheus.Registry
	batches       *prometheus.CounterVec
	events        prometheus.Counter
	anchored      prometheus.Counter
	anchorErrors  *prometheus.CounterVec
	anchorSubmit  prometheus.Histogram
	anchorDelay   prometheus.Histogram
	captures      *prometheus.CounterVec
	proofs        *prometheus.CounterVec
	alerts        *prometheus.CounterVec
	alertErrors   *prometheus.CounterVec
	excursions    *prometheus.CounterVec
	alertDelay    prometheus.Histogram
	sharedReads   *prometheus.CounterVec
	accessBatches *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry, s *Service) *metrics {
	m := &metrics{
		reg:           reg,
		batches:       prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tracegate_gateway_batches_total", Help: "Uploaded batches by outcome (accepted, duplicate, or the error kind)."}, []string{"outcome"}),
		events:        prometheus.NewCounter(prometheus.CounterOpts{Name: "tracegate_gateway_events_indexed_total", Help: "Events indexed."}),
		anchored:      prometheus.NewCounter(prometheus.CounterOpts{Name: "tracegate_gateway_batches_anchored_total", Help: "Batches anchored on the ledger."}),
		anchorErrors:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tracegate_gateway_anchor_errors_total", Help: "Failed anchoring attempts: unavailable (retried with backoff) or refused (kept queued, alarmed)."}, []string{"kind"}),
		anchorSubmit:  prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tracegate_gateway_anchor_submit_seconds", Help: "Ledger submit-to-commit time of an anchor.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 15)}),
		anchorDelay:   prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tracegate_gateway_anchor_delay_seconds", Help: "Time from a batch's acceptance to its anchor.", Buckets: prometheus.ExponentialBuckets(0.005, 2, 16)}),
		captures:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tracegate_gateway_capture_total", Help: "EPCIS capture requests by outcome."}, []string{"outcome"}),
		proofs:        prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tracegate_gateway_proofs_total", Help: "Proof requests by outcome."}, []string{"outcome"}),
		alerts:        prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tracegate_gateway_alerts_total", Help: "Alerts raised, by kind."}, []string{"kind"}),
		alertErrors:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tracegate_gateway_alert_errors_total", Help: "Alerts that could not be stored or published, by where (store, mqtt)."}, []string{"where"}),
		excursions:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tracegate_gateway_excursions_total", Help: "Cold-chain excursions by outcome (recorded on the ledger, or the error kind)."}, []string{"outcome"}),
		alertDelay:    prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tracegate_gateway_breach_alert_delay_seconds", Help: "Time from a batch's acceptance to the excursion alert its readings raised.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}),
		sharedReads:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tracegate_gateway_shared_reads_total", Help: "Reads of another organisation's data by outcome (allowed inside a grant, refused, unlogged: refused because the access log could not store it)."}, []string{"outcome"}),
		accessBatches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tracegate_gateway_access_log_batches_total", Help: "Access-log batches sealed, anchored, or whose anchoring failed (retried)."}, []string{"state"}),
	}
	if reg == nil {
		return m
	}
	reg.MustRegister(m.batches, m.events, m.anchored, m.anchorErrors, m.anchorSubmit, m.anchorDelay, m.captures, m.proofs, m.alerts, m.alertErrors, m.excursions, m.alertDelay, m.sharedReads, m.accessBatches)
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tracegate_gateway_anchor_queue", Help: "Batches waiting for their anchor."},
		func() float64 { return float64(s.AnchorStatus().Queued) }))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tracegate_gateway_anchor_queue_oldest_seconds", Help: "Age of the oldest batch waiting for its anchor."},
		func() float64 {
			o := s.AnchorStatus().Oldest
			if o.IsZero() {
				return 0
			}
			return s.now().Sub(o).Seconds()
		}))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tracegate_gateway_anchor_stuck", Help: "Batches the ledger refused to anchor (kept queued)."},
		func() float64 { return float64(s.AnchorStatus().Stuck) }))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tracegate_gateway_ledger_up", Help: "0 while the ledger is unavailable to the anchoring pipeline."},
		func() float64 {
			if s.AnchorStatus().LedgerDown {
				return 0
			}
			return 1
		}))
	return m
}
