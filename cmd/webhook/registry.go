package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tokenguard/tokenguard/pkg/config"
	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect/pullsecrets"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect/registry"
)

// pullSecretsSyncTimeout bounds how long start-up waits for the pull
// secret informers: past it tokenguard serves anyway, and lookups use the
// default keychain until the caches fill.
const pullSecretsSyncTimeout = 15 * time.Second

// evidenceContextFunc is admission.Reviewer.EvidenceContext.
type evidenceContextFunc = func(ctx context.Context, namespace string, pod *policy.PodSpec) context.Context

// startPullSecrets starts the informers of service accounts and pull
// secrets (registry.pullSecrets) and returns the hook that gives each
// review's lookups its pod's credentials, and the function that stops the
// informers. Without a kubeconfig or in-cluster config it logs why and
// returns nil hook (lookups use the default keychain).
func startPullSecrets(ctx context.Context, kubeconfig string, log *slog.Logger) (evidenceContextFunc, func()) {
	cfg, err := restConfig(kubeconfig)
	if err == nil && cfg == nil {
		err = errNoCluster
	}
	var client pullsecrets.Client
	if err == nil {
		client, err = newKubeClient(cfg)
	}
	if err != nil {
		log.Warn("registry.pullSecrets is on but the cluster cannot be reached; lookups use the webhook's own credentials only", "error", err.Error())
		return nil, func() {}
	}
	return pullSecretsHook(ctx, client, pullSecretsSyncTimeout, log)
}

type noClusterError struct{}

func (noClusterError) Error() string {
	return "no --kubeconfig and not running in a pod (no in-cluster config)"
}

var errNoCluster error = noClusterError{}

// pullSecretsHook starts PullSecrets on client and waits at most
// syncTimeout for the caches.
func pullSecretsHook(ctx context.Context, client pullsecrets.Client, syncTimeout time.Duration, log *slog.Logger) (evidenceContextFunc, func()) {
	ps := pullsecrets.New(client, 0)
	ctx, cancel := context.WithCancel(ctx)
	ps.Start(ctx)
	syncCtx, syncCancel := context.WithTimeout(ctx, syncTimeout)
	synced := ps.WaitForSync(syncCtx)
	syncCancel()
	if synced {
		log.Info("reading image pull secrets for registry lookups")
	} else {
		log.Warn("the pull secret and service account caches did not sync in time; lookups use the webhook's own credentials until they do (RBAC: deploy/components/registry-credentials)", "waited", syncTimeout.String())
	}
	hook := func(ctx context.Context, namespace string, pod *policy.PodSpec) context.Context {
		key, kc := ps.Keychain(namespace, pod.ServiceAccountName, pod.ImagePullSecrets)
		return registry.WithKeychain(ctx, key, kc)
	}
	return hook, func() { cancel(); ps.Shutdown() }
}

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
		MaxSBOMBytes:       rc.MaxSBOMBytes.Bytes,
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
