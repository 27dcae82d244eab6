package edge

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the edge's Prometheus series. They register with the
// Registerer given to the agent, so several agents can live in one process.
type metrics struct {
	messages    *prometheus.CounterVec // result: durable | refused
	duplicates  *prometheus.CounterVec // kind: raw | event
	events      *prometheus.CounterVec // kind: rfid | sensor | scanner | capture
	deadLetters *prometheus.CounterVec // reason
	reads       prometheus.Counter
	sealed      prometheus.Counter
	sealedEv    prometheus.Counter
	uploaded    prometheus.Counter
	uploadErrs  *prometheus.CounterVec // kind: transient | rejected
	unmapped    prometheus.Counter
	status      *prometheus.CounterVec // vendor, type
	commit      prometheus.Histogram
	backlogEv   prometheus.Gauge
	backlogBt   prometheus.Gauge
	inbox       prometheus.Gauge
	oldest      prometheus.Gauge
	diskFull    prometheus.Gauge
	windows     prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer, edge string) *metrics {
	c := prometheus.Labels{"edge": edge}
	m := &metrics{
		messages:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tracegate_edge_messages_total", Help: "Device messages received, by result (durable: in the journal; refused: not acknowledged, device re-sends).", ConstLabels: c}, []string{"result"}),
		duplicates:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tracegate_edge_duplicates_total", Help: "Duplicates dropped: raw (same message re-delivered) or event (same CBV event hash).", ConstLabels: c}, []string{"kind"}),
		events:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tracegate_edge_events_total", Help: "EPCIS events stored, by source.", ConstLabels: c}, []string{"kind"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tracegate_edge_dead_letters_total", Help: "Input kept in the dead-letter store, by reason.", ConstLabels: c}, []string{"reason"}),
		reads:       prometheus.NewCounter(prometheus.CounterOpts{Name: "tracegate_edge_rfid_reads_total", Help: "RFID tag reads before smoothing.", ConstLabels: c}),
		sealed:      prometheus.NewCounter(prometheus.CounterOpts{Name: "tracegate_edge_batches_sealed_total", Help: "Batches sealed and signed.", ConstLabels: c}),
		sealedEv:    prometheus.NewCounter(prometheus.CounterOpts{Name: "tracegate_edge_sealed_events_total", Help: "Events sealed into batches.", ConstLabels: c}),
		uploaded:    prometheus.NewCounter(prometheus.CounterOpts{Name: "tracegate_edge_batches_uploaded_total", Help: "Batches acknowledged by the gateway.", ConstLabels: c}),
		uploadErrs:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tracegate_edge_upload_errors_total", Help: "Failed batch uploads: transient (retried with backoff) or rejected (gateway refused; kept, alarmed, retried slowly).", ConstLabels: c}, []string{"kind"}),
		unmapped:    prometheus.NewCounter(prometheus.CounterOpts{Name: "tracegate_edge_unmapped_devices_total", Help: "Readings from a reader or sensor with no location mapping (a synthetic read point was used).", ConstLabels: c}),
		status:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tracegate_edge_vendor_status_events_total", Help: "Reader status messages (not tag reads) in vendor formats, by vendor and event type (\"unknown\" for types the edge does not know); counted, not stored.", ConstLabels: c}, []string{"vendor", "type"}),
		commit:      prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tracegate_edge_inbox_commit_seconds", Help: "Time to make a group of messages durable.", ConstLabels: c, Buckets: prometheus.ExponentialBuckets(0.0001, 2, 14)}),
		backlogEv:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "tracegate_edge_backlog_events", Help: "Events not yet sealed.", ConstLabels: c}),
		backlogBt:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "tracegate_edge_backlog_batches", Help: "Sealed batches not yet acknowledged by the gateway.", ConstLabels: c}),
		inbox:       prometheus.NewGauge(prometheus.GaugeOpts{Name: "tracegate_edge_inbox_depth", Help: "Durable messages not yet processed.", ConstLabels: c}),
		oldest:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "tracegate_edge_backlog_oldest_seconds", Help: "Age of the oldest unacknowledged batch.", ConstLabels: c}),
		diskFull:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "tracegate_edge_disk_full", Help: "1 while the journal refuses readings for lack of disk space.", ConstLabels: c}),
		windows:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "tracegate_edge_open_windows", Help: "Open RFID smoothing windows.", ConstLabels: c}),
	}
	if reg != nil {
		for _, col := range []prometheus.Collector{m.messages, m.duplicates, m.events, m.deadLetters, m.reads, m.sealed, m.sealedEv, m.uploaded, m.uploadErrs, m.unmapped, m.status, m.commit, m.backlogEv, m.backlogBt, m.inbox, m.oldest, m.diskFull, m.windows} {
			reg.MustRegister(col)
		}
	}
	return m
}
