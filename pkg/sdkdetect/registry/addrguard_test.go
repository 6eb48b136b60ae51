package registry

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

func TestAddressClass(t *testing.T) {
	for _, tc := range []struct {
		ip, want string
	}{
		{"127.0.0.1", classLoopback},
		{"127.9.9.9", classLoopback},
		{"::1", classLoopback},
		{"169.254.169.254", classLinkLocal}, // cloud metadata
		{"169.254.170.2", classLinkLocal},   // ECS task metadata
		{"169.254.170.23", classLinkLocal},  // EKS pod identity
		{"fe80::1", classLinkLocal},
		{"10.0.0.5", classPrivate},
		{"172.16.0.1", classPrivate},
		{"192.168.1.1", classPrivate},
		{"100.64.0.1", classPrivate}, // CGNAT
		{"fc00::1", classPrivate},
		{"fd00:ec2::254", classPrivate}, // AWS IPv6 metadata
		{"0.0.0.0", classUnspecified},
		{"0.1.2.3", classUnspecified},
		{"::", classUnspecified},
		{"224.0.0.1", classMulticast},
		{"ff02::1", classMulticast},
		{"255.255.255.255", classReserved},
		{"192.0.0.192", classReserved},
		{"::ffff:127.0.0.1", classLoopback},
		{"::ffff:169.254.169.254", classLinkLocal},
		{"::ffff:10.0.0.5", classPrivate},
		{"64:ff9b::a00:5", classPrivate}, // NAT64 of 10.0.0.5
		{"2002:7f00:1::", classLoopback}, // 6to4 of 127.0.0.1
		{"8.8.8.8", ""},                  // public
		{"2606:4700:4700::1111", ""},     // public
		{"::ffff:8.8.8.8", ""},           // public, mapped
		{"64:ff9b::808:808", ""},         // NAT64 of 8.8.8.8
		{"100.128.0.1", ""},              // just past CGNAT
		{"172.32.0.1", ""},               // just past RFC 1918
	} {
		t.Run(tc.ip, func(t *testing.T) {
			if got := addressClass(netip.MustParseAddr(tc.ip)); got != tc.want {
				t.Errorf("addressClass(%s) = %q, want %q", tc.ip, got, tc.want)
			}
		})
	}
}

func TestHostList(t *testing.T) {
	l := newHostList([]string{"Registry.Local", "10.0.0.5:5000", "[fd00::1]", "docker.io"})
	for _, tc := range []struct {
		hostport string
		want     bool
	}{
		{"registry.local", true},
		{"registry.local:443", true},
		{"registry.local:8443", true}, // a bare host: every port
		{"10.0.0.5:5000", true},
		{"10.0.0.5:5001", false},
		{"10.0.0.5", false},
		{"[fd00::1]:5000", true},
		{"fd00::1", true},
		{"index.docker.io", true},
		{"other.example", false},
	} {
		if got := l.allows(tc.hostport); got != tc.want {
			t.Errorf("allows(%q) = %v, want %v", tc.hostport, got, tc.want)
		}
	}
}

// labelMetrics records the host labels and the last failure reason.
type labelMetrics struct {
	NopMetrics
	mu      sync.Mutex
	labels  map[string]bool
	reasons []string
}

func (m *labelMetrics) add(label string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.labels == nil {
		m.labels = make(map[string]bool)
	}
	m.labels[label] = true
}

func (m *labelMetrics) Request(host string) { m.add(host) }

func (m *labelMetrics) LookupDone(registry, reason string, _ time.Duration) {
	m.add(registry)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reasons = append(m.reasons, reason)
}

func (m *labelMetrics) lastReason() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.reasons) == 0 {
		return ""
	}
	return m.reasons[len(m.reasons)-1]
}

// resolveTo is a lookupIP that answers every name with addrs.
func resolveTo(addrs ...string) lookupFunc {
	return func(context.Context, string) ([]netip.Addr, error) {
		var ips []netip.Addr
		for _, a := range addrs {
			ips = append(ips, netip.MustParseAddr(a))
		}
		return ips, nil
	}
}

func TestRefusedAddresses(t *testing.T) {
	r := newTestRegistry(t, registry.WithReferrersSupport(true))
	fixture(t, r)
	_, port, _ := strings.Cut(r.host, ":")
	for _, tc := range []struct {
		name     string
		image    string
		lookupIP lookupFunc
		want     string
	}{
		{
			name:  "loopback address",
			image: r.host + "/acme/api:1.4",
			want:  "registry " + r.host + " resolves to a loopback address; list it in registry.registries to look it up",
		},
		{
			name:  "localhost",
			image: "localhost:" + port + "/acme/api:1.4",
			want:  "registry localhost:" + port + " resolves to a loopback address (",
		},
		{
			name:     "name resolving to loopback",
			image:    "registry.test:" + port + "/acme/api:1.4",
			lookupIP: resolveTo("127.0.0.1"),
			want:     "registry registry.test:" + port + " resolves to a loopback address (127.0.0.1); list it in registry.registries to look it up",
		},
		{
			name:     "name resolving to a public and a loopback address",
			image:    "registry.test:" + port + "/acme/api:1.4",
			lookupIP: resolveTo("192.0.2.1", "::ffff:127.0.0.1"),
			want:     "registry registry.test:" + port + " resolves to a loopback address (127.0.0.1); ",
		},
		{
			name:  "private address",
			image: "10.0.0.5/acme/api:1.4",
			want:  "registry 10.0.0.5 resolves to a private address; list it in registry.registries to look it up",
		},
		{
			name:  "metadata address",
			image: "169.254.169.254/latest/meta-data:1",
			want:  "registry 169.254.169.254 resolves to a link-local address; list it in registry.registries to look it up",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r.reset()
			m := &labelMetrics{}
			s := newGuardedSource(t, Options{Timeout: 5 * time.Second, Metrics: m, lookupIP: tc.lookupIP})
			ev := evidence(t, s, tc.image)
			if !strings.HasPrefix(ev.Unavailable, tc.want) {
				t.Errorf("Unavailable = %q\n         want %q", ev.Unavailable, tc.want)
			}
			if got := m.lastReason(); got != ReasonRefused {
				t.Errorf("metrics reason = %q, want %q", got, ReasonRefused)
			}
			if n := r.requests.Load(); n != 0 {
				t.Errorf("%d requests reached the registry: %q", n, r.requestLog())
			}
		})
	}
}

func TestListedPrivateRegistry(t *testing.T) {
	r := newTestRegistry(t, registry.WithReferrersSupport(true))
	fixture(t, r)
	_, port, _ := strings.Cut(r.host, ":")
	for _, tc := range []struct {
		name     string
		opts     Options
		image    string
		lookupIP lookupFunc
	}{
		{name: "registries", opts: Options{Registries: []string{r.host}}, image: r.host + "/acme/api:1.4"},
		{name: "insecure registries", opts: Options{InsecureRegistries: []string{r.host}}, image: r.host + "/acme/api:1.4"},
		{name: "bare host", opts: Options{InsecureRegistries: []string{"127.0.0.1"}}, image: r.host + "/acme/api:1.4"},
		{
			name: "name resolving to loopback", opts: Options{Registries: []string{"registry.test:" + port}},
			image: "registry.test:" + port + "/acme/api:1.4", lookupIP: resolveTo("127.0.0.1"),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Timeout = 10 * time.Second
			tc.opts.lookupIP = tc.lookupIP
			if tc.lookupIP != nil {
				// The name resolves through the system: route it here.
				tc.opts.Transport = dialTo(r.host)
				tc.opts.InsecureRegistries = append(tc.opts.InsecureRegistries, "registry.test:"+port)
			}
			s := newGuardedSource(t, tc.opts)
			checkEvidence(t, evidence(t, s, tc.image), "sbom:spdx-referrer", "golang/k8s.io/client-go@v0.14.2 sbom:spdx-referrer")
		})
	}
}

// dialTo is a transport that connects every request to addr.
func dialTo(addr string) http.RoundTripper {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	d := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) { return d(ctx, network, addr) }
	return tr
}

func TestRedirectToUnlistedHostRefused(t *testing.T) {
	// The listed registry redirects its manifests to another loopback
	// server, which must see no request.
	inner := registry.New(registry.WithReferrersSupport(true), registry.Logger(discardLog))
	target := serveCounting(t, inner)
	listed := serveCounting(t, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.Contains(req.URL.Path, "/manifests/") {
			http.Redirect(w, req, target.srv.URL+req.URL.Path, http.StatusTemporaryRedirect)
			return
		}
		inner.ServeHTTP(w, req)
	}))
	fixture(t, target)
	target.reset()
	m := &labelMetrics{}
	s := newGuardedSource(t, Options{Timeout: 5 * time.Second, Registries: []string{listed.host}, Metrics: m})
	ev := evidence(t, s, listed.host+"/acme/api:1.4")
	want := fmt.Sprintf("registry %s sent tokenguard to %s (a redirect or its token server), which resolves to a loopback address; list %s in registry.registries to allow it", listed.host, target.host, target.host)
	if ev.Unavailable != want {
		t.Errorf("Unavailable = %q\n         want %q", ev.Unavailable, want)
	}
	if got := m.lastReason(); got != ReasonRefused {
		t.Errorf("metrics reason = %q, want %q", got, ReasonRefused)
	}
	if n := target.requests.Load(); n != 0 {
		t.Errorf("%d requests reached the redirect target: %q", n, target.requestLog())
	}
}

func TestPerHostStateBounded(t *testing.T) {
	// 1,000 distinct hosts, all resolving to an unlisted loopback address,
	// and one listed registry.
	r := newTestRegistry(t, registry.WithReferrersSupport(true))
	fixture(t, r)
	m := &labelMetrics{}
	s := newGuardedSource(t, Options{Timeout: 5 * time.Second, InsecureRegistries: []string{r.host}, Metrics: m, lookupIP: resolveTo("127.0.0.1")})
	const hosts = 1000
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range hosts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			image := fmt.Sprintf("h%d.example:5000/acme/api:1", i)
			if ev := s.Evidence(context.Background(), policy.Puller{}, image); !strings.Contains(ev.Unavailable, "resolves to a loopback address") {
				t.Errorf("%s: Unavailable = %q", image, ev.Unavailable)
			}
		}()
	}
	wg.Wait()
	checkEvidence(t, evidence(t, s, r.host+"/acme/api:1.4"), "sbom:spdx-referrer", "golang/k8s.io/client-go@v0.14.2 sbom:spdx-referrer")
	if plain, withCred := s.pullers.size(); plain > maxHosts || withCred > maxCredPullers {
		t.Errorf("%d pullers (%d with credentials), want at most %d", plain, withCred, maxHosts)
	}
	if n := s.guard.semCount(); n > maxHosts {
		t.Errorf("%d semaphores, want at most %d", n, maxHosts)
	}
	if n := s.pullers.env.hosts.len(); n > maxHosts {
		t.Errorf("%d hosts' schemes and challenges kept, want at most %d", n, maxHosts)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.labels) > 2 || !m.labels["other"] || !m.labels[r.host] {
		t.Errorf("host labels = %v, want %s and other", m.labels, r.host)
	}
}
