package registry

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// maxRedirects bounds a redirect chain. ggcr's fetcher replaces net/http's
// redirect policy with an SSRF check that has no count, so a registry
// redirecting to itself would loop until the context ends.
const maxRedirects = 10

// guard is the innermost transport of every registry request (under ggcr's
// auth and retry layers). It bounds what one registry can cost: requests
// in flight per host, redirect chains, and response body sizes (manifests,
// referrers lists and token responses to maxSmall bytes, blobs to maxBlob).
//
// It also keeps requests off addresses that are not the registries' to
// reach (see addrGuard): its own base transports dial through the address
// guard; requests sent through a proxy, or through a caller-given
// Transport, are checked by name before they are sent.
type guard struct {
	secure, insecure http.RoundTripper
	insecureHosts    map[string]bool
	perHost          int
	maxSmall         int64
	maxBlob          int64
	onRequest        func(host string)
	addrs            *addrGuard
	// proxy is the base transports' Proxy (nil: none); checkAll says the
	// base transports do not dial through addrs (a caller's Transport).
	proxy    func(*http.Request) (*url.URL, error)
	checkAll bool

	mu   sync.Mutex
	sems *hostLRU[chan struct{}]
}

// newBaseTransports returns the transport for verified TLS and the one for
// insecure registries, both dialling through a; a caller-given transport
// serves both (guarded is then false: it dials as it will).
func newBaseTransports(t http.RoundTripper, a *addrGuard) (secure, insecure http.RoundTripper, proxy func(*http.Request) (*url.URL, error), guarded bool) {
	if t != nil {
		return t, t, nil, false
	}
	def, ok := remote.DefaultTransport.(*http.Transport)
	if !ok {
		return remote.DefaultTransport, remote.DefaultTransport, nil, false
	}
	st := def.Clone()
	st.DialContext = a.DialContext
	st.Proxy = a.proxyFunc(def.Proxy)
	it := st.Clone()
	it.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // only for registries the operator listed as insecure
	return st, it, st.Proxy, true
}

// sem returns host's semaphore. Semaphores are kept for maxHosts hosts;
// one dropped while in use is still released by its holders, so a host
// that comes back meanwhile may briefly have more requests in flight.
func (g *guard) sem(host string) chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	s, ok := g.sems.get(host)
	if !ok {
		s = make(chan struct{}, g.perHost)
		g.sems.add(host, s)
	}
	return s
}

// semCount returns the number of semaphores kept.
func (g *guard) semCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.sems.len()
}

// check refuses a request whose host must not be reached before it is
// sent: always for an address written in the URL, and by resolving the
// name when the connection is not dialled through the address guard (a
// proxy, a caller's Transport). The dial checks again, on the addresses
// it connects to.
func (g *guard) check(req *http.Request) error {
	host := req.URL.Host
	if g.addrs.listed.allows(host) {
		return nil
	}
	name := strings.Trim(req.URL.Hostname(), "[]")
	if _, err := netip.ParseAddr(name); err != nil && !g.checkAll {
		if g.proxy == nil {
			return nil
		}
		if u, err := g.proxy(req); err != nil || u == nil {
			return nil // dialled directly, through the guard
		}
	}
	_, err := g.addrs.resolve(req.Context(), host)
	return err
}

// RoundTrip implements http.RoundTripper.
func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	// Walk the redirect chain back to the request the client first sent:
	// it says what is being fetched (a blob's GET is redirected to storage
	// hosts whose paths say nothing).
	hops, orig := 0, req
	for orig.Response != nil && orig.Response.Request != nil {
		orig = orig.Response.Request
		hops++
	}
	if hops >= maxRedirects {
		return nil, fmt.Errorf("%s %s: %w (%d)", req.Method, req.URL.Redacted(), errRedirectLoop, hops)
	}
	if err := g.check(req); err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Redacted(), err)
	}
	host := strings.ToLower(req.URL.Host)
	s := g.sem(host)
	select {
	case s <- struct{}{}:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	release := sync.OnceFunc(func() { <-s })
	if g.onRequest != nil {
		g.onRequest(host)
	}
	base := g.secure
	if g.insecureHosts[host] {
		base = g.insecure
	}
	resp, err := base.RoundTrip(req)
	if err != nil {
		release()
		return nil, err
	}
	limit := g.maxSmall
	if strings.Contains(orig.URL.Path, "/blobs/") {
		limit = g.maxBlob
		if n, ok := orig.Context().Value(layerBlobLimit{}).(int64); ok {
			limit = n // a layer scan's: its own budget counts the bytes
		}
	}
	if resp.ContentLength > limit {
		resp.Body.Close()
		release()
		return nil, fmt.Errorf("%s %s: %w: Content-Length %d is above %d", req.Method, req.URL.Redacted(), errTooLarge, resp.ContentLength, limit)
	}
	resp.Body = &limitedBody{rc: resp.Body, left: limit, release: release}
	return resp, nil
}

// layerBlobLimit is the context key of the blob size limit of a layer
// scan's requests: layers are not SBOMs, and the scan bounds the bytes it
// reads with its own budget.
type layerBlobLimit struct{}

// limitedBody fails once more than its limit is read, and frees the host's
// slot when closed or exhausted.
type limitedBody struct {
	rc      io.ReadCloser
	left    int64
	release func()
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		// One byte past the limit: the body is too large.
		b.release()
		return n - 1, errTooLarge
	}
	if err != nil {
		b.release()
	}
	return n, err
}

func (b *limitedBody) Close() error {
	err := b.rc.Close()
	b.release()
	return err
}
