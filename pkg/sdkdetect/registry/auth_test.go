package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// bearerRegistry is an in-memory registry behind Docker's token
// authentication, as Docker Hub, GHCR or Harbor are: once locked, a
// request without a token for its repository's pull scope gets a 401
// whose WWW-Authenticate names the token server (realm), the service and
// the scope. The token server (/token on the registry, or serveToken
// elsewhere) hands out tokens for the scopes asked, to anyone when user is
// "" (anonymous pulls), else only for Basic user:pass.
type bearerRegistry struct {
	*testRegistry
	user, pass string
	// realm is the token server's URL; "" for /token on the registry.
	realm  string
	locked atomic.Bool

	mu         sync.Mutex
	issued     map[string][]string // token: its scopes
	exchanges  []string            // "user scope ...", "" for anonymous
	challenges int                 // 401s sent by the registry
	authSeen   []string            // Authorization headers the registry saw (its token endpoint apart)
}

var apiPath = regexp.MustCompile(`^/v2/(.+)/(manifests|blobs|referrers|tags)/[^/]+$`)

func newBearerRegistry(t testing.TB, user, pass string) *bearerRegistry {
	b := &bearerRegistry{user: user, pass: pass, issued: make(map[string][]string)}
	inner := registry.New(registry.WithReferrersSupport(true), registry.Logger(discardLog))
	b.testRegistry = serveCounting(t, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/token" {
			b.serveToken(w, req)
			return
		}
		if !b.locked.Load() {
			inner.ServeHTTP(w, req)
			return
		}
		// The API root (ggcr's ping) wants a token of any scope.
		scope, scoped := "", ""
		if req.URL.Path != "/v2/" {
			m := apiPath.FindStringSubmatch(req.URL.Path)
			if m == nil {
				http.Error(w, "not a registry API path", http.StatusNotFound)
				return
			}
			scope = "repository:" + m[1] + ":pull"
			scoped = fmt.Sprintf(",scope=%q", scope)
		}
		auth := req.Header.Get("Authorization")
		b.mu.Lock()
		b.authSeen = append(b.authSeen, auth)
		tok, isBearer := strings.CutPrefix(auth, "Bearer ")
		granted, ok := b.issued[tok]
		ok = isBearer && ok && (scope == "" || slices.Contains(granted, scope))
		if !ok {
			b.challenges++
		}
		realm := b.realm
		b.mu.Unlock()
		if !ok {
			if realm == "" {
				realm = "http://" + req.Host + "/token"
			}
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q,service="registry.test"%s`, realm, scoped))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
			return
		}
		inner.ServeHTTP(w, req)
	}))
	return b
}

// serveToken is the token endpoint.
func (b *bearerRegistry) serveToken(w http.ResponseWriter, req *http.Request) {
	q := req.URL.Query()
	user, pass, _ := req.BasicAuth()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.exchanges = append(b.exchanges, strings.TrimSpace(user+" "+strings.Join(q["scope"], " ")))
	if q.Get("service") != "registry.test" || b.user != "" && (user != b.user || pass != b.pass) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"errors":[{"code":"UNAUTHORIZED","message":"incorrect username or password"}]}`)
		return
	}
	tok := fmt.Sprintf("token-%d", len(b.exchanges))
	b.issued[tok] = q["scope"]
	json.NewEncoder(w).Encode(map[string]any{"token": tok, "expires_in": 300})
}

// revoke makes every token issued so far invalid.
func (b *bearerRegistry) revoke() {
	b.mu.Lock()
	defer b.mu.Unlock()
	clear(b.issued)
}

// counts returns the token exchanges and the 401s so far.
func (b *bearerRegistry) counts() (exchanges []string, challenges int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.exchanges), b.challenges
}

func (b *bearerRegistry) seen() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.authSeen)
}

// unlocked runs f with the registry open (pushing).
func (b *bearerRegistry) unlocked(f func()) {
	b.locked.Store(false)
	defer b.locked.Store(true)
	f()
}

func TestBearerTokenRegistry(t *testing.T) {
	r := newBearerRegistry(t, "", "")
	idx := fixture(t, r.testRegistry)
	r.quiet(func() {
		pushImage(t, r.repo(t, "acme/web"), "2.0", map[string]string{"org.opencontainers.image.version": "2.0.1"})
	})
	r.locked.Store(true)
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	s := newSource(t, Options{Timeout: 10 * time.Second, now: clock.now})

	// The first request is anonymous: its 401 names the token server, and
	// the request is sent again with a token. ggcr's ping (GET /v2/) is
	// not sent.
	checkEvidence(t, evidence(t, s, r.host+"/acme/api:1.4"), "sbom:spdx-referrer", "golang/k8s.io/client-go@v0.14.2 sbom:spdx-referrer")
	exchanges, challenges := r.counts()
	if want := []string{"repository:acme/api:pull"}; !slices.Equal(exchanges, want) || challenges != 1 {
		t.Errorf("first lookup: token requests %q and %d 401s, want %q and 1", exchanges, challenges, want)
	}
	if slices.Contains(r.requestLog(), "GET /v2/") {
		t.Errorf("the registry was pinged: %q", r.requestLog())
	}

	// Another repository of the host: its token is asked for before its
	// first request, which needs no 401 to learn where.
	if ev := evidence(t, s, r.host+"/acme/web:2.0"); ev.Unavailable != "" || ev.Labels["org.opencontainers.image.version"] != "2.0.1" {
		t.Errorf("second repository: %+v", ev)
	}
	exchanges, challenges = r.counts()
	if want := []string{"repository:acme/api:pull", "repository:acme/web:pull"}; !slices.Equal(exchanges, want) || challenges != 1 {
		t.Errorf("second repository: token requests %q and %d 401s, want %q and 1", exchanges, challenges, want)
	}

	// A token the registry no longer accepts is replaced once.
	r.unlocked(func() { pushIndexTag(t, r.testRegistry, idx, "latest") })
	r.revoke()
	checkEvidence(t, evidence(t, s, r.host+"/acme/api:latest"), "sbom:spdx-referrer", "golang/k8s.io/client-go@v0.14.2 sbom:spdx-referrer")
	exchanges, challenges = r.counts()
	if len(exchanges) != 3 || challenges != 2 {
		t.Errorf("revoked token: token requests %q and %d 401s, want 3 and 2", exchanges, challenges)
	}

	// An expired token is renewed before it is sent.
	clock.advance(300 * time.Second)
	r.unlocked(func() { pushIndexTag(t, r.testRegistry, idx, "stable") })
	checkEvidence(t, evidence(t, s, r.host+"/acme/api:stable"), "sbom:spdx-referrer", "golang/k8s.io/client-go@v0.14.2 sbom:spdx-referrer")
	exchanges, challenges = r.counts()
	if len(exchanges) != 4 || challenges != 2 {
		t.Errorf("expired token: token requests %q and %d 401s, want 4 and 2", exchanges, challenges)
	}
}

func TestBearerTokenNeedsCredentials(t *testing.T) {
	r := newBearerRegistry(t, "alice", "s3cret")
	fixture(t, r.testRegistry)
	r.locked.Store(true)
	creds := func(namespace, _ string, secrets []string) (string, authn.Keychain) {
		if namespace == "team" && slices.Equal(secrets, []string{"regcred"}) {
			return "team/regcred@1", basicKeychain{r.host, "alice", "s3cret"}
		}
		return "", nil
	}
	s := newSource(t, Options{Timeout: 10 * time.Second, Credentials: creds})
	image := r.host + "/acme/api:1.4"
	lookup := func(p policy.Puller) *policy.Evidence {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		return s.Evidence(ctx, p, image)
	}

	// Without credentials the token server refuses: a 401, said so.
	ev := lookup(policy.Puller{Namespace: "other"})
	if want := "registry " + r.host + " refused the credentials (401)"; !strings.HasPrefix(ev.Unavailable, want) {
		t.Errorf("without credentials: Unavailable = %q, want %q…", ev.Unavailable, want)
	}
	// With the pull secret's: the token server gets them, the registry
	// only tokens.
	ev = lookup(policy.Puller{Namespace: "team", PullSecrets: []string{"regcred"}})
	checkEvidence(t, ev, "sbom:spdx-referrer", "golang/k8s.io/client-go@v0.14.2 sbom:spdx-referrer")
	exchanges, _ := r.counts()
	if want := []string{"repository:acme/api:pull", "alice repository:acme/api:pull"}; !slices.Equal(exchanges, want) {
		t.Errorf("token requests %q, want %q", exchanges, want)
	}
	for _, a := range r.seen() {
		if a != "" && !strings.HasPrefix(a, "Bearer ") {
			t.Errorf("the registry saw Authorization %q; it should see tokens only", a)
		}
	}
}

func TestBasicAuthRegistry(t *testing.T) {
	r, locked := newBasicAuthRegistry(t, "alice", "s3cret")
	fixture(t, r)
	locked.Store(true)
	s := newSource(t, Options{Timeout: 10 * time.Second, Keychain: basicKeychain{r.host, "alice", "s3cret"}})
	checkEvidence(t, evidence(t, s, r.host+"/acme/api:1.4"), "sbom:spdx-referrer", "golang/k8s.io/client-go@v0.14.2 sbom:spdx-referrer")
	// One anonymous request learns the challenge; the requests after it
	// carry the credentials at once: the lookup reads every path once,
	// and the tag's twice.
	log := r.requestLog()
	distinct := slices.Compact(slices.Sorted(slices.Values(log)))
	if len(log) < 2 || log[0] != log[1] || !strings.HasPrefix(log[0], "HEAD ") || len(log) != len(distinct)+1 {
		t.Errorf("requests %q, want the tag's HEAD twice (anonymous, then with credentials) first, and every other once", log)
	}
	if slices.Contains(log, "GET /v2/") {
		t.Errorf("the registry was pinged: %q", log)
	}
}

// authRecorder records the Authorization headers a server receives.
type authRecorder struct {
	mu   sync.Mutex
	seen []string
}

func (a *authRecorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if v := req.Header.Get("Authorization"); v != "" {
			a.mu.Lock()
			a.seen = append(a.seen, req.URL.Path+": "+v)
			a.mu.Unlock()
		}
		h.ServeHTTP(w, req)
	})
}

func (a *authRecorder) headers() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.seen)
}

// A pull secret's credentials go to the registry they are for (and to its
// token server), never to blob storage it redirects to, nor to other
// registries, nor to another registry's token server.
func TestCredentialsStayOnTheirHost(t *testing.T) {
	const user, pass = "alice", "s3cret"
	// A: Basic auth, blobs redirected to storage S.
	inner := registry.New(registry.WithReferrersSupport(true), registry.Logger(discardLog))
	var storageSeen authRecorder
	storage := httptest.NewServer(storageSeen.wrap(inner))
	t.Cleanup(storage.Close)
	var locked atomic.Bool
	var aSeen authRecorder
	a := serveCounting(t, aSeen.wrap(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !locked.Load() {
			inner.ServeHTTP(w, req)
			return
		}
		if u, p, ok := req.BasicAuth(); !ok || u != user || p != pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="a"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if req.Method == http.MethodGet && strings.Contains(req.URL.Path, "/blobs/") {
			http.Redirect(w, req, storage.URL+req.URL.Path, http.StatusTemporaryRedirect)
			return
		}
		inner.ServeHTTP(w, req)
	})))
	fixture(t, a)
	locked.Store(true)
	// B: no auth at all. C: anonymous Bearer tokens.
	var bSeen authRecorder
	b := serveCounting(t, bSeen.wrap(registry.New(registry.WithReferrersSupport(true), registry.Logger(discardLog))))
	fixture(t, b)
	c := newBearerRegistry(t, "", "")
	fixture(t, c.testRegistry)
	c.locked.Store(true)

	creds := func(string, string, []string) (string, authn.Keychain) {
		return "team/regcred@1", basicKeychain{a.host, user, pass}
	}
	s := newSource(t, Options{Timeout: 10 * time.Second, Credentials: creds})
	puller := policy.Puller{Namespace: "team", PullSecrets: []string{"regcred"}}
	for _, r := range []*testRegistry{a, b, c.testRegistry} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		ev := s.Evidence(ctx, puller, r.host+"/acme/api:1.4")
		cancel()
		checkEvidence(t, ev, "sbom:spdx-referrer", "golang/k8s.io/client-go@v0.14.2 sbom:spdx-referrer")
	}
	if len(aSeen.headers()) == 0 {
		t.Error("registry A never received its credentials")
	}
	if got := storageSeen.headers(); len(got) != 0 {
		t.Errorf("blob storage received credentials: %q", got)
	}
	if got := bSeen.headers(); len(got) != 0 {
		t.Errorf("registry B received credentials: %q", got)
	}
	exchanges, _ := c.counts()
	for _, e := range exchanges {
		if strings.HasPrefix(e, user+" ") {
			t.Errorf("registry C's token server received A's credentials: %q", exchanges)
		}
	}
	for _, h := range c.seen() {
		if h != "" && !strings.HasPrefix(h, "Bearer token-") {
			t.Errorf("registry C received %q", h)
		}
	}
}

// nameTransport connects each host:port named in hosts to its address.
func nameTransport(hosts map[string]string) http.RoundTripper {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	d := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if to, ok := hosts[addr]; ok {
			addr = to
		}
		return d(ctx, network, addr)
	}
	return tr
}

// The token server is reached through the address guard like the
// registry: a realm on an address that is not the registries' is refused
// unless listed.
func TestTokenServerThroughGuard(t *testing.T) {
	r := newBearerRegistry(t, "", "")
	fixture(t, r.testRegistry)
	r.locked.Store(true)
	var tokens atomic.Int64
	auth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		tokens.Add(1)
		r.serveToken(w, req)
	}))
	t.Cleanup(auth.Close)
	_, regPort, _ := strings.Cut(r.host, ":")
	_, authPort, _ := strings.Cut(strings.TrimPrefix(auth.URL, "http://"), ":")
	regHost, authHost := "registry.test:"+regPort, "auth.test:"+authPort
	r.mu.Lock()
	r.realm = "http://" + authHost + "/token"
	r.mu.Unlock()
	names := nameTransport(map[string]string{regHost: r.host, authHost: strings.TrimPrefix(auth.URL, "http://")})

	// Both names resolve to 127.0.0.1; only the registry is listed.
	s := newGuardedSource(t, Options{Timeout: 10 * time.Second, InsecureRegistries: []string{regHost}, Transport: names, lookupIP: resolveTo("127.0.0.1")})
	ev := evidence(t, s, regHost+"/acme/api:1.4")
	want := fmt.Sprintf("registry %s sent tokenguard to %s (a redirect or its token server), which resolves to a loopback address (127.0.0.1); list %s in registry.registries to allow it", regHost, authHost, authHost)
	if ev.Unavailable != want {
		t.Errorf("Unavailable = %q\n         want %q", ev.Unavailable, want)
	}
	if n := tokens.Load(); n != 0 {
		t.Errorf("the unlisted token server received %d requests", n)
	}

	// Listed, it is asked.
	s = newGuardedSource(t, Options{Timeout: 10 * time.Second, InsecureRegistries: []string{regHost, authHost}, Transport: names, lookupIP: resolveTo("127.0.0.1")})
	checkEvidence(t, evidence(t, s, regHost+"/acme/api:1.4"), "sbom:spdx-referrer", "golang/k8s.io/client-go@v0.14.2 sbom:spdx-referrer")
	if n := tokens.Load(); n != 1 {
		t.Errorf("the token server received %d requests, want 1", n)
	}
}

// A registry that may speak HTTPS or plain HTTP (insecure, or local) is
// asked over both at once only until one answers, and by at most
// PerRegistryConcurrency requests together.
func TestSchemeLearntOnce(t *testing.T) {
	r := newTestRegistry(t, registry.WithReferrersSupport(true))
	idx := fixture(t, r)
	const tags = 32
	r.quiet(func() {
		for i := range tags {
			pushIndexTag(t, r, idx, fmt.Sprint("t", i))
		}
	})
	var sent countingMetrics
	s := newSource(t, Options{Timeout: 10 * time.Second, Metrics: &sent})
	r.reset()
	var wg sync.WaitGroup
	for i := range tags {
		wg.Go(func() {
			if ev := evidence(t, s, fmt.Sprintf("%s/acme/api:t%d", r.host, i)); ev.Unavailable != "" {
				t.Errorf("t%d: %s", i, ev.Unavailable)
			}
		})
	}
	wg.Wait()
	// Requests sent over HTTPS fail before reaching the registry's
	// handler: they are the difference.
	https := sent.n.Load() - r.requests.Load()
	if https < 1 || https > DefaultPerRegistryConcurrency {
		t.Errorf("%d requests tried HTTPS, want 1 to %d", https, DefaultPerRegistryConcurrency)
	}
	before := sent.n.Load()
	r.quiet(func() { pushIndexTag(t, r, idx, "later") })
	r.reset()
	evidence(t, s, r.host+"/acme/api:later")
	if n := sent.n.Load() - before; n != r.requests.Load() {
		t.Errorf("once the scheme is known, %d requests were sent for %d answered", n, r.requests.Load())
	}
}
