package registry

import (
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"golang.org/x/sync/singleflight"
)

// ggcr's transport.NewWithContext pings the registry (GET /v2/) before a
// repository's first request, to learn its scheme and challenge: one
// round trip more before anything is read. authTransport does without it,
// as containerd does: a request goes out with the credentials the host is
// known to want (hostBook), anonymously the first time, and a 401 is
// answered by its challenge (Basic credentials, or a token from the
// Bearer realm) and the request sent again, once.

// maxRepos bounds the credentials and tokens one client keeps, one per
// repository.
const maxRepos = 256

// authEnv is what the registry clients of a Source share.
type authEnv struct {
	inner http.RoundTripper // user agent, retries, the guard
	hosts *hostBook
	// racers bounds the requests of a host trying both schemes at once.
	racers int
	// base and timeout bound token exchanges, which outlive the request
	// that started them: requests of other lookups may wait for them.
	base    context.Context
	timeout time.Duration
	now     func() time.Time
}

// authTransport authenticates the requests of one registry host with one
// set of credentials (one Puller). Credentials are attached only to
// requests for that host, never to the hosts it redirects to; its token
// server gets them through ggcr's token exchange. Requests, token
// exchanges included, go through the guard.
type authTransport struct {
	*authEnv
	reg name.Registry
	kc  authn.Keychain

	mu     sync.Mutex
	auths  *hostLRU[authn.Authenticator] // by repository
	tokens *hostLRU[bearerToken]         // by scope
	flight singleflight.Group            // token exchanges, by scope
}

func newAuthTransport(reg name.Registry, kc authn.Keychain, env *authEnv) *authTransport {
	return &authTransport{
		authEnv: env, reg: reg, kc: kc,
		auths:  newHostLRU[authn.Authenticator](maxRepos),
		tokens: newHostLRU[bearerToken](maxRepos),
	}
}

// RoundTrip implements http.RoundTripper.
func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	host := t.reg.RegistryStr()
	if !t.isRegistry(req.URL) {
		return t.redirected(req)
	}
	repo := repoOf(req.URL.Path)
	req = req.Clone(req.Context())
	if t.reg.Scheme() == "http" {
		if scheme := t.hosts.knownScheme(host); scheme != "" {
			req.URL.Scheme = scheme
		}
	}
	chal, known := t.hosts.challenge(host)
	sent := ""
	if known {
		var err error
		if sent, err = t.authorize(req, chal, repo); err != nil {
			return nil, err
		}
	} else if tok, ok := t.cachedToken(scopeOf(repo)); ok {
		// The host's challenge is relearnt after a while; its tokens
		// are still good, or dropped when refused.
		req.Header.Set("Authorization", "Bearer "+tok)
		sent = tok
	}
	resp, err := t.send(req)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || req.Body != nil && req.Body != http.NoBody {
		return resp, err
	}
	c, ok := parseChallenge(resp.Header.Values("WWW-Authenticate"))
	if !ok {
		// No challenge tokenguard can answer: ggcr's ping takes it for
		// Basic.
		c = challenge{scheme: "basic"}
	}
	// The scope asked for is this repository's: the host's challenge is
	// kept without it.
	if hc := c.withoutScope(); !known || hc != chal {
		t.hosts.setChallenge(host, hc)
	}
	switch {
	case c.scheme == "basic" && sent == "basic":
		return resp, nil // the credentials were refused
	case c.scheme == "bearer" && sent != "":
		t.dropToken(scopeOf(repo), sent)
	}
	retry := req.Clone(req.Context())
	retry.Header.Del("Authorization")
	again, err := t.authorize(retry, c, repo)
	if err != nil {
		resp.Body.Close()
		return nil, err
	}
	if again == "" {
		return resp, nil // no credentials to answer with
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	return t.send(retry)
}

// redirected sends a request a registry redirected to another host (blob
// storage, a mirror) without credentials, over the scheme it names. When
// that host asks for a token, it gets an anonymous one, as ggcr does.
func (t *authTransport) redirected(req *http.Request) (*http.Response, error) {
	resp, err := t.inner.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || req.Body != nil && req.Body != http.NoBody {
		return resp, err
	}
	c, ok := parseChallenge(resp.Header.Values("WWW-Authenticate"))
	if !ok || c.scheme != "bearer" {
		return resp, nil
	}
	reg, err := name.NewRegistry(req.URL.Host, name.WeakValidation)
	if err != nil {
		return resp, nil
	}
	var scopes []string
	if c.scope != "" {
		scopes = []string{c.scope}
	}
	tok, _, err := exchange(req.Context(), reg, authn.Anonymous, t.inner, c, scopes, req.URL.Scheme == "http")
	if err != nil {
		return resp, nil
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	retry := req.Clone(req.Context())
	retry.Header.Set("Authorization", "Bearer "+tok)
	return t.inner.RoundTrip(retry)
}

// send sends req over the host's scheme: for a registry that may speak
// plain HTTP (ggcr marks it so), the scheme it answered on before, or
// both at once when it is not known yet. Up to racers first requests do
// so together (a lookup starts a few at once); more wait for their
// answer.
func (t *authTransport) send(req *http.Request) (*http.Response, error) {
	if t.reg.Scheme() != "http" {
		return t.inner.RoundTrip(req)
	}
	host := t.reg.RegistryStr()
	for {
		scheme, wait, learnt := t.hosts.scheme(host, t.racers)
		switch {
		case scheme != "":
			req.URL.Scheme = scheme
			return t.inner.RoundTrip(req)
		case wait != nil:
			select {
			case <-wait:
			case <-req.Context().Done():
				return nil, req.Context().Err()
			}
		default:
			resp, scheme, err := raceSchemes(t.inner, req)
			learnt(scheme)
			if resp != nil {
				req.URL.Scheme = scheme
			}
			return resp, err
		}
	}
}

// authorize sets req's Authorization for the challenge c, with the
// credentials of repo: Basic ones, or a token for the repository's pull
// scope. It returns "basic", the token sent, or "" when there are no
// credentials to send.
func (t *authTransport) authorize(req *http.Request, c challenge, repo string) (string, error) {
	ctx := req.Context()
	auth, err := t.authenticator(ctx, repo)
	if err != nil {
		return "", err
	}
	cfg, err := authn.Authorization(ctx, auth)
	if err != nil {
		return "", err
	}
	if cfg.RegistryToken != "" {
		// A token from the keychain is the bearer itself.
		req.Header.Set("Authorization", "Bearer "+cfg.RegistryToken)
		return cfg.RegistryToken, nil
	}
	if c.scheme == "bearer" {
		tok, err := t.token(ctx, c, repo, auth, req.URL.Scheme == "http")
		if err != nil {
			return "", err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		return tok, nil
	}
	switch {
	case cfg.Username != "" && cfg.Password != "":
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(cfg.Username+":"+cfg.Password)))
	case cfg.Auth != "":
		req.Header.Set("Authorization", "Basic "+cfg.Auth)
	default:
		return "", nil
	}
	return "basic", nil
}

// authenticator returns the credentials of repo ("" for the registry
// itself), asking the keychain once per repository: pull secrets may name
// a repository path.
func (t *authTransport) authenticator(ctx context.Context, repo string) (authn.Authenticator, error) {
	t.mu.Lock()
	a, ok := t.auths.get(repo)
	t.mu.Unlock()
	if ok {
		return a, nil
	}
	var target authn.Resource = t.reg
	if repo != "" {
		target = t.reg.Repo(repo)
	}
	a, err := authn.Resolve(ctx, t.kc, target)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.auths.add(repo, a)
	t.mu.Unlock()
	return a, nil
}

// repoOf returns the repository a registry API path names
// ("/v2/<repository>/manifests/<reference>", blobs, referrers, tags), or
// "".
func repoOf(path string) string {
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return ""
	}
	i := strings.LastIndexByte(rest, '/')
	if i < 0 {
		return ""
	}
	rest = rest[:i]
	j := strings.LastIndexByte(rest, '/')
	if j <= 0 {
		return ""
	}
	switch rest[j+1:] {
	case "manifests", "blobs", "referrers", "tags":
		return rest[:j]
	}
	return ""
}

// isRegistry reports whether u is on the registry's host, over a scheme
// the registry speaks (only HTTPS, unless ggcr marks it as one that may
// speak plain HTTP), a missing port being the scheme's default.
func (t *authTransport) isRegistry(u *url.URL) bool {
	if u.Scheme != "https" && t.reg.Scheme() != "http" {
		return false
	}
	return canonicalHost(u.Host, u.Scheme) == canonicalHost(t.reg.RegistryStr(), u.Scheme)
}

// canonicalHost is hostport lowercased, with scheme's default port when it
// has none.
func canonicalHost(hostport, scheme string) string {
	hostport = strings.ToLower(hostport)
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		return net.JoinHostPort(h, p)
	}
	port := "443"
	if scheme == "http" {
		port = "80"
	}
	return net.JoinHostPort(strings.Trim(hostport, "[]"), port)
}
