package main

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	kwhprometheus "github.com/slok/kubewebhook/v2/pkg/metrics/prometheus"

	"github.com/tokenguard/tokenguard/pkg/admission"
	"github.com/tokenguard/tokenguard/pkg/auditsink"
	"github.com/tokenguard/tokenguard/pkg/certs"
	"github.com/tokenguard/tokenguard/pkg/clusteraudit"
	"github.com/tokenguard/tokenguard/pkg/config"
	"github.com/tokenguard/tokenguard/pkg/engine"
	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect/registry"
)

type serveFlags struct {
	listen, metricsListen string
	certFile, keyFile     string
	sans                  string
	reloadInterval        time.Duration
	configFile            string
	kubeconfig            string
	shutdownGrace         time.Duration
	logFormat, logLevel   string
	insecureRegistries    stringList
	profiling             bool
}

func runServe(args []string, stdout, stderr io.Writer) int {
	var f serveFlags
	fs := newFlagSet("serve", "serve [flags]", stderr)
	fs.StringVar(&f.listen, "listen", ":8443", "HTTPS address of the webhook endpoints (/validate/enforce, /validate/warn, /validate/audit)")
	fs.StringVar(&f.metricsListen, "metrics-listen", ":9090", "plain-HTTP address of /metrics, /healthz and /readyz")
	fs.StringVar(&f.certFile, "tls-cert-file", "", "serving certificate (PEM); reloaded when it changes. Without it a self-signed certificate is made")
	fs.StringVar(&f.keyFile, "tls-private-key-file", "", "private key of --tls-cert-file (PEM)")
	fs.DurationVar(&f.reloadInterval, "tls-reload-interval", certs.DefaultReloadInterval, "how often the certificate files are checked for a new pair")
	fs.StringVar(&f.sans, "tls-san", "localhost,127.0.0.1", "comma-separated DNS names and IPs of the self-signed certificate")
	fs.StringVar(&f.configFile, "config", "", "TokenGuardConfiguration file (see docs/tokenguard-config.example.yaml); default: the embedded defaults")
	fs.Var(&f.insecureRegistries, "insecure-registry", "registry host[:port] reached over plain HTTP or unverified TLS (repeatable; for test registries)")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig to discover the control-plane version from (in-cluster config is used when running in a pod)")
	fs.DurationVar(&f.shutdownGrace, "shutdown-grace", 30*time.Second, "how long SIGTERM waits for in-flight reviews")
	fs.StringVar(&f.logFormat, "log-format", "json", "log format: json or text")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.BoolVar(&f.profiling, "profiling", false, "also serve Go's /debug/pprof/ profiles on --metrics-listen (CPU, heap, goroutines; keep that port off the network)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tokenguard serve: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	log, err := newLogger(stderr, f.logFormat, f.logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "tokenguard serve: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := serve(ctx, &f, stdout, log); err != nil {
		log.Error("tokenguard serve stopped", "error", err.Error())
		fmt.Fprintf(stderr, "tokenguard serve: %v\n", err)
		return exitUsage
	}
	return exitOK
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use json or text", format)
}

// serve runs the webhook until ctx is cancelled, then drains.
func serve(ctx context.Context, f *serveFlags, stdout io.Writer, log *slog.Logger) error {
	cc, err := config.LoadCompiled(f.configFile)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// The cluster's API, when there is one: pull secrets, the namespace
	// preview and the control-plane version read it.
	client, clusterErr := clusterClient(f.kubeconfig, 2*time.Second)
	var evidence engine.EvidenceSource
	pullSecrets := false
	if cc.Registry.Enabled {
		o := registryOptions{extraInsecure: f.insecureRegistries, metrics: registry.NewPrometheusMetrics(reg), log: log}
		if cc.Registry.PullSecrets {
			// Informers watch: their client has no request timeout.
			if watcher, err := clusterClient(f.kubeconfig, 0); err != nil {
				log.Warn("registry.pullSecrets is on but the cluster cannot be reached; lookups use the webhook's own credentials only", "error", err.Error())
			} else {
				var stop func()
				o.credentials, stop = startPullSecrets(ctx, watcher, pullSecretsSyncTimeout, log)
				defer stop()
				pullSecrets = true
			}
		}
		src := newRegistrySource(cc, o)
		defer src.Close()
		evidence = src
	}
	eng := newEngine(cc, evidence)
	if cc.ControlPlane == nil {
		go discoverControlPlane(ctx, f.kubeconfig, eng, log)
	}

	tlsConfig, err := serverTLS(ctx, f, stdout, log)
	if err != nil {
		return err
	}

	rec, err := kwhprometheus.NewRecorder(kwhprometheus.RecorderConfig{Registry: reg})
	if err != nil {
		return err
	}
	reviewer := &admission.Reviewer{
		Engine:  eng,
		Unknown: cc.Unknown,
		Metrics: admission.NewMetrics(reg),
		Log:     log,
	}
	switch {
	case clusterErr == nil:
		reviewer.Previewer = &clusteraudit.Previewer{Client: client, Engine: eng, Unknown: cc.Unknown}
	case !errors.Is(clusterErr, errNoCluster):
		log.Warn("namespace enforce preview is off: the cluster cannot be reached", "error", clusterErr.Error())
	}
	var ready atomic.Bool
	health := healthMux(&ready)
	mux := http.NewServeMux()
	for _, mode := range admission.Modes {
		h, err := admission.NewHandler(mode, reviewer, rec)
		if err != nil {
			return err
		}
		mux.Handle("/validate/"+string(mode), h)
	}
	// The API server's audit webhook backend: stale-token annotations become
	// per-service-account metrics (docs/audit-webhook.md).
	mux.Handle("/audit", auditsink.New(reg, log, 0))
	mux.Handle("/healthz", health)
	mux.Handle("/readyz", health)
	metricsMux := http.NewServeMux()
	metricsMux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	metricsMux.Handle("/healthz", health)
	metricsMux.Handle("/readyz", health)
	if f.profiling {
		metricsMux.HandleFunc("/debug/pprof/", pprof.Index)
		metricsMux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		metricsMux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		metricsMux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		metricsMux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}

	webhookLn, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", f.listen, err)
	}
	metricsLn, err := net.Listen("tcp", f.metricsListen)
	if err != nil {
		webhookLn.Close()
		return fmt.Errorf("--metrics-listen %s: %w", f.metricsListen, err)
	}
	webhookSrv := newServer(mux, log)
	webhookSrv.TLSConfig = tlsConfig
	metricsSrv := newServer(metricsMux, log)

	errc := make(chan error, 2)
	go func() { errc <- webhookSrv.ServeTLS(webhookLn, "", "") }()
	go func() { errc <- metricsSrv.Serve(metricsLn) }()
	ready.Store(true)
	log.Info("tokenguard serving", "version", version, "listen", webhookLn.Addr().String(),
		"metricsListen", metricsLn.Addr().String(), "catalog", cc.Catalog.Version(), "unknown", cc.Unknown,
		"controlPlane", kubeVersionString(eng.ControlPlane()), "config", cc.Source,
		"registryEvidence", cc.Registry.Enabled, "pullSecrets", pullSecrets)

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	// Stop taking new work: not ready, then drain in-flight reviews.
	ready.Store(false)
	log.Info("tokenguard shutting down", "grace", f.shutdownGrace.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), f.shutdownGrace)
	defer cancel()
	if err := webhookSrv.Shutdown(shutdownCtx); err != nil {
		log.Warn("webhook server did not drain in time", "error", err.Error())
	}
	_ = metricsSrv.Shutdown(shutdownCtx)
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return nil
}

// newServer sets timeouts that keep slow clients (slowloris) from holding
// connections: the API server sends a review at once and waits at most 30 s.
func newServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       20 * time.Second,
		WriteTimeout:      35 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

func healthMux(ready *atomic.Bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if r.URL.Path == "/readyz" && !ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "not ready\n")
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
}

// serverTLS loads (and keeps reloading) the certificate files, or makes a
// self-signed certificate and prints its CA bundle.
func serverTLS(ctx context.Context, f *serveFlags, stdout io.Writer, log *slog.Logger) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	switch {
	case f.certFile != "" && f.keyFile != "":
		r, err := certs.NewReloader(f.certFile, f.keyFile, certs.WithLogger(log), certs.WithInterval(f.reloadInterval))
		if err != nil {
			return nil, err
		}
		go r.Run(ctx)
		cfg.GetCertificate = r.GetCertificate
		return cfg, nil
	case f.certFile != "" || f.keyFile != "":
		return nil, errors.New("--tls-cert-file and --tls-private-key-file go together")
	}
	sans := splitList(f.sans)
	cert, caPEM, err := certs.SelfSigned(sans, time.Now())
	if err != nil {
		return nil, fmt.Errorf("--tls-san: %w", err)
	}
	cfg.Certificates = []tls.Certificate{*cert}
	fmt.Fprintf(stdout, "tokenguard: no --tls-cert-file given; serving a self-signed certificate for %s.\n", strings.Join(sans, ", "))
	fmt.Fprintf(stdout, "CA bundle (PEM):\n%s", caPEM)
	fmt.Fprintf(stdout, "caBundle (base64, for a ValidatingWebhookConfiguration):\n%s\n", base64.StdEncoding.EncodeToString(caPEM))
	return cfg, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func kubeVersionString(v *policy.KubeVersion) string {
	if v == nil {
		return "unknown"
	}
	return v.String()
}
