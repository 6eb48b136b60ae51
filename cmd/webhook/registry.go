package main

import (
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tokenguard/tokenguard/pkg/config"
	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect/registry"
)

// newRegistrySource builds the registry evidence source from the
// configuration, keeping only catalogued SBOM packages.
func newRegistrySource(rc *config.RegistryConfig, extraInsecure []string, timeout time.Duration, catalog *policy.Catalog, log *slog.Logger, m registry.Metrics) *registry.Source {
	if timeout <= 0 {
		timeout = rc.Timeout.Duration
	}
	return registry.New(registry.Options{
		Timeout:            timeout,
		CacheEntries:       rc.CacheEntries,
		CacheBytes:         rc.CacheBytes.Bytes,
		InsecureRegistries: append(append([]string(nil), rc.InsecureRegistries...), extraInsecure...),
		Registries:         rc.Registries,
		Keep:               func(p sdkdetect.PURL) bool { return catalog.KeepPURL(p.Type, p.Namespace, p.Name) },
		Logger:             log,
		Metrics:            m,
	})
}

// registryMetrics exports the registry source's counts to Prometheus.
type registryMetrics struct {
	cache    *prometheus.CounterVec
	lookups  *prometheus.HistogramVec
	budget   prometheus.Counter
	requests *prometheus.CounterVec
}

func newRegistryMetrics(reg prometheus.Registerer) *registryMetrics {
	m := &registryMetrics{
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

func (m *registryMetrics) CacheResult(hit bool) {
	if hit {
		m.cache.WithLabelValues("hit").Inc()
	} else {
		m.cache.WithLabelValues("miss").Inc()
	}
}

func (m *registryMetrics) LookupDone(_, reason string, d time.Duration) {
	if reason == "" {
		reason = "ok"
	}
	m.lookups.WithLabelValues(reason).Observe(d.Seconds())
}

func (m *registryMetrics) BudgetExceeded(string) { m.budget.Inc() }

func (m *registryMetrics) Request(host string) { m.requests.WithLabelValues(host).Inc() }
