// Package faults runs three tokenguard replicas behind the Service of
// deploy/, called by a real kube-apiserver through the Service's
// EndpointSlice (--enable-aggregator-routing: the API server resolves the
// Service to an endpoint itself, as it does where it cannot reach cluster
// IPs), under a steady stream of pod creations, while replicas are killed,
// restarted, their registry fails and their certificates rotate.
package faults

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/tokenguard/tokenguard/pkg/certs"
	"github.com/tokenguard/tokenguard/test/e2e"
	"github.com/tokenguard/tokenguard/test/e2e/cluster"
)

// Images the load creates pods of: the VPC CNI's minimum is 1.8.0.
const (
	tooOldImage = "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.7.5-eksbuild.1"
	okImage     = "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.19.2-eksbuild.1"
)

type faultEnv struct {
	t        *testing.T
	ctx      context.Context
	c        *cluster.Cluster
	client   kubernetes.Interface
	bin      string
	args     []string
	ips      []string
	live     []*replica
	eps      *endpoints
	load     *load
	proxy    *faultProxy
	certDir  string
	bundle   *certs.Bundle
	rate     int
	seconds  time.Duration
	figures  *bytes.Buffer
	nextName int
}

func TestReplicasUnderFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts a control plane and three tokenguard replicas (skipped with -short)")
	}
	if inNamespace(t, "TestReplicasUnderFaults") {
		return
	}
	e := setup(t)
	t.Run("sigkill", e.sigkill)
	t.Run("rolling-restart", e.rollingRestart)
	t.Run("registry-slow-down-back", e.registryFaults)
	t.Run("certificate-rotation", e.certificateRotation)
	t.Logf("figures:\n%s", e.figures)
	if path := os.Getenv(envFigures); path != "" {
		if err := os.WriteFile(path, e.figures.Bytes(), 0o644); err != nil {
			t.Error(err)
		}
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func setup(t *testing.T) *faultEnv {
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	t.Cleanup(cancel)
	ips, err := prepareNamespace(6)
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	c, err := cluster.Start(ctx, cluster.Options{
		WorkDir: work, Log: testLog{t}, ControllerManager: true,
		APIServerArgs: []string{"--enable-aggregator-routing=true"},
	})
	if err != nil {
		t.Fatalf("control plane: %v", err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	cfg := rest.CopyConfig(c.Config)
	cfg.QPS, cfg.Burst = 2000, 4000
	cfg.WarningHandler = rest.NoWarnings{}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &faultEnv{
		t: t, ctx: ctx, c: c, client: client, ips: ips, load: &load{client: client},
		bin:     os.Getenv(envTokenBin),
		rate:    envInt(envRate, 50),
		seconds: time.Duration(envInt(envSeconds, 20)) * time.Second,
		figures: &bytes.Buffer{},
		certDir: filepath.Join(work, "certs"),
	}
	fmt.Fprintf(e.figures, "rate %d pods/s, %s a scenario, 3 replicas, webhook timeout 5 s, registry budget 2 s\n", e.rate, e.seconds)

	reg := e2e.StartRegistry()
	t.Cleanup(reg.Close)
	if e.proxy, err = startFaultProxy(reg.Host, 1500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.proxy.Close)
	if _, err := reg.PushWithSBOM("shop/orders", "2.4.1", "pkg:golang/k8s.io/client-go@v0.31.2"); err != nil {
		t.Fatal(err)
	}
	config, err := writeConfig(work, e.proxy.Host)
	if err != nil {
		t.Fatal(err)
	}
	if e.bundle, err = certs.Generate(certs.ServiceSANs(serviceName, serviceNamespace), time.Now().Add(-time.Minute), 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := certs.WriteFiles(e.certDir, e.bundle); err != nil {
		t.Fatal(err)
	}
	e.args = []string{
		"--tls-cert-file", filepath.Join(e.certDir, certs.CertFile),
		"--tls-private-key-file", filepath.Join(e.certDir, certs.KeyFile),
		"--tls-reload-interval", "200ms",
		"--config", config,
		"--shutdown-delay", "5s", "--shutdown-grace", "20s",
		"--profiling", // goroutine dumps when a check fails
	}

	// The Service of deploy/ and an EndpointSlice this test keeps.
	if _, err := c.CreateNamespace(ctx, serviceNamespace, nil); err != nil {
		t.Fatal(err)
	}
	svc, err := deployed[corev1.Service]("service.yaml")
	if err != nil {
		t.Fatal(err)
	}
	svc.Namespace = serviceNamespace
	if _, err := client.CoreV1().Services(serviceNamespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if e.eps, err = newEndpoints(ctx, client); err != nil {
		t.Fatal(err)
	}
	probeCtx, stopProbes := context.WithCancel(ctx)
	t.Cleanup(stopProbes)
	go e.eps.probe(probeCtx, time.Second)
	for i := 0; i < 3; i++ {
		r, err := e.startReplica(ips[i])
		if err != nil {
			t.Fatal(err)
		}
		e.live = append(e.live, r)
	}
	t.Cleanup(func() {
		for _, r := range e.live {
			_ = r.proc.Stop()
			if t.Failed() {
				t.Logf("%s output (tail):\n%s", r.name, tail(grepOut(r.proc.Output(), "admission review judged", "registry lookup failed"), 20))
			}
		}
	})
	if err := e.register(e.bundle.CACertPEM); err != nil {
		t.Fatal(err)
	}
	return e
}

// startReplica starts a replica on ip and puts it behind the Service; it
// returns once its endpoint is ready.
func (e *faultEnv) startReplica(ip string) (*replica, error) {
	e.nextName++
	r := newReplica(fmt.Sprintf("replica-%d", e.nextName), ip, e.bin, e.args...)
	if err := r.proc.Start(); err != nil {
		return nil, err
	}
	e.eps.add(r)
	ctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
	defer cancel()
	return r, e.eps.waitReady(ctx, r)
}

// deployed reads one object of deploy/base.
func deployed[T any](file string) (*T, error) {
	path := filepath.Join(repoRoot(), "deploy", "base", file)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var v T
	if err := yaml.UnmarshalStrict(data, &v); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &v, nil
}

func repoRoot() string {
	wd, _ := os.Getwd() // the package directory under go test
	return filepath.Clean(filepath.Join(wd, "..", "..", ".."))
}

// register applies the shipped ValidatingWebhookConfiguration unchanged
// but for caBundle (clientConfig.service stays: the API server resolves the
// Service), and waits until the API server calls it.
func (e *faultEnv) register(caBundle []byte) error {
	vwc, err := deployed[admissionregistrationv1.ValidatingWebhookConfiguration]("validatingwebhookconfiguration.yaml")
	if err != nil {
		return err
	}
	for i := range vwc.Webhooks {
		vwc.Webhooks[i].ClientConfig.CABundle = caBundle
	}
	api := e.client.AdmissionregistrationV1().ValidatingWebhookConfigurations()
	existing, err := api.Get(e.ctx, vwc.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = api.Create(e.ctx, vwc, metav1.CreateOptions{})
	case err == nil:
		vwc.ResourceVersion = existing.ResourceVersion
		_, err = api.Update(e.ctx, vwc, metav1.UpdateOptions{})
	}
	if err != nil {
		return err
	}
	ns, err := e.namespace("probe", "enforce")
	if err != nil {
		return err
	}
	probe := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "probe"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: tooOldImage}}}}
	var last error
	err = wait.PollUntilContextTimeout(e.ctx, 50*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		_, last = e.client.CoreV1().Pods(ns).Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return last != nil && apierrors.IsForbidden(last) && strings.Contains(last.Error(), "violates tokenguard"), nil
	})
	if err != nil {
		return fmt.Errorf("the API server did not call tokenguard through the Service: last answer: %v", last)
	}
	return nil
}

func (e *faultEnv) namespace(name, mode string) (string, error) {
	return name, e2e.LabelNamespace(e.ctx, e.client, name, mode)
}

// kinds are the streams of a scenario: in an enforce and a warn
// namespace, a pod tokenguard allows and one it finds too old.
func (e *faultEnv) kinds(scenario string) []podKind {
	enforce, err := e.namespace(scenario+"-enforce", "enforce")
	if err != nil {
		e.t.Fatal(err)
	}
	warn, err := e.namespace(scenario+"-warn", "warn")
	if err != nil {
		e.t.Fatal(err)
	}
	fixed := func(image string) func(int) string { return func(int) string { return image } }
	return []podKind{
		{name: "enforce-ok", namespace: enforce, image: fixed(okImage), allowed: true},
		{name: "enforce-old", namespace: enforce, image: fixed(tooOldImage)},
		{name: "warn-ok", namespace: warn, image: fixed(okImage), allowed: true},
		{name: "warn-old", namespace: warn, image: fixed(tooOldImage), allowed: true},
	}
}

// scenario runs the load for at least e.seconds and until fault returns,
// then checks what must hold in every scenario and reports the figures.
func (e *faultEnv) scenario(t *testing.T, kinds []podKind, fault func(ctx context.Context) error) (map[string]*tally, apiMetrics) {
	before, err := readAPIMetrics(e.c)
	if err != nil {
		t.Fatal(err)
	}
	reviewsBefore := e.reviews()
	ctx, cancel := context.WithCancel(e.ctx)
	faultErr := make(chan error, 1)
	go func() {
		err := fault(ctx)
		faultErr <- err
	}()
	done := make(chan map[string]*tally, 1)
	go func() { done <- e.load.run(ctx, e.rate, kinds) }()
	time.Sleep(e.seconds)
	err = <-faultErr
	cancel()
	tallies := <-done
	if err != nil {
		t.Fatalf("fault: %v", err)
	}
	after, err := readAPIMetrics(e.c)
	if err != nil {
		t.Fatal(err)
	}
	d := after.sub(before)
	fmt.Fprintf(e.figures, "\n%s: API server: %.0f calls failed open, %.0f rejected because the call failed\n", t.Name(), sum(d.failOpen), sum(d.callErrors))
	fmt.Fprintf(e.figures, "  reviews answered by replica:")
	for name, n := range e.reviews() {
		fmt.Fprintf(e.figures, " %s %.0f", name, n-reviewsBefore[name])
	}
	fmt.Fprintln(e.figures)
	fmt.Fprintf(e.figures, "  %-16s %8s %8s %8s %8s %8s %9s %9s\n", "stream", "creates", "created", "denied", "webhook", "other", "p50", "max")
	for _, k := range kinds {
		tl := tallies[k.name]
		fmt.Fprintf(e.figures, "  %-16s %8d %8d %8d %8d %8d %9s %9s\n", k.name, tl.attempts, tl.created, tl.denied, tl.webhookErrors, tl.otherErrors,
			tl.quantile(0.5).Round(time.Millisecond), tl.quantile(1).Round(time.Millisecond))
		if !k.allowed && tl.created > 0 {
			t.Errorf("%s: %d pods tokenguard finds too old were created in an enforce namespace", k.name, tl.created)
		}
		if k.allowed && tl.denied > 0 {
			t.Errorf("%s: %d pods were denied by policy, want none", k.name, tl.denied)
		}
		if tl.otherErrors > 0 {
			t.Errorf("%s: %d creates failed for another reason than the webhook: %q", k.name, tl.otherErrors, tl.examples)
		}
		if strings.HasPrefix(k.name, "warn") && tl.failed() > 0 {
			t.Errorf("%s: %d creates failed in a warn namespace, want none: %q", k.name, tl.failed(), tl.examples)
		}
		if tl.attempts < e.rate*int(e.seconds/time.Second)/len(kinds)/2 {
			t.Errorf("%s: only %d creates were made", k.name, tl.attempts)
		}
	}
	// No too-old pod exists in an enforce namespace, whatever the answers said.
	for _, k := range kinds {
		if k.allowed {
			continue
		}
		pods, err := e.client.CoreV1().Pods(k.namespace).List(e.ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pods.Items {
			if p.Spec.Containers[0].Image == k.image(0) {
				t.Errorf("pod %s/%s runs %s, which enforce must keep out", p.Namespace, p.Name, k.image(0))
			}
		}
	}
	return tallies, d
}

// sigkill: one replica is killed; its endpoint stays until two readiness
// probes fail, and it comes back after a few seconds (the kubelet's
// restart). Enforce may fail creates in that window (fail closed) and the
// count is reported; warn fails open; nothing too old gets in.
func (e *faultEnv) sigkill(t *testing.T) {
	victim := e.live[0]
	tallies, d := e.scenario(t, e.kinds("sigkill"), func(ctx context.Context) error {
		time.Sleep(e.seconds / 4)
		if err := victim.kill(); err != nil {
			return err
		}
		killed := time.Now()
		for e.eps.isReady(victim) {
			time.Sleep(10 * time.Millisecond)
		}
		gone := time.Since(killed)
		time.Sleep(3 * time.Second)
		if err := victim.proc.Start(); err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := e.eps.waitReady(wctx, victim); err != nil {
			return err
		}
		fmt.Fprintf(e.figures, "\n%s: endpoint not ready %s after SIGKILL; replica back after %s\n", t.Name(), gone.Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))
		return nil
	})
	if f := tallies["enforce-ok"].failed(); f > 0 {
		t.Logf("enforce: %d of %d allowed creates failed closed while a replica was dead (%q)", f, tallies["enforce-ok"].attempts, tallies["enforce-ok"].examples)
	}
	t.Logf("fail-open calls: %v", d.failOpen)
}

// rollingRestart replaces every replica as a Deployment's rollout does
// (maxSurge 1, maxUnavailable 0): the new one starts on a new address
// and becomes ready, then the old one leaves the ready endpoints and gets
// SIGTERM. No create may fail and no call may fail open.
func (e *faultEnv) rollingRestart(t *testing.T) {
	tallies, d := e.scenario(t, e.kinds("rollout"), func(ctx context.Context) error {
		time.Sleep(2 * time.Second)
		for i, old := range e.live {
			r, err := e.startReplica(e.ips[3+i])
			if err != nil {
				return err
			}
			if err := e.eps.terminate(ctx, old); err != nil {
				return err
			}
			if err := old.proc.Stop(); err != nil {
				return fmt.Errorf("%s: %v", old.name, err)
			}
			if err := e.eps.remove(ctx, old); err != nil {
				return err
			}
			e.live[i] = r
		}
		time.Sleep(2 * time.Second)
		return nil
	})
	for name, tl := range tallies {
		if tl.failed() > 0 {
			t.Errorf("%s: %d creates failed during the rollout, want none: %q", name, tl.failed(), tl.examples)
		}
	}
	if n := sum(d.failOpen) + sum(d.callErrors); n > 0 {
		t.Errorf("the API server failed to call tokenguard %.0f times during the rollout (open %v, closed %v)", n, d.failOpen, d.callErrors)
	}
}

// registryFaults: pods whose images live on the test registry, which turns
// slow (1.5 s a request), then down (requests never answered), then back.
// Every answer comes within the registry budget plus decoding, nothing
// fails, and goroutines and memory return to their level.
func (e *faultEnv) registryFaults(t *testing.T) {
	kinds := e.kinds("registry")
	host := e.proxy.Host
	kinds = append(kinds,
		podKind{name: "enforce-registry", namespace: kinds[0].namespace, allowed: true,
			image: func(n int) string { return fmt.Sprintf("%s/shop/orders:2.4.%d", host, n) }},
		podKind{name: "warn-registry", namespace: kinds[2].namespace, allowed: true,
			image: func(n int) string { return fmt.Sprintf("%s/shop/orders:2.4.%d", host, n) }},
	)
	// Warm up, then the level to return to.
	e.scenarioQuiet(kinds, 3*time.Second)
	time.Sleep(2 * time.Second)
	base := e.samples(t)
	phase := e.seconds / 4
	tallies, d := e.scenario(t, kinds, func(ctx context.Context) error {
		time.Sleep(phase)
		e.proxy.mode.Store(proxySlow)
		time.Sleep(phase)
		e.proxy.mode.Store(proxyDown)
		time.Sleep(phase)
		e.proxy.mode.Store(proxyPass)
		return nil
	})
	budget := 2 * time.Second
	for name, tl := range tallies {
		if tl.failed() > 0 {
			t.Errorf("%s: %d creates failed while the registry was slow or down, want none: %q", name, tl.failed(), tl.examples)
		}
		// The registry budget, plus the API server's own work under this
		// load on 2 CPUs.
		if max := tl.quantile(1); max > budget+1500*time.Millisecond {
			t.Errorf("%s: the slowest create took %s, above the %s registry budget with 1.5 s to spare", name, max, budget)
		}
	}
	if n := sum(d.failOpen) + sum(d.callErrors); n > 0 {
		t.Errorf("calls to tokenguard failed %.0f times (open %v, closed %v)", n, d.failOpen, d.callErrors)
	}
	if e.proxy.held.Load() == 0 {
		t.Error("no registry request was held while the registry was down: the scenario tested nothing")
	}
	// Recovery: lookups cut short for the admission answer go on in the
	// background, each within the registry's background timeout (30 s), so
	// the level comes back once the last of them ends.
	recovered := time.Now()
	var after []sample
	for {
		after = e.samples(t)
		back := true
		for i := range base {
			if after[i].goroutines > base[i].goroutines*1.5+20 || after[i].rss > base[i].rss*1.5+30e6 {
				back = false
			}
		}
		if back || time.Since(recovered) > 45*time.Second {
			break
		}
		time.Sleep(time.Second)
	}
	fmt.Fprintf(e.figures, "  back to level %s after the registry came back\n", time.Since(recovered).Round(time.Second))
	for i := range base {
		b, a := base[i], after[i]
		fmt.Fprintf(e.figures, "  %s: goroutines %.0f → %.0f, RSS %.1f → %.1f MB, open files %.0f → %.0f\n",
			e.live[i].name, b.goroutines, a.goroutines, b.rss/1e6, a.rss/1e6, b.fds, a.fds)
		if a.goroutines > b.goroutines*1.5+20 {
			t.Errorf("%s: %.0f goroutines 45 s after the registry came back, %.0f before; now:\n%s", e.live[i].name, a.goroutines, b.goroutines, e.live[i].goroutines())
		}
		if a.rss > b.rss*1.5+30e6 {
			t.Errorf("%s: RSS %.1f MB 45 s after the registry came back, %.1f MB before", e.live[i].name, a.rss/1e6, b.rss/1e6)
		}
	}
}

// reviews is how many reviews each live replica has answered (since it
// last started).
func (e *faultEnv) reviews() map[string]float64 {
	m := map[string]float64{}
	for _, r := range e.live {
		if s, err := r.sample(); err == nil {
			m[r.name] = s.reviews
		}
	}
	return m
}

// scenarioQuiet runs load without checks (a warm-up).
func (e *faultEnv) scenarioQuiet(kinds []podKind, d time.Duration) {
	ctx, cancel := context.WithTimeout(e.ctx, d)
	defer cancel()
	e.load.run(ctx, e.rate, kinds)
}

func (e *faultEnv) samples(t *testing.T) []sample {
	var out []sample
	for _, r := range e.live {
		s, err := r.sample()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// certificateRotation replaces the serving certificate and its CA as
// cert-manager's CA rotation does: the webhook configuration first trusts
// both CAs, then the replicas load the new pair from their files, then only
// the new CA is trusted. No TLS error, no failed call.
func (e *faultEnv) certificateRotation(t *testing.T) {
	next, err := certs.Generate(certs.ServiceSANs(serviceName, serviceNamespace), time.Now().Add(-time.Minute), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tallies, d := e.scenario(t, e.kinds("rotation"), func(ctx context.Context) error {
		time.Sleep(e.seconds / 4)
		if err := e.register(append(append([]byte{}, e.bundle.CACertPEM...), next.CACertPEM...)); err != nil {
			return err
		}
		time.Sleep(2 * time.Second)
		if err := certs.WriteFiles(e.certDir, next); err != nil {
			return err
		}
		for _, r := range e.live {
			if err := waitServing(ctx, r, next.CACertPEM); err != nil {
				return err
			}
		}
		time.Sleep(2 * time.Second)
		return e.register(next.CACertPEM)
	})
	for name, tl := range tallies {
		if tl.failed() > 0 {
			t.Errorf("%s: %d creates failed during the rotation, want none: %q", name, tl.failed(), tl.examples)
		}
	}
	if n := sum(d.failOpen) + sum(d.callErrors); n > 0 {
		t.Errorf("the API server failed to call tokenguard %.0f times during the rotation (open %v, closed %v)", n, d.failOpen, d.callErrors)
	}
	e.bundle = next
}

// waitServing waits until r presents a certificate issued by caPEM.
func waitServing(ctx context.Context, r *replica, caPEM []byte) error {
	pool, err := certPool(caPEM)
	if err != nil {
		return err
	}
	var last error
	for i := 0; i < 100; i++ {
		conn, err := tls.Dial("tcp", r.proc.Addr, &tls.Config{RootCAs: pool, ServerName: serviceName + "." + serviceNamespace + ".svc"})
		if err == nil {
			conn.Close()
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s still serves the old certificate: %v", r.name, last)
}

func certPool(pemData []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemData) {
		return nil, errors.New("no certificate in PEM data")
	}
	return pool, nil
}

// grepOut drops the lines holding any of drop.
func grepOut(text string, drop ...string) string {
	var keep []string
lines:
	for _, line := range strings.Split(text, "\n") {
		for _, s := range drop {
			if strings.Contains(line, s) {
				continue lines
			}
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n")
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
