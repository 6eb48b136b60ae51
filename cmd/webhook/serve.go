package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
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
	maxBodyBytes          int64
	shutdownDelay         time.Duration
	maxConnections        int
	maxConnsPerClient     int
	logFormat, logLevel   string
	insecureRegistries    stringList
	profiling             bool
	sharedEvidence        bool
	publishInterval       time.Duration
	auditListen           string
	auditClientCA         string
	auditTokenFile        string
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
	fs.DurationVar(&f.shutdownGrace, "shutdown-grace", 30*time.Second, "how long SIGTERM waits for in-flight reviews, after --shutdown-delay")
	fs.DurationVar(&f.shutdownDelay, "shutdown-delay", 5*time.Second, "how long after SIGTERM the webhook keeps taking new reviews while /readyz answers 503, so that endpoints drop the replica before it stops")
	fs.IntVar(&f.maxConnections, "max-connections", defaultMaxConnections, "most connections the webhook listener holds open at once; more wait to be accepted (0: no limit)")
	fs.Int64Var(&f.maxBodyBytes, "max-review-bytes-in-flight", 32<<20, "most bytes of AdmissionReview bodies held at once, all connections together; a review that finds no room waits until its timeout, then gets a 503 (at least 3 MiB)")
	fs.IntVar(&f.maxConnsPerClient, "max-conns-per-client", defaultMaxConnsPerClient, "most connections open at once from one client IP; more are closed at accept (0: no limit)")
	fs.StringVar(&f.logFormat, "log-format", "json", "log format: json or text")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&f.auditListen, "audit-listen", "", "HTTPS address of POST /audit, the API server's audit-webhook backend (stale-token metrics; docs/audit-webhook.md); needs --audit-client-ca-file or --audit-token-file. Default: off")
	fs.StringVar(&f.auditClientCA, "audit-client-ca-file", "", "CA bundle (PEM) that signs the API server's audit-webhook client certificate (mTLS)")
	fs.StringVar(&f.auditTokenFile, "audit-token-file", "", "file of bearer tokens (one a line) the API server's audit-webhook kubeconfig may send")
	fs.BoolVar(&f.sharedEvidence, "shared-evidence", true, "with registry lookups on, share evidence with the other replicas and the controller through the cluster's ImageEvidence objects (tokenguard.io; used once the CRD is installed and readable)")
	fs.DurationVar(&f.publishInterval, "stale-tokens-publish-interval", 30*time.Second, "with --audit-listen, how often the sink's observations are published (while they change) to the ConfigMap tokenguard-stale-tokens-$POD_NAME for the controller's reports")
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
	return runDaemon("serve", stderr, f.logFormat, f.logLevel, func(ctx context.Context, log *slog.Logger) error {
		return serve(ctx, &f, stdout, log)
	})
}

// runDaemon runs a long-running command (serve, controller) until SIGTERM
// or SIGINT, logging as format and level say; an error it stops with is
// logged and printed, and makes the exit code 2.
func runDaemon(name string, stderr io.Writer, format, level string, run func(context.Context, *slog.Logger) error) int {
	log, err := newLogger(stderr, format, level)
	if err != nil {
		fmt.Fprintf(stderr, "tokenguard %s: %v\n", name, err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, log); err != nil {
		log.Error("tokenguard "+name+" stopped", "error", err.Error())
		fmt.Fprintf(stderr, "tokenguard %s: %v\n", name, err)
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

// Connection limits of the webhook listener. An idle TLS connection costs
// ~38 KB; the Deployment's 256Mi memory limit holds ~30 MB at rest and the
// 64Mi registry cache, so ~6,000 idle connections pass it. 1,024 cost
// ~38 MB (and 1,024 file descriptors), leaving the rest for reviews. The API
// server reaches each replica over a few HTTP/2 connections, so 64 per
// client IP is headroom for it and a cap for anyone else.
const (
	defaultMaxConnections    = 1024
	defaultMaxConnsPerClient = 64
)

// webhookIdleTimeout closes keep-alive connections idle this long. The API
// server sends reviews over HTTP/2, where an idle close is a GOAWAY it
// handles without failing a review, and reopening costs one handshake; an
// idle connection that only holds a slot is released 4 times sooner than
// with the 120 s of newServer.
const webhookIdleTimeout = 30 * time.Second

// serve runs the webhook until ctx is cancelled, then turns not ready, keeps
// serving for f.shutdownDelay, and drains for at most f.shutdownGrace.
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
	var aws engine.AWSCredentialSource
	pullSecrets := false
	if cc.Registry.Enabled {
		o := registryOptions{extraInsecure: f.insecureRegistries, metrics: registry.NewPrometheusMetrics(reg), log: log,
			layers: layerOptions(cc, true, false)}
		if cc.Registry.PullSecrets {
			// Informers watch: their client has no request timeout.
			if watcher, err := clusterClient(f.kubeconfig, 0); err != nil {
				log.Warn("registry.pullSecrets is on but the cluster cannot be reached; lookups use the webhook's own credentials only", "error", err.Error())
			} else {
				ps, stop := startPullSecrets(ctx, watcher, pullSecretsSyncTimeout, log)
				defer stop()
				// The service account cache also tells which templates
				// will get IRSA (eks.amazonaws.com/role-arn).
				o.credentials, aws = ps.Keychain, ps
				pullSecrets = true
			}
		}
		if f.sharedEvidence {
			if cfg, err := restConfig(f.kubeconfig); err != nil {
				log.Warn("evidence is not shared with the other replicas: the cluster's configuration cannot be read", "error", err.Error())
			} else if cfg != nil {
				store, err := startSharedEvidence(ctx, cfg, cc.Catalog, reg, log)
				if err != nil {
					return err
				}
				o.shared = store
			}
		}
		src := newRegistrySource(cc, o)
		defer src.Close()
		evidence = src
	}
	eng := newEngine(cc, evidence, cc.Registry.Timeout.Duration, aws)
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
		Bodies:  admission.NewBodyBudget(f.maxBodyBytes),
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

	auditSrv, auditLn, err := auditSink(ctx, f, reg, log, tlsConfig)
	if err != nil {
		return err
	}
	if auditLn != nil {
		defer auditLn.Close()
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
	limited := admission.LimitListener(webhookLn, f.maxConnections, f.maxConnsPerClient)
	webhookLn = limited
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tokenguard_webhook_open_connections", Help: "Connections open on the webhook listener (at most --max-connections)."},
			func() float64 { return float64(limited.Open()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tokenguard_webhook_connections_refused_total", Help: "Connections closed at accept because their client IP had --max-conns-per-client open."},
			func() float64 { return float64(limited.Refused()) }),
	)
	webhookSrv := newServer(mux, log)
	webhookSrv.TLSConfig = tlsConfig
	webhookSrv.IdleTimeout = webhookIdleTimeout
	metricsSrv := newServer(metricsMux, log)

	errc := make(chan error, 3)
	go func() { errc <- webhookSrv.ServeTLS(webhookLn, "", "") }()
	go func() { errc <- metricsSrv.Serve(metricsLn) }()
	if auditSrv != nil {
		go func() { errc <- auditSrv.ServeTLS(auditLn, "", "") }()
	}
	ready.Store(true)
	log.Info("tokenguard serving", "version", version, "listen", webhookLn.Addr().String(),
		"metricsListen", metricsLn.Addr().String(), "catalog", cc.Catalog.Version(), "unknown", cc.Unknown,
		"controlPlane", kubeVersionString(eng.ControlPlane()), "config", cc.Source,
		"registryEvidence", cc.Registry.Enabled, "pullSecrets", pullSecrets, "auditListen", listenAddr(auditLn))

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	// Not ready at once, and until the process ends: the endpoints drop the
	// replica while it still answers what the API server sends it during
	// the delay; then the webhook drains its in-flight reviews. The metrics
	// listener (/readyz answering 503) stops last.
	ready.Store(false)
	log.Info("tokenguard shutting down", "delay", f.shutdownDelay.String(), "grace", f.shutdownGrace.String())
	if serveErr == nil && f.shutdownDelay > 0 {
		t := time.NewTimer(f.shutdownDelay)
		select {
		case <-t.C:
		case serveErr = <-errc:
			t.Stop()
		}
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), f.shutdownGrace)
	defer cancel()
	if err := webhookSrv.Shutdown(shutdownCtx); err != nil {
		log.Warn("webhook server did not drain in time", "error", err.Error())
	}
	if auditSrv != nil {
		_ = auditSrv.Shutdown(shutdownCtx)
	}
	_ = metricsSrv.Shutdown(shutdownCtx)
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return nil
}

// auditSink is the API server's audit-webhook backend (stale-token
// annotations become per-service-account metrics; docs/audit-webhook.md) on
// its own listener, served only with client authentication: mTLS against
// --audit-client-ca-file and/or the bearer tokens of --audit-token-file.
// Without --audit-listen it is off (nil server and listener).
func auditSink(ctx context.Context, f *serveFlags, reg prometheus.Registerer, log *slog.Logger, tlsConfig *tls.Config) (*http.Server, net.Listener, error) {
	if f.auditListen == "" {
		if f.auditClientCA != "" || f.auditTokenFile != "" {
			return nil, nil, errors.New("--audit-client-ca-file and --audit-token-file need --audit-listen")
		}
		return nil, nil, nil
	}
	var o auditsink.Options
	var pool *x509.CertPool
	var err error
	if f.auditClientCA != "" {
		if pool, err = auditsink.LoadClientCAs(f.auditClientCA); err != nil {
			return nil, nil, fmt.Errorf("--audit-client-ca-file: %w", err)
		}
		o.ClientCertificates = true
	}
	if f.auditTokenFile != "" {
		if o.BearerTokens, err = auditsink.LoadTokens(f.auditTokenFile); err != nil {
			return nil, nil, fmt.Errorf("--audit-token-file: %w", err)
		}
	}
	if !o.Authenticated() {
		return nil, nil, errors.New("--audit-listen needs --audit-client-ca-file or --audit-token-file: the audit sink is never served to unauthenticated clients")
	}
	ln, err := net.Listen("tcp", f.auditListen)
	if err != nil {
		return nil, nil, fmt.Errorf("--audit-listen %s: %w", f.auditListen, err)
	}
	mux := http.NewServeMux()
	sink := auditsink.New(reg, log, o)
	mux.Handle("/audit", sink)
	publishStaleTokens(ctx, f, sink, log)
	srv := newServer(mux, log)
	srv.TLSConfig = auditsink.ClientAuthTLS(tlsConfig, pool)
	return srv, ln, nil
}

func listenAddr(ln net.Listener) string {
	if ln == nil {
		return "off"
	}
	return ln.Addr().String()
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

// publishStaleTokens starts publishing the sink's observations for the
// controller's reports (a ConfigMap per replica in the Pod's namespace),
// when serve runs in a Pod that knows its name and namespace (POD_NAME,
// POD_NAMESPACE from the downward API) and the cluster can be reached.
func publishStaleTokens(ctx context.Context, f *serveFlags, sink *auditsink.Sink, log *slog.Logger) {
	name, namespace := os.Getenv("POD_NAME"), os.Getenv("POD_NAMESPACE")
	if name == "" || namespace == "" {
		log.Info("stale-token observations are not published for the controller's reports: POD_NAME and POD_NAMESPACE are not set")
		return
	}
	client, err := clusterClient(f.kubeconfig, 15*time.Second)
	if err != nil {
		log.Warn("stale-token observations are not published for the controller's reports: the cluster cannot be reached", "error", err.Error())
		return
	}
	p := &auditsink.Publisher{Sink: sink, Client: client, Namespace: namespace, Replica: name, Every: f.publishInterval, Log: log}
	go p.Run(ctx)
}
