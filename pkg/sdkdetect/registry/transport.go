package registry

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
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
type guard struct {
	secure, insecure http.RoundTripper
	insecureHosts    map[string]bool
	perHost          int
	maxSmall         int64
	maxBlob          int64
	onRequest        func(host string)

	mu   sync.Mutex
	sems map[string]chan struct{}
}

// newBaseTransports returns the transport for verified TLS and the one for
// insecure registries; a caller-given transport serves both.
func newBaseTransports(t http.RoundTripper) (secure, insecure http.RoundTripper) {
	if t != nil {
		return t, t
	}
	def, ok := remote.DefaultTransport.(*http.Transport)
	if !ok {
		return remote.DefaultTransport, remote.DefaultTransport
	}
	secure = def.Clone()
	it := def.Clone()
	it.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // only for registries the operator listed as insecure
	return secure, it
}

func (g *guard) sem(host string) chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	s, ok := g.sems[host]
	if !ok {
		s = make(chan struct{}, g.perHost)
		g.sems[host] = s
	}
	return s
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
	}
	if resp.ContentLength > limit {
		resp.Body.Close()
		release()
		return nil, fmt.Errorf("%s %s: %w: Content-Length %d is above %d", req.Method, req.URL.Redacted(), errTooLarge, resp.ContentLength, limit)
	}
	resp.Body = &limitedBody{rc: resp.Body, left: limit, release: release}
	return resp, nil
}

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
