package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/tokenguard/tokenguard/pkg/certs"
	"github.com/tokenguard/tokenguard/test/e2e/cluster"
)

// repoRoot is the checkout this file belongs to.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// BuildTokenguard builds the tokenguard binary from ./cmd/webhook into dir.
func BuildTokenguard(dir string) (string, error) {
	bin := filepath.Join(dir, "tokenguard")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/webhook")
	cmd.Dir = repoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/webhook: %v\n%s", err, out)
	}
	return bin, nil
}

// FreeAddr returns a free 127.0.0.1 address.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// syncBuffer collects a child's output; safe to read while it writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Process is a `tokenguard serve` process: Bin run with --listen Addr,
// --metrics-listen Metrics and Args.
type Process struct {
	Bin           string
	Args          []string
	Addr, Metrics string
	cmd           *exec.Cmd
	out           *syncBuffer
	done          chan struct{} // closed when the process has exited
	exitErr       error
	restarted     bool
}

// NewProcess picks free 127.0.0.1 addresses for a serve process.
func NewProcess(bin string, args ...string) (*Process, error) {
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	metrics, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	return &Process{Bin: bin, Args: args, Addr: addr, Metrics: metrics}, nil
}

// Start runs the binary and waits for /readyz on the metrics port. When a
// port picked by NewProcess was taken in the meantime, it retries on new
// ones (the first start only: a restart keeps its addresses).
func (w *Process) Start() error {
	for attempt := 0; ; attempt++ {
		err := w.start()
		if err == nil || attempt == 2 || !strings.Contains(w.Output(), "address already in use") || w.cmd != nil && w.restarted {
			return err
		}
		if w.Addr, err = FreeAddr(); err != nil {
			return err
		}
		if w.Metrics, err = FreeAddr(); err != nil {
			return err
		}
	}
}

func (w *Process) start() error {
	w.restarted = w.cmd != nil
	w.out = &syncBuffer{}
	w.done = make(chan struct{})
	w.cmd = exec.Command(w.Bin, append([]string{"serve", "--listen", w.Addr, "--metrics-listen", w.Metrics}, w.Args...)...)
	w.cmd.Stdout, w.cmd.Stderr = w.out, w.out
	w.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := w.cmd.Start(); err != nil {
		return err
	}
	cmd, done := w.cmd, w.done
	go func() { w.exitErr = cmd.Wait(); close(done) }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("tokenguard serve exited at start (%v):\n%s", w.exitErr, w.out)
		default:
		}
		resp, err := http.Get("http://" + w.Metrics + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	_ = w.Stop()
	return fmt.Errorf("tokenguard serve not ready within 30 s:\n%s", w.out)
}

// Stop ends the process with SIGTERM (a graceful drain), by PID, and
// returns its exit error (nil for a clean exit).
func (w *Process) Stop() error {
	if w.cmd == nil || w.done == nil {
		return nil
	}
	select {
	case <-w.done:
		return w.exitErr
	default:
	}
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.done:
		return w.exitErr
	case <-time.After(15 * time.Second):
		_ = w.cmd.Process.Kill()
		<-w.done
		return fmt.Errorf("no exit within 15 s of SIGTERM")
	}
}

// Output is what the process printed, stdout and stderr.
func (w *Process) Output() string {
	if w.out == nil {
		return ""
	}
	return w.out.String()
}

// PID is the running process's id, 0 when stopped.
func (w *Process) PID() int {
	if w.cmd == nil || w.done == nil {
		return 0
	}
	select {
	case <-w.done:
		return 0
	default:
		return w.cmd.Process.Pid
	}
}

// Webhook is tokenguard serving behind a cluster's API server, registered
// with the shipped ValidatingWebhookConfiguration.
type Webhook struct {
	proc    *Process
	client  kubernetes.Interface
	CertDir string
	BaseURL string
}

// StartWebhook writes serving certificates for 127.0.0.1, starts `bin
// serve` with them (reloaded every 200 ms) and the cluster's kubeconfig,
// registers the configuration of deploy/ pointed at it, and waits until the
// API server calls it.
func StartWebhook(ctx context.Context, c *cluster.Cluster, bin, workDir string, extraArgs ...string) (*Webhook, error) {
	client, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return nil, err
	}
	certDir := filepath.Join(workDir, "webhook-certs")
	proc, err := NewProcess(bin, append([]string{
		"--tls-cert-file", filepath.Join(certDir, certs.CertFile),
		"--tls-private-key-file", filepath.Join(certDir, certs.KeyFile),
		"--tls-reload-interval", "200ms",
		"--kubeconfig", c.Kubeconfig,
	}, extraArgs...)...)
	if err != nil {
		return nil, err
	}
	w := &Webhook{client: client, proc: proc, CertDir: certDir, BaseURL: "https://" + proc.Addr}
	ca, err := w.writeCerts()
	if err != nil {
		return nil, err
	}
	if err := w.proc.Start(); err != nil {
		return nil, err
	}
	if err := w.register(ctx, ca); err != nil {
		w.Stop()
		return nil, err
	}
	return w, nil
}

// writeCerts makes a new CA and serving pair in CertDir (replacing files in
// place) and returns the CA bundle.
func (w *Webhook) writeCerts() ([]byte, error) {
	b, err := certs.Generate([]string{"127.0.0.1", "localhost"}, time.Now().Add(-time.Minute), 24*time.Hour)
	if err != nil {
		return nil, err
	}
	if err := certs.WriteFiles(w.CertDir, b); err != nil {
		return nil, err
	}
	return b.CACertPEM, nil
}

// RotateCertificate replaces the serving certificate files with a pair from
// a new CA while the process runs, updates the caBundle, and waits until
// admission works through the new chain.
func (w *Webhook) RotateCertificate(ctx context.Context) error {
	ca, err := w.writeCerts()
	if err != nil {
		return err
	}
	return w.register(ctx, ca)
}

// register creates or updates the shipped configuration and waits until
// the API server uses it: a dry-run create that must be denied is denied.
func (w *Webhook) register(ctx context.Context, caBundle []byte) error {
	vwc, err := shippedWebhookConfiguration(w.BaseURL, caBundle)
	if err != nil {
		return err
	}
	api := w.client.AdmissionregistrationV1().ValidatingWebhookConfigurations()
	existing, err := api.Get(ctx, vwc.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = api.Create(ctx, vwc, metav1.CreateOptions{})
	case err == nil:
		vwc.ResourceVersion = existing.ResourceVersion
		_, err = api.Update(ctx, vwc, metav1.UpdateOptions{})
	}
	if err != nil {
		return err
	}
	const probeNS = "tokenguard-e2e-probe"
	if err := LabelNamespace(ctx, w.client, probeNS, "enforce"); err != nil {
		return err
	}
	probe := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "probe"}, Spec: corev1.PodSpec{Containers: []corev1.Container{
		{Name: "aws-node", Image: "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.7.5-eksbuild.1"}}}}
	var last error
	err = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		_, last = w.client.CoreV1().Pods(probeNS).Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return last != nil && apierrors.IsForbidden(last) && strings.Contains(last.Error(), `violates tokenguard "token-refresh"`), nil
	})
	if err != nil {
		return fmt.Errorf("the API server did not start calling tokenguard: last answer: %v\ntokenguard output:\n%s", last, w.proc.Output())
	}
	return nil
}

// Stop ends the process gracefully (SIGTERM), by PID.
func (w *Webhook) Stop() { _ = w.proc.Stop() }

// Start starts the process again, on the same address and certificates.
func (w *Webhook) Start() error { return w.proc.Start() }

// PID is the running process's id, 0 when stopped.
func (w *Webhook) PID() int { return w.proc.PID() }

// Output is what the process printed (its JSON log lines).
func (w *Webhook) Output() string { return w.proc.Output() }

// Metrics fetches the Prometheus text of /metrics.
func (w *Webhook) Metrics() string { return w.proc.MetricsText() }

// MetricsText fetches the Prometheus text of /metrics.
func (w *Process) MetricsText() string {
	resp, err := http.Get("http://" + w.Metrics + "/metrics")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// LabelNamespace creates the namespace if needed, sets tokenguard.io/mode
// (removes it when mode is empty), and waits for its default service
// account (pods need it).
func LabelNamespace(ctx context.Context, client kubernetes.Interface, name, mode string) error {
	api := client.CoreV1().Namespaces()
	ns, err := api.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		ns = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{}}}
		if mode != "" {
			ns.Labels["tokenguard.io/mode"] = mode
		}
		if _, err := api.Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			return err
		}
	} else if err != nil {
		return err
	} else {
		if ns.Labels == nil {
			ns.Labels = map[string]string{}
		}
		delete(ns.Labels, "tokenguard.io/mode")
		if mode != "" {
			ns.Labels["tokenguard.io/mode"] = mode
		}
		if _, err := api.Update(ctx, ns, metav1.UpdateOptions{}); err != nil {
			return err
		}
	}
	return wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := client.CoreV1().ServiceAccounts(name).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
}
