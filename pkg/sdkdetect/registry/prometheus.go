package registry

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// prometheusMetrics exports a Source's counts to Prometheus.
type prometheusMetrics struct {
	cache    *prometheus.CounterVec
	lookups  *prometheus.HistogramVec
	budget   prometheus.Counter
	requests *prometheus.CounterVec
	// layer scans
	scans     *prometheus.HistogramVec
	scanBytes prometheus.Counter
	scanQueue prometheus.Gauge
}

// NewPrometheusMetrics registers the registry metrics on reg and returns
// them as a Source's Metrics.
func NewPrometheusMetrics(reg prometheus.Registerer) Metrics {
	m := &prometheusMetrics{
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokenguard_registry_cache_total",
			Help: "Evidence lookups answered from the cache (hit) or sent to the registry (miss).",
		}, []string{"result"}),
		lookups: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tokenguard_registry_lookup_duration_seconds",
			Help:    "Registry lookups by outcome (ok, or the failure reason), whether or not admission still waited for them.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2, 5, 10, 30},
		}, []string{"outcome"}),
		budget: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tokenguard_registry_budget_exceeded_total",
			Help: "Admission reviews that stopped waiting for a registry at the budget (evidence unknown; the lookup went on in the background).",
		}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokenguard_registry_requests_total",
			Help: "HTTP requests sent to registries and their token servers, by host.",
		}, []string{"host"}),
	}
	m.scans = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "tokenguard_layer_scan_duration_seconds",
		Help:    "Scans of images' files (layer scanning) by outcome: complete, incomplete (a budget, a registry error or an unreadable layer cut it short), failed; dropped counts scans not started because the queue was full.",
		Buckets: []float64{.1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300},
	}, []string{"outcome"})
	m.scanBytes = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "tokenguard_layer_scan_compressed_bytes_total",
		Help: "Compressed layer bytes read by layer scans (layers already in the summary cache cost nothing).",
	})
	m.scanQueue = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "tokenguard_layer_scan_queue",
		Help: "Layer scans running or waiting for a slot.",
	})
	reg.MustRegister(m.cache, m.lookups, m.budget, m.requests, m.scans, m.scanBytes, m.scanQueue)
	return m
}

func (m *prometheusMetrics) CacheResult(hit bool) {
	if hit {
		m.cache.WithLabelValues("hit").Inc()
	} else {
		m.cache.WithLabelValues("miss").Inc()
	}
}

func (m *prometheusMetrics) LookupDone(_, reason string, d time.Duration) {
	if reason == "" {
		reason = "ok"
	}
	m.lookups.WithLabelValues(reason).Observe(d.Seconds())
}

func (m *prometheusMetrics) BudgetExceeded(string) { m.budget.Inc() }

func (m *prometheusMetrics) Request(host string) { m.requests.WithLabelValues(host).Inc() }

func (m *prometheusMetrics) LayerScan(outcome string, compressed int64, d time.Duration) {
	m.scans.WithLabelValues(outcome).Observe(d.Seconds())
	m.scanBytes.Add(float64(compressed))
}

func (m *prometheusMetrics) LayerScanQueue(n int) { m.scanQueue.Set(float64(n)) }
