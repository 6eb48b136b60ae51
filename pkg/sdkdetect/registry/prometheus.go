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
	reg.MustRegister(m.cache, m.lookups, m.budget, m.requests)
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
