package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/tokenguard/tokenguard/pkg/config"
	"github.com/tokenguard/tokenguard/pkg/engine"
	"github.com/tokenguard/tokenguard/pkg/imageevidence"
	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect/pullsecrets"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect/registry"
)

// pullSecretsSyncTimeout bounds how long start-up waits for the pull
// secret informers: past it tokenguard serves anyway, and lookups use the
// default keychain until the caches fill.
const pullSecretsSyncTimeout = 15 * time.Second

// newEngine is the one evaluation of a compiled configuration, with an
// evidence source (nil: the tag only) and the budget one pod's lookups
// share (0: none; the registry's own per-image timeout still holds).
func newEngine(cc *config.Compiled, evidence engine.EvidenceSource, budget time.Duration, aws engine.AWSCredentialSource) *engine.Engine {
	if evidence == nil {
		evidence, budget = sdkdetect.TagOnly{}, 0
	}
	o := engine.Options{Catalog: cc.Catalog, Evidence: evidence, ControlPlane: cc.ControlPlane, Budget: budget, AWS: aws}
	if cc.Exempter != nil {
		o.Exempter = cc.Exempter
	}
	return engine.New(o)
}

// registryOptions are the registry source's options from the
// configuration: timeout (0: registry.timeout), the extra insecure
// registries of --insecure-registry, credentials per puller (nil: the
// default keychain only) and metrics (nil: none).
type registryOptions struct {
	timeout       time.Duration
	extraInsecure []string
	credentials   registry.Credentials
	metrics       registry.Metrics
	log           *slog.Logger
	// layers is the layer scanning of registry.layers: off unless set by
	// layerOptions.
	layers registry.LayerOptions
	// shared is the cluster's ImageEvidence (nil: none).
	shared registry.Shared
}

// layerOptions are registry.layers of the configuration as the registry
// source takes them. on says whether this command scans at all (serve:
// registry.layers.mode; check and audit: only with --scan-layers, where
// mode never in the configuration still gives auto); wait makes reviews
// wait for scans (check, audit) rather than only within the budget.
func layerOptions(cc *config.Compiled, on, wait bool) registry.LayerOptions {
	l := &cc.Registry.Layers
	if !on {
		return registry.LayerOptions{Mode: registry.LayersNever}
	}
	mode := l.Mode
	if wait && mode == config.LayersNever {
		mode = config.LayersAuto
	}
	return registry.LayerOptions{
		Mode:               mode,
		Platforms:          l.Platforms,
		MaxCompressedBytes: l.MaxCompressedBytes.Bytes,
		MaxFileBytes:       l.MaxFileBytes.Bytes,
		Timeout:            l.Timeout.Duration,
		Concurrency:        l.Concurrency,
		QueueSize:          l.QueueSize,
		Wait:               wait,
	}
}

// newRegistrySource builds the registry evidence source from the
// configuration, keeping only catalogued SBOM packages.
func newRegistrySource(cc *config.Compiled, o registryOptions) *registry.Source {
	rc := &cc.Registry
	if o.timeout <= 0 {
		o.timeout = rc.Timeout.Duration
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	catalog := cc.Catalog
	return registry.New(registry.Options{
		Timeout:            o.timeout,
		CacheEntries:       rc.CacheEntries,
		CacheBytes:         rc.CacheBytes.Bytes,
		MaxSBOMBytes:       rc.MaxSBOMBytes.Bytes,
		InsecureRegistries: append(append([]string(nil), rc.InsecureRegistries...), o.extraInsecure...),
		Registries:         rc.Registries,
		Keep:               func(p sdkdetect.PURL) bool { return catalog.KeepPURL(p.Type, p.Namespace, p.Name) },
		Credentials:        o.credentials,
		Logger:             o.log,
		Metrics:            o.metrics,
		Layers:             o.layers,
		Shared:             o.shared,
	})
}

// startPullSecrets starts the informers of service accounts and pull
// secrets (registry.pullSecrets) and waits at most syncTimeout for their
// caches. It returns the credentials of each puller and the function that
// stops the informers.
func startPullSecrets(ctx context.Context, client pullsecrets.Client, syncTimeout time.Duration, log *slog.Logger) (*pullsecrets.PullSecrets, func()) {
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
	return ps, func() { cancel(); ps.Shutdown() }
}

// startSharedEvidence starts the Store of the cluster's ImageEvidence
// objects (registry evidence shared by every replica and the controller,
// kept across restarts) on cfg, a client without request timeout (its
// informer watches). It stays off by itself while the CRD is not installed
// or not readable. Its lookups and writes are counted on reg.
func startSharedEvidence(ctx context.Context, cfg *rest.Config, cat *policy.Catalog, reg prometheus.Registerer, log *slog.Logger) (*imageevidence.Store, error) {
	cfg = rest.CopyConfig(cfg)
	if cfg.UserAgent == "" {
		cfg.UserAgent = "tokenguard/" + version
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	lookups := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tokenguard_imageevidence_lookups_total",
		Help: "Registry lookups that asked the cluster's ImageEvidence objects first: hit when one answered (no registry request), miss when the image was looked up.",
	}, []string{"result"})
	writes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tokenguard_imageevidence_writes_total",
		Help: "ImageEvidence writes by outcome (created, updated, unchanged: not written, deleted, conflict: another replica wrote first, error, dropped: the write queue was full).",
	}, []string{"outcome"})
	reg.MustRegister(lookups, writes)
	hit, miss := lookups.WithLabelValues("hit"), lookups.WithLabelValues("miss")
	store := imageevidence.NewStore(dyn, cat, imageevidence.StoreOptions{
		Logger: log,
		OnLookup: func(ok bool) {
			if ok {
				hit.Inc()
			} else {
				miss.Inc()
			}
		},
		OnWrite: func(outcome string) { writes.WithLabelValues(outcome).Inc() },
	})
	store.Start(ctx)
	return store, nil
}
