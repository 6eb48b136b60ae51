package faults

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/tokenguard/tokenguard/test/e2e"
	"github.com/tokenguard/tokenguard/test/e2e/cluster"
)

// The Service of deploy/base, in the namespace its kustomization gives.
const (
	serviceNamespace = "tokenguard-system"
	serviceName      = "tokenguard"
	webhookPort      = 8443
	metricsPort      = 9090
	sliceName        = "tokenguard-e2e"
)

// replica is one `tokenguard serve` on its own address, as a Pod would be.
type replica struct {
	name string
	ip   string
	proc *e2e.Process
}

func newReplica(name, ip, bin string, args ...string) *replica {
	return &replica{name: name, ip: ip, proc: &e2e.Process{
		Bin:     bin,
		Args:    args,
		Addr:    net.JoinHostPort(ip, strconv.Itoa(webhookPort)),
		Metrics: net.JoinHostPort(ip, strconv.Itoa(metricsPort)),
	}}
}

// kill ends the replica with SIGKILL, as the OOM killer or a node failure
// would: no drain, connections reset.
func (r *replica) kill() error {
	pid := r.proc.PID()
	if pid == 0 {
		return fmt.Errorf("%s is not running", r.name)
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	if err := p.Kill(); err != nil {
		return err
	}
	for r.proc.PID() != 0 {
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// sample is what a replica's /metrics says about its own resources.
type sample struct {
	goroutines, rss, fds float64
	// reviews is the number of admission reviews it answered.
	reviews float64
}

func (r *replica) sample() (sample, error) {
	text := r.proc.MetricsText()
	if text == "" {
		return sample{}, fmt.Errorf("%s: no /metrics", r.name)
	}
	var s sample
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		v, _ := strconv.ParseFloat(f[1], 64)
		if strings.HasPrefix(f[0], "tokenguard_admission_request_duration_seconds_count{") {
			s.reviews += v
		}
		switch f[0] {
		case "go_goroutines":
			s.goroutines = v
		case "process_resident_memory_bytes":
			s.rss = v
		case "process_open_fds":
			s.fds = v
		}
	}
	return s, nil
}

// goroutines is the replica's goroutine profile, grouped by stack.
func (r *replica) goroutines() string {
	resp, err := http.Get("http://" + r.proc.Metrics + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return string(b)
}

// endpoints keeps the Service's EndpointSlice as the endpoint controller
// and the kubelet's readiness probe would: a replica's endpoint is ready
// once /readyz answers 200, not ready after two failures in a row (probed
// every second here; deploy/ probes every 5 s), and not ready the moment
// it is terminating (a Pod being deleted leaves the ready endpoints at
// once).
type endpoints struct {
	client kubernetes.Interface
	mu     sync.Mutex
	eps    map[string]*endpoint // by IP
	writes atomic.Int64
}

type endpoint struct {
	r                  *replica
	ready, terminating bool
	failures           int
}

func newEndpoints(ctx context.Context, client kubernetes.Interface) (*endpoints, error) {
	e := &endpoints{client: client, eps: map[string]*endpoint{}}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: sliceName, Namespace: serviceNamespace, Labels: map[string]string{
			discoveryv1.LabelServiceName: serviceName,
			discoveryv1.LabelManagedBy:   "e2e.tokenguard.io",
		}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr("https"), Port: ptr(int32(webhookPort)), Protocol: ptr(corev1.ProtocolTCP)}},
	}
	_, err := client.DiscoveryV1().EndpointSlices(serviceNamespace).Create(ctx, slice, metav1.CreateOptions{})
	return e, err
}

func ptr[T any](v T) *T { return &v }

// add puts a replica behind the Service, not ready until probed.
func (e *endpoints) add(r *replica) {
	e.mu.Lock()
	e.eps[r.ip] = &endpoint{r: r}
	e.mu.Unlock()
}

// terminate marks a replica's endpoint not ready and terminating and
// writes the slice at once.
func (e *endpoints) terminate(ctx context.Context, r *replica) error {
	e.mu.Lock()
	if ep := e.eps[r.ip]; ep != nil {
		ep.ready, ep.terminating = false, true
	}
	e.mu.Unlock()
	return e.write(ctx)
}

func (e *endpoints) remove(ctx context.Context, r *replica) error {
	e.mu.Lock()
	delete(e.eps, r.ip)
	e.mu.Unlock()
	return e.write(ctx)
}

func (e *endpoints) isReady(r *replica) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	ep := e.eps[r.ip]
	return ep != nil && ep.ready
}

// probe runs the readiness probes every period until ctx ends, writing
// the slice whenever readiness changes.
func (e *endpoints) probe(ctx context.Context, period time.Duration) {
	hc := &http.Client{Timeout: period}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		e.mu.Lock()
		var eps []*endpoint
		for _, ep := range e.eps {
			if !ep.terminating {
				eps = append(eps, ep)
			}
		}
		e.mu.Unlock()
		changed := false
		for _, ep := range eps {
			ok := false
			if resp, err := hc.Get("http://" + ep.r.proc.Metrics + "/readyz"); err == nil {
				ok = resp.StatusCode == http.StatusOK
				resp.Body.Close()
			}
			e.mu.Lock()
			switch {
			case ep.terminating:
			case ok:
				ep.failures = 0
				if !ep.ready {
					ep.ready, changed = true, true
				}
			default:
				ep.failures++
				if ep.ready && ep.failures >= 2 {
					ep.ready, changed = false, true
				}
			}
			e.mu.Unlock()
		}
		if changed {
			_ = e.write(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (e *endpoints) write(ctx context.Context) error {
	api := e.client.DiscoveryV1().EndpointSlices(serviceNamespace)
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		slice, err := api.Get(ctx, sliceName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		e.mu.Lock()
		slice.Endpoints = slice.Endpoints[:0]
		ips := make([]string, 0, len(e.eps))
		for ip := range e.eps {
			ips = append(ips, ip)
		}
		sort.Strings(ips)
		for _, ip := range ips {
			ep := e.eps[ip]
			slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{
				Addresses: []string{ip},
				Conditions: discoveryv1.EndpointConditions{
					Ready: ptr(ep.ready), Serving: ptr(ep.ready || ep.terminating), Terminating: ptr(ep.terminating),
				},
			})
		}
		e.mu.Unlock()
		_, err = api.Update(ctx, slice, metav1.UpdateOptions{})
		if err == nil {
			e.writes.Add(1)
		}
		return err
	})
}

// waitReady waits until the replica's endpoint is ready.
func (e *endpoints) waitReady(ctx context.Context, r *replica) error {
	for !e.isReady(r) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: endpoint not ready: %w", r.name, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// podKind is one stream of the load: pods of one image in one namespace.
type podKind struct {
	name      string
	namespace string
	image     func(n int) string
	// allowed says whether tokenguard allows it: a pod that is not must
	// never be created.
	allowed bool
}

// tally counts one kind's outcomes.
type tally struct {
	attempts, created, denied, webhookErrors, otherErrors int
	latencies                                             []time.Duration
	examples                                              []string
}

func (t *tally) failed() int { return t.webhookErrors + t.otherErrors }

func (t *tally) quantile(q float64) time.Duration {
	if len(t.latencies) == 0 {
		return 0
	}
	l := append([]time.Duration(nil), t.latencies...)
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	return l[min(len(l)-1, int(q*float64(len(l))))]
}

// load creates pods at a fixed rate (open loop: a slow answer does not
// slow the stream) from kinds in turn until ctx ends, then waits for the
// answers. Pod names are unique per run.
type load struct {
	client kubernetes.Interface
	seq    atomic.Int64
}

func (l *load) run(ctx context.Context, rate int, kinds []podKind) map[string]*tally {
	var mu sync.Mutex
	tallies := map[string]*tally{}
	for _, k := range kinds {
		tallies[k.name] = &tally{}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 512)
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			wg.Wait()
			return tallies
		case <-tick.C:
		}
		k := kinds[i%len(kinds)]
		n := int(l.seq.Add(1))
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			p := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", k.name, n)},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: k.image(n)}}},
			}
			// A create's own deadline: far above the webhook's 5 s.
			cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			start := time.Now()
			_, err := l.client.CoreV1().Pods(k.namespace).Create(cctx, p, metav1.CreateOptions{})
			took := time.Since(start)
			mu.Lock()
			defer mu.Unlock()
			t := tallies[k.name]
			t.attempts++
			t.latencies = append(t.latencies, took)
			switch {
			case err == nil:
				t.created++
			case apierrors.IsForbidden(err) && strings.Contains(err.Error(), `violates tokenguard`):
				t.denied++
			case strings.Contains(err.Error(), "failed calling webhook"):
				t.webhookErrors++
				if len(t.examples) < 3 {
					t.examples = append(t.examples, err.Error())
				}
			default:
				t.otherErrors++
				if len(t.examples) < 3 {
					t.examples = append(t.examples, err.Error())
				}
			}
		}()
	}
}

// apiMetrics reads the API server's admission-webhook counters: calls that
// failed and were ignored (fail open), and rejections because the call
// failed (fail closed), by webhook name.
type apiMetrics struct {
	failOpen, callErrors map[string]float64
}

func readAPIMetrics(c *cluster.Cluster) (apiMetrics, error) {
	m := apiMetrics{failOpen: map[string]float64{}, callErrors: map[string]float64{}}
	req, _ := http.NewRequest(http.MethodGet, c.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+c.Token)
	tr, err := apiTransport(c)
	if err != nil {
		return m, err
	}
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return m, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		var into map[string]float64
		switch {
		case strings.HasPrefix(line, "apiserver_admission_webhook_fail_open_count{"):
			into = m.failOpen
		case strings.HasPrefix(line, "apiserver_admission_webhook_rejection_count{") && strings.Contains(line, `error_type="calling_webhook_error"`):
			into = m.callErrors
		default:
			continue
		}
		name := label(line, "name")
		v, _ := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		into[name] += v
	}
	return m, sc.Err()
}

func label(line, key string) string {
	i := strings.Index(line, key+`="`)
	if i < 0 {
		return ""
	}
	rest := line[i+len(key)+2:]
	return rest[:strings.IndexByte(rest, '"')]
}

func (m apiMetrics) sub(before apiMetrics) apiMetrics {
	d := apiMetrics{failOpen: map[string]float64{}, callErrors: map[string]float64{}}
	for k, v := range m.failOpen {
		d.failOpen[k] = v - before.failOpen[k]
	}
	for k, v := range m.callErrors {
		d.callErrors[k] = v - before.callErrors[k]
	}
	return d
}

func sum(m map[string]float64) float64 {
	var s float64
	for _, v := range m {
		s += v
	}
	return s
}

func apiTransport(c *cluster.Cluster) (*http.Transport, error) {
	pool, err := certPool(c.CAPEM)
	if err != nil {
		return nil, err
	}
	return &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, nil
}

// faultProxy stands between the replicas and the registry: it passes
// requests through, delays each by a duration, or holds them without an
// answer (a registry that accepts connections and never replies).
type faultProxy struct {
	target string
	mode   atomic.Int32 // proxyPass, proxySlow, proxyDown
	delay  time.Duration
	srv    *http.Server
	Host   string
	held   atomic.Int64
}

const (
	proxyPass int32 = iota
	proxySlow
	proxyDown
)

func startFaultProxy(target string, delay time.Duration) (*faultProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &faultProxy{target: target, delay: delay, Host: ln.Addr().String()}
	tr := &http.Transport{}
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p.mode.Load() {
		case proxyDown:
			p.held.Add(1)
			<-r.Context().Done() // until the client gives up
			return
		case proxySlow:
			select {
			case <-time.After(p.delay):
			case <-r.Context().Done():
				return
			}
		}
		out := r.Clone(r.Context())
		out.URL.Scheme, out.URL.Host, out.RequestURI = "http", p.target, ""
		resp, err := tr.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	})}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

func (p *faultProxy) Close() { _ = p.srv.Close() }

// writeConfig writes the TokenGuardConfiguration the replicas read:
// registry evidence on, limited to the proxied test registry.
func writeConfig(dir, registryHost string) (string, error) {
	path := filepath.Join(dir, "tokenguard.yaml")
	text := fmt.Sprintf("apiVersion: tokenguard.io/v1alpha1\nkind: TokenGuardConfiguration\nunknown: allow\n"+
		"registry:\n  enabled: true\n  timeout: 2s\n  registries: [%q]\n  insecureRegistries: [%q]\n", registryHost, registryHost)
	return path, os.WriteFile(path, []byte(text), 0o644)
}
