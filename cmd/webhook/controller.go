package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/tokenguard/tokenguard/pkg/auditsink"
	"github.com/tokenguard/tokenguard/pkg/config"
	"github.com/tokenguard/tokenguard/pkg/controller"
	"github.com/tokenguard/tokenguard/pkg/engine"
	"github.com/tokenguard/tokenguard/pkg/imageevidence"
	"github.com/tokenguard/tokenguard/pkg/reports"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect/registry"
)

const controllerSynopsis = `controller [flags]

Keep a report of every running workload current: the leader of the
replicas (a coordination.k8s.io Lease) groups the cluster's pods by
workload, judges each with the same engine as serve, check and audit, and
writes one OpenReports Report per workload (a wgpolicyk8s.io PolicyReport
where only those CRDs are installed), owned by the workload, only when its
content changed. Metrics on --metrics-addr (tokenguard_workloads).`

// controllerFlags are the controller's settings.
type controllerFlags struct {
	kubeconfig, configFile       string
	leaseNamespace, identity     string
	interval                     time.Duration
	writeQPS                     float64
	writeBurst                   int
	metricsAddr                  string
	reportKind                   string
	logFormat, logLevel          string
	leaseDuration, renewDeadline time.Duration
	evidenceTTL                  time.Duration
	staleTokensNamespace         string
}

func runController(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("controller", controllerSynopsis, stderr)
	var f controllerFlags
	host, _ := os.Hostname()
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig of the cluster (default: the in-cluster config)")
	fs.StringVar(&f.configFile, "config", "", "a TokenGuardConfiguration, as serve reads it (catalog overrides, exemptions, registry)")
	fs.StringVar(&f.leaseNamespace, "lease-namespace", envOr("POD_NAMESPACE", "tokenguard-system"), "namespace of the Lease tokenguard-controller")
	fs.StringVar(&f.identity, "identity", envOr("POD_NAME", host), "this replica's name in the Lease")
	fs.DurationVar(&f.interval, "interval", time.Minute, "how often the leader judges every workload again (pod changes start a pass sooner)")
	fs.Float64Var(&f.writeQPS, "write-qps", 20, "at most this many report writes a second")
	fs.IntVar(&f.writeBurst, "write-burst", 40, "writes allowed at once above --write-qps")
	fs.StringVar(&f.metricsAddr, "metrics-addr", ":9090", "plain-HTTP address of /metrics")
	fs.StringVar(&f.reportKind, "report-kind", "auto", "auto (Report when the openreports.io CRD is served, else PolicyReport), Report or PolicyReport")
	fs.StringVar(&f.logFormat, "log-format", "json", "json or text")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.DurationVar(&f.evidenceTTL, "evidence-ttl", imageevidence.DefaultTTL, "delete the ImageEvidence of an image digest not seen running for this long")
	fs.StringVar(&f.staleTokensNamespace, "stale-tokens-namespace", "", "namespace of the stale-token observations the webhook replicas' audit sinks publish (default: --lease-namespace)")
	fs.DurationVar(&f.leaseDuration, "lease-duration", controller.DefaultLeaseDuration, "how long a silent leader keeps the Lease")
	fs.DurationVar(&f.renewDeadline, "renew-deadline", controller.DefaultRenewDeadline, "how long the leader may fail to renew before it stops working")
	if _, err := parseInterspersed(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	switch {
	case f.reportKind != "auto" && f.reportKind != "Report" && f.reportKind != "PolicyReport":
		fmt.Fprintf(stderr, "tokenguard controller: --report-kind %q: use auto, Report or PolicyReport\n", f.reportKind)
		return exitUsage
	case f.interval <= 0 || f.writeQPS <= 0 || f.writeBurst < 1:
		fmt.Fprintln(stderr, "tokenguard controller: --interval and --write-qps must be positive, --write-burst at least 1")
		return exitUsage
	case f.evidenceTTL <= 0:
		fmt.Fprintln(stderr, "tokenguard controller: --evidence-ttl must be positive")
		return exitUsage
	case f.renewDeadline >= f.leaseDuration:
		fmt.Fprintln(stderr, "tokenguard controller: --renew-deadline must be shorter than --lease-duration")
		return exitUsage
	}
	return runDaemon("controller", stderr, f.logFormat, f.logLevel, func(ctx context.Context, log *slog.Logger) error {
		return runControllerLoop(ctx, &f, log)
	})
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// runControllerLoop runs until ctx ends: caches and metrics on every
// replica, passes on the leader.
func runControllerLoop(ctx context.Context, f *controllerFlags, log *slog.Logger) error {
	cc, err := config.LoadCompiled(f.configFile)
	if err != nil {
		return err
	}
	cfg, err := restConfig(f.kubeconfig)
	if err != nil {
		return err
	}
	if cfg == nil {
		return errNoCluster
	}
	// Watches: no request timeout on the informers' client.
	watchClient, err := newKubeClient(rest.CopyConfig(cfg))
	if err != nil {
		return err
	}
	reqCfg := rest.CopyConfig(cfg)
	reqCfg.Timeout = 30 * time.Second
	client, err := newKubeClient(reqCfg)
	if err != nil {
		return err
	}
	// Report writes pass the writer's own token bucket (--write-qps): the
	// client's default limit (5 a second) would be the real one.
	dynCfg := rest.CopyConfig(reqCfg)
	dynCfg.QPS, dynCfg.Burst = float32(2*f.writeQPS), 2*f.writeBurst
	dyn, err := dynamic.NewForConfig(dynCfg)
	if err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := controller.NewMetrics(reg)
	ln, err := net.Listen("tcp", f.metricsAddr)
	if err != nil {
		return fmt.Errorf("--metrics-addr %s: %w", f.metricsAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	log.Info("metrics", "addr", ln.Addr().String())

	var evidence engine.EvidenceSource
	budget := cc.Registry.Timeout.Duration
	var store *imageevidence.Store
	var running *controller.Running
	if cc.Registry.Enabled {
		// The controller is the background worker: it waits for layer
		// scans, within their budget. What it finds is shared with serve
		// through ImageEvidence objects.
		o := registryOptions{log: log, metrics: registry.NewPrometheusMetrics(reg), layers: layerOptions(cc, true, true)}
		if store, err = startSharedEvidence(ctx, rest.CopyConfig(cfg), cc.Catalog, reg, log); err != nil {
			return err
		}
		o.shared = store
		src := newRegistrySource(cc, o)
		defer src.Close()
		running = controller.NewRunning(src)
		evidence = running
		budget += cc.Registry.Layers.Timeout.Duration
	}
	wake := make(chan struct{}, 1)
	cache := controller.NewCache(watchClient, 0, func(string, string) {
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	// The service accounts in the cache say which workloads use IRSA.
	eng := newEngine(cc, evidence, budget, cache)
	if cc.ControlPlane == nil {
		go discoverControlPlane(ctx, f.kubeconfig, eng, log)
	}
	cache.Start(ctx)
	defer cache.Shutdown()
	if !cache.WaitForSync(ctx) {
		return ctx.Err()
	}
	if store != nil {
		// The shared evidence first: what the webhook's replicas found is
		// not looked up again.
		select {
		case <-store.Ready():
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(30 * time.Second):
		}
	}
	log.Info("caches synced; standing for leader", "lease", f.leaseNamespace+"/tokenguard-controller", "identity", f.identity)

	return controller.RunLeader(ctx, client, controller.LeaderOptions{
		Namespace: f.leaseNamespace, Name: "tokenguard-controller", Identity: f.identity,
		LeaseDuration: f.leaseDuration, RenewDeadline: f.renewDeadline, ReleaseOnCancel: true,
		OnLeading: func(leading bool) {
			metrics.SetLeader(leading)
			log.Info("leadership", "leading", leading, "identity", f.identity)
		},
	}, func(ctx context.Context) {
		r := &controller.Reconciler{Source: cache, Engine: eng, Metrics: metrics, StaleTokens: staleTokens(client, f)}
		if store != nil {
			r.Evidence = &controller.EvidenceKeeper{Store: store, Running: running, TTL: f.evidenceTTL}
		}
		lead(ctx, f, log, r, dyn, wake)
	})
}

// lead runs passes while this replica leads: one at once, then every
// interval, and sooner (at most every 5 s) when pods change.
func lead(ctx context.Context, f *controllerFlags, log *slog.Logger, r *controller.Reconciler, dyn dynamic.Interface, wake <-chan struct{}) {
	const minGap = 5 * time.Second
	for {
		if r.Writer == nil {
			kind, err := reportKind(ctx, dyn, f.reportKind)
			if err != nil {
				log.Error("no report kind to write; retrying", "error", err.Error())
			} else {
				r.Writer = controller.NewWriter(dyn, kind == "PolicyReport", float32(f.writeQPS), f.writeBurst)
				log.Info("writing reports", "kind", kind)
			}
		}
		if r.Writer != nil {
			start := time.Now()
			res, err := r.Sync(ctx)
			attrs := []any{"workloads", res.Workloads, "created", res.Created, "updated", res.Updated, "unchanged", res.Unchanged, "deleted", res.Deleted, "failed", res.Failed,
				"evidenceMarked", res.EvidenceMarked, "evidenceDeleted", res.EvidenceDeleted, "took", time.Since(start).Round(time.Millisecond).String()}
			if err != nil {
				log.Warn("pass ended with errors", append(attrs, "error", err.Error())...)
			} else {
				log.Info("pass", attrs...)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(minGap):
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-time.After(f.interval - minGap):
		}
	}
}

// reportKind chooses what to write: want, or with "auto" Report when the
// openreports.io CRD is served, else PolicyReport when wgpolicyk8s.io's is.
func reportKind(ctx context.Context, dyn dynamic.Interface, want string) (string, error) {
	if want != "auto" {
		return want, nil
	}
	if _, err := dyn.Resource(reports.ReportResource).List(ctx, metav1.ListOptions{Limit: 1}); err == nil {
		return "Report", nil
	} else if !apierrors.IsNotFound(err) {
		return "", err
	}
	if _, err := dyn.Resource(reports.PolicyReportResource).List(ctx, metav1.ListOptions{Limit: 1}); err == nil {
		return "PolicyReport", nil
	} else if !apierrors.IsNotFound(err) {
		return "", err
	}
	return "", errors.New("neither reports.openreports.io nor policyreports.wgpolicyk8s.io is served: install the OpenReports CRDs (or Kyverno's PolicyReport CRDs)")
}

// staleTokens reads the stale-token observations the webhook replicas'
// audit sinks publish, for the reports; replicas silent for the sinks'
// subject TTL are left out and their ConfigMaps deleted.
func staleTokens(client auditsink.ConfigMapClient, f *controllerFlags) func(context.Context) (map[string]reports.StaleToken, error) {
	namespace := f.staleTokensNamespace
	if namespace == "" {
		namespace = f.leaseNamespace
	}
	return func(ctx context.Context) (map[string]reports.StaleToken, error) {
		subjects, err := auditsink.ReadPublished(ctx, client, namespace, time.Now(), auditsink.DefaultSubjectTTL, true)
		if apierrors.IsNotFound(err) {
			return nil, nil // no such namespace: no audit sink publishes
		}
		out := make(map[string]reports.StaleToken, len(subjects))
		for key, s := range subjects {
			out[key] = reports.StaleTokenOf(&s)
		}
		return out, err
	}
}
