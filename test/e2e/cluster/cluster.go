// Package cluster runs a throw-away Kubernetes control plane on 127.0.0.1 for
// end-to-end tests: etcd, kube-apiserver and, optionally,
// kube-controller-manager, built from the Go module proxy by
// hack/e2e-binaries.sh. No kubelet runs, so Pods are created but stay
// Pending.
//
//	bin, err := cluster.BinDir(os.Stderr)
//	c, err := cluster.Start(ctx, cluster.Options{BinDir: bin, WorkDir: t.TempDir(), ControllerManager: true})
//	defer c.Stop()
//	cs := kubernetes.NewForConfigOrDie(c.Config)
//
// The API server's serving certificate is issued by a CA made for the
// cluster (Cluster.CAFile), with the names 127.0.0.1 and localhost; clients
// verify it. Authentication is by bearer token (Cluster.Token, user "admin"
// in group system:masters), authorization is RBAC.
package cluster

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// The binaries BinDir provides.
const (
	APIServerBinary         = "kube-apiserver"
	ControllerManagerBinary = "kube-controller-manager"
	EtcdBinary              = "etcd"
)

// EnvBinDir names a directory holding prebuilt binaries; when set, BinDir
// uses it instead of running hack/e2e-binaries.sh.
const EnvBinDir = "TOKENGUARD_E2E_BIN"

// BinDir returns the directory holding kube-apiserver,
// kube-controller-manager and etcd: $TOKENGUARD_E2E_BIN if set, else it runs
// hack/e2e-binaries.sh (found relative to this source file) and uses the last
// line of its output. The script builds missing binaries into a cache folder
// outside the checkout (a cold build takes several minutes); its progress and
// the build output are streamed to log, which may be nil.
func BinDir(log io.Writer) (string, error) {
	if log == nil {
		log = io.Discard
	}
	if dir := os.Getenv(EnvBinDir); dir != "" {
		for _, b := range []string{APIServerBinary, ControllerManagerBinary, EtcdBinary} {
			if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
				return "", fmt.Errorf("$%s=%s: %w", EnvBinDir, dir, err)
			}
		}
		return dir, nil
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cluster: cannot find this source file to locate hack/e2e-binaries.sh")
	}
	script := filepath.Join(filepath.Dir(file), "..", "..", "..", "hack", "e2e-binaries.sh")
	if _, err := os.Stat(script); err != nil {
		return "", fmt.Errorf("cluster: %w (set $%s to a directory with the binaries)", err, EnvBinDir)
	}
	var out bytes.Buffer
	cmd := exec.Command("bash", script)
	cmd.Stdout = io.MultiWriter(&out, log)
	cmd.Stderr = log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("cluster: %s: %w", script, err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	dir := strings.TrimSpace(lines[len(lines)-1])
	if dir == "" {
		return "", fmt.Errorf("cluster: %s printed no bin directory", script)
	}
	return dir, nil
}

// Options configures Start.
type Options struct {
	// BinDir holds the binaries; empty means BinDir(Log).
	BinDir string
	// WorkDir receives data, certificates, configuration and logs
	// (typically t.TempDir()); it must exist.
	WorkDir string
	// Log receives progress lines; nil discards them.
	Log io.Writer
	// ControllerManager starts kube-controller-manager with the service
	// account, token, root-CA publisher, namespace, garbage collector and
	// workload controllers (Deployment, ReplicaSet, ReplicationController,
	// StatefulSet, DaemonSet, Job, CronJob). Without it, the ServiceAccount
	// admission plugin is disabled, since no `default` ServiceAccount would
	// ever exist.
	ControllerManager bool
	// APIServerArgs are appended to kube-apiserver's flags (later flags win).
	APIServerArgs []string
	// ControllerManagerArgs are appended to kube-controller-manager's flags.
	ControllerManagerArgs []string
}

// Cluster is a running control plane. Stop it when done.
type Cluster struct {
	// Config is an admin (system:masters) client configuration; TLS is
	// verified against the cluster CA.
	Config *rest.Config
	// Kubeconfig is the path of an admin kubeconfig file (for kubectl).
	Kubeconfig string
	// URL is the API server's address, https://127.0.0.1:PORT.
	URL string
	// Token is the admin bearer token.
	Token string
	// CAFile is the PEM file of the CA that issued the API server's serving
	// certificate; CAPEM is its content.
	CAFile string
	CAPEM  []byte
	// EtcdURL is etcd's client address, http://127.0.0.1:PORT.
	EtcdURL string
	// WorkDir is Options.WorkDir.
	WorkDir string

	log    io.Writer
	kcm    bool
	caCert *x509.Certificate
	caKey  crypto.Signer
	mu     sync.Mutex
	procs  []*process // in start order
	stop   struct {
		once sync.Once
		err  error
	}
}

type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	logFile *os.File
	done    chan struct{} // closed when Wait returns
	waitErr error
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Start runs etcd, kube-apiserver and, if asked, kube-controller-manager,
// and returns once the API server is ready (and, with the controller
// manager, once the `default` ServiceAccount exists in namespace default).
// ctx bounds the start-up only: the processes live until Stop (or until the
// calling process dies: on Linux they get SIGKILL then).
func Start(ctx context.Context, opts Options) (_ *Cluster, err error) {
	start := time.Now()
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.WorkDir == "" {
		return nil, errors.New("cluster: Options.WorkDir is required")
	}
	work, err := filepath.Abs(opts.WorkDir)
	if err != nil {
		return nil, err
	}
	if opts.BinDir == "" {
		if opts.BinDir, err = BinDir(opts.Log); err != nil {
			return nil, err
		}
	}
	c := &Cluster{WorkDir: work, log: opts.Log}
	defer func() {
		if err != nil {
			logs := c.Logs()
			_ = c.Stop()
			err = fmt.Errorf("%w\n%s", err, logs)
		}
	}()

	files, err := writeFiles(work)
	if err != nil {
		return nil, err
	}
	c.Token, c.CAFile, c.CAPEM = files.token, files.caFile, files.caPEM
	c.caCert, c.caKey = files.caCert, files.caKey

	if err := c.startEtcd(ctx, opts, work); err != nil {
		return nil, err
	}
	c.logf("etcd ready at %s (%s)", c.EtcdURL, since(start))
	if err := c.startAPIServer(ctx, opts, work, files); err != nil {
		return nil, err
	}
	c.logf("kube-apiserver ready at %s (%s)", c.URL, since(start))

	c.Config = &rest.Config{
		Host:            c.URL,
		BearerToken:     c.Token,
		TLSClientConfig: rest.TLSClientConfig{CAData: c.CAPEM},
		QPS:             100,
		Burst:           200,
	}
	c.Kubeconfig = filepath.Join(work, "admin.kubeconfig")
	if err := writeKubeconfig(c.Kubeconfig, c.URL, c.CAPEM, c.Token); err != nil {
		return nil, err
	}

	if opts.ControllerManager {
		if err := c.startControllerManager(ctx, opts, work, files); err != nil {
			return nil, err
		}
		c.logf("kube-controller-manager ready: default ServiceAccount exists (%s)", since(start))
		c.kcm = true
	}
	return c, nil
}

func since(t time.Time) string { return time.Since(t).Round(time.Millisecond).String() }

func (c *Cluster) logf(format string, args ...any) {
	fmt.Fprintf(c.log, "cluster: "+format+"\n", args...)
}

// portAttempts is how often a component is started again on fresh ports when
// one was taken between choosing and binding it.
const portAttempts = 3

func (c *Cluster) startEtcd(ctx context.Context, opts Options, work string) error {
	var lastErr error
	for attempt := 0; attempt < portAttempts; attempt++ {
		ports, err := freePorts(2)
		if err != nil {
			return err
		}
		client := "http://127.0.0.1:" + strconv.Itoa(ports[0])
		peer := "http://127.0.0.1:" + strconv.Itoa(ports[1])
		dataDir := filepath.Join(work, "etcd-data")
		if err := os.RemoveAll(dataDir); err != nil {
			return err
		}
		p, err := c.spawn(opts.BinDir, EtcdBinary, work, []string{
			"--name", "default",
			"--data-dir", dataDir,
			"--listen-client-urls", client,
			"--advertise-client-urls", client,
			"--listen-peer-urls", peer,
			"--initial-advertise-peer-urls", peer,
			"--initial-cluster", "default=" + peer,
			"--unsafe-no-fsync",
			"--log-level", "warn",
		})
		if err != nil {
			return err
		}
		hc := &http.Client{Timeout: 2 * time.Second}
		err = waitFor(ctx, p, 30*time.Second, func() (bool, error) {
			resp, err := hc.Get(client + "/health")
			if err != nil {
				return false, nil
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK && bytes.Contains(body, []byte(`"true"`)), nil
		})
		if err == nil {
			c.EtcdURL = client
			return nil
		}
		lastErr = err
		if !p.exited() || !logContains(p.logPath, "address already in use") {
			return err
		}
		c.logf("etcd: port taken, retrying on new ports")
	}
	return lastErr
}

func (c *Cluster) startAPIServer(ctx context.Context, opts Options, work string, f *files) error {
	var lastErr error
	for attempt := 0; attempt < portAttempts; attempt++ {
		ports, err := freePorts(1)
		if err != nil {
			return err
		}
		url := "https://127.0.0.1:" + strconv.Itoa(ports[0])
		args := []string{
			"--etcd-servers", c.EtcdURL,
			"--bind-address", "127.0.0.1",
			"--advertise-address", "127.0.0.1",
			"--endpoint-reconciler-type", "none",
			"--secure-port", strconv.Itoa(ports[0]),
			"--cert-dir", filepath.Join(work, "apiserver-certs"),
			"--tls-cert-file", f.servingCert,
			"--tls-private-key-file", f.servingKey,
			"--token-auth-file", f.tokenFile,
			"--authorization-mode", "RBAC",
			"--service-account-issuer", "https://kubernetes.default.svc",
			"--service-account-key-file", f.saPub,
			"--service-account-signing-key-file", f.saKey,
			"--service-cluster-ip-range", "10.0.0.0/24",
			"--profiling=false",
		}
		if !opts.ControllerManager {
			args = append(args, "--disable-admission-plugins", "ServiceAccount")
		}
		args = append(args, opts.APIServerArgs...)
		p, err := c.spawn(opts.BinDir, APIServerBinary, work, args)
		if err != nil {
			return err
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(f.caPEM)
		hc := &http.Client{
			Timeout:   5 * time.Second,
			Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		}
		var last string
		err = waitFor(ctx, p, 90*time.Second, func() (bool, error) {
			req, _ := http.NewRequest(http.MethodGet, url+"/readyz", nil)
			req.Header.Set("Authorization", "Bearer "+f.token)
			resp, err := hc.Do(req)
			if err != nil {
				last = err.Error()
				return false, nil
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			last = fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(body))
			return resp.StatusCode == http.StatusOK, nil
		})
		hc.CloseIdleConnections()
		if err == nil {
			c.URL = url
			return nil
		}
		lastErr = fmt.Errorf("%w (last /readyz: %s)", err, last)
		if !p.exited() || !logContains(p.logPath, "address already in use") {
			return lastErr
		}
		c.logf("kube-apiserver: port taken, retrying on a new port")
	}
	return lastErr
}

// controllers run by kube-controller-manager: what Deployments, Jobs,
// namespaces and service accounts need to behave as in a real cluster.
var controllers = []string{
	"serviceaccount-token-controller",
	"clusterrole-aggregation-controller",
	"serviceaccount-controller",
	"root-ca-certificate-publisher-controller",
	"namespace-controller",
	"garbage-collector-controller",
	"deployment-controller",
	"replicaset-controller",
	"replicationcontroller-controller",
	"statefulset-controller",
	"daemonset-controller",
	"job-controller",
	"cronjob-controller",
	"ttl-after-finished-controller",
}

func (c *Cluster) startControllerManager(ctx context.Context, opts Options, work string, f *files) error {
	args := []string{
		"--kubeconfig", c.Kubeconfig,
		"--leader-elect=false",
		"--secure-port=0",
		"--controllers", strings.Join(controllers, ","),
		"--service-account-private-key-file", f.saKey,
		"--root-ca-file", f.caFile,
		"--use-service-account-credentials=false",
		"--profiling=false",
	}
	args = append(args, opts.ControllerManagerArgs...)
	p, err := c.spawn(opts.BinDir, ControllerManagerBinary, work, args)
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	return waitFor(ctx, p, 90*time.Second, func() (bool, error) {
		_, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		if err == nil {
			return true, nil
		}
		if !apierrors.IsNotFound(err) {
			c.logf("waiting for the default ServiceAccount: %v", err)
		}
		return false, nil
	})
}

// spawn starts bin/name with its output in WorkDir/name.log.
func (c *Cluster) spawn(binDir, name, work string, args []string) (*process, error) {
	path := filepath.Join(binDir, name)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	logPath := filepath.Join(work, name+".log")
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(lf, "### %s %s\n", path, strings.Join(args, " "))
	cmd := exec.Command(path, args...)
	cmd.Dir = work
	cmd.Stdout = lf
	cmd.Stderr = lf
	cmd.Env = childEnv()
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("cluster: start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, logFile: lf, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		lf.Close()
		close(p.done)
	}()
	c.mu.Lock()
	c.procs = append(c.procs, p)
	c.mu.Unlock()
	c.logf("started %s (pid %d), log %s", name, cmd.Process.Pid, logPath)
	return p, nil
}

// childEnv keeps loopback traffic (etcd, webhooks on 127.0.0.1) away from any
// proxy configured in the environment.
func childEnv() []string {
	env := os.Environ()
	const local = "127.0.0.1,localhost,::1"
	for _, k := range []string{"NO_PROXY", "no_proxy"} {
		v := os.Getenv(k)
		if v != "" {
			v += ","
		}
		env = append(env, k+"="+v+local)
	}
	return env
}

// waitFor polls ready until it returns true, the process exits, the timeout
// passes or ctx is done.
func waitFor(ctx context.Context, p *process, timeout time.Duration, ready func() (bool, error)) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := ready()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("cluster: %s exited before it was ready: %v", p.name, p.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("cluster: waiting for %s: %w", p.name, ctx.Err())
		case <-deadline.C:
			return fmt.Errorf("cluster: %s not ready after %s", p.name, timeout)
		case <-tick.C:
		}
	}
}

// Stop ends kube-controller-manager, then kube-apiserver, then etcd (in that
// order: the API server stops in about a second once its clients are gone,
// ten otherwise). Each gets SIGTERM and, after a grace period, SIGKILL. Stop
// is idempotent and safe to call on a partly started Cluster.
func (c *Cluster) Stop() error {
	c.stop.once.Do(func() {
		c.mu.Lock()
		procs := append([]*process(nil), c.procs...)
		c.mu.Unlock()
		var errs []error
		for i := len(procs) - 1; i >= 0; i-- {
			if err := stopProcess(procs[i]); err != nil {
				errs = append(errs, err)
			}
		}
		c.stop.err = errors.Join(errs...)
	})
	return c.stop.err
}

// stopGrace is how long a component may take to exit after SIGTERM.
const stopGrace = 5 * time.Second

func stopProcess(p *process) error {
	if p.exited() {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(stopGrace):
	}
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("cluster: kill %s (pid %d): %w", p.name, p.cmd.Process.Pid, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("cluster: %s (pid %d) did not exit after SIGKILL", p.name, p.cmd.Process.Pid)
	}
}

// logTailLines is how many lines of each component's log Logs returns.
const logTailLines = 40

// Logs returns the last lines of each started component's log, for test
// failure messages. The full logs stay in WorkDir (NAME.log).
func (c *Cluster) Logs() string {
	c.mu.Lock()
	procs := append([]*process(nil), c.procs...)
	c.mu.Unlock()
	var b strings.Builder
	for _, p := range procs {
		state := "running"
		if p.exited() {
			state = fmt.Sprintf("exited: %v", p.waitErr)
		}
		fmt.Fprintf(&b, "--- %s (pid %d, %s), last lines of %s:\n", p.name, p.cmd.Process.Pid, state, p.logPath)
		for _, l := range tail(p.logPath, logTailLines) {
			b.WriteString("  " + l + "\n")
		}
	}
	return b.String()
}

func tail(path string, n int) []string {
	f, err := os.Open(path)
	if err != nil {
		return []string{err.Error()}
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > 2*n {
			lines = append(lines[:0], lines[len(lines)-n:]...)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

func logContains(path, s string) bool {
	b, err := os.ReadFile(path)
	return err == nil && bytes.Contains(b, []byte(s))
}

func freePorts(n int) ([]int, error) {
	var ports []int
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func writeKubeconfig(path, url string, caPEM []byte, token string) error {
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: admin
  user:
    token: %s
contexts:
- name: e2e
  context:
    cluster: e2e
    user: admin
current-context: e2e
`, url, base64.StdEncoding.EncodeToString(caPEM), token)
	return os.WriteFile(path, []byte(cfg), 0o600)
}

// CreateNamespace creates a namespace with labels and, when the controller
// manager runs, waits until its `default` ServiceAccount exists (until then
// the ServiceAccount admission plugin rejects Pods in it).
func (c *Cluster) CreateNamespace(ctx context.Context, name string, labels map[string]string) (*corev1.Namespace, error) {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return nil, err
	}
	ns, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
	}, metav1.CreateOptions{})
	if err != nil || !c.kcm {
		return ns, err
	}
	for {
		_, err := cs.CoreV1().ServiceAccounts(name).Get(ctx, "default", metav1.GetOptions{})
		if err == nil {
			return ns, nil
		}
		if !apierrors.IsNotFound(err) {
			return ns, err
		}
		select {
		case <-ctx.Done():
			return ns, fmt.Errorf("cluster: no default ServiceAccount in namespace %s: %w", name, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
