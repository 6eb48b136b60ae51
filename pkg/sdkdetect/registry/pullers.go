package registry

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// pullerMaxAge is how long one registry's Puller (its credentials and
// tokens) is reused: keychains such as ECR's hand out credentials that
// expire.
const pullerMaxAge = 15 * time.Minute

// maxCredPullers bounds the Pullers kept for per-review credentials
// (Options.Credentials): one per registry and credentials key.
const maxCredPullers = 256

// pullers holds one ggcr Puller per registry host (and per credentials
// key, for lookups with a puller's credentials), so that tokens and
// connections are shared by all lookups of that registry with the same
// credentials. Both kinds are kept in LRUs: images may name any number of
// hosts.
//
// A Puller's transport is an authTransport over the guard, handed to ggcr
// as a transport.Wrapper: ggcr then neither pings the registry before a
// repository's first request nor adds layers of its own, so the retry and
// user agent layers are set here.
type pullers struct {
	mu       sync.Mutex
	plain    *hostLRU[pullerEntry] // by host, maxHosts
	withCred *hostLRU[pullerEntry] // by host and credentials key, maxCredPullers
	env      authEnv
	keychain authn.Keychain
	now      func() time.Time
}

type pullerEntry struct {
	p    *remote.Puller
	born time.Time
}

// init sets ps up; base ends with the Source, and bounds token exchanges
// with BackgroundTimeout.
func (ps *pullers) init(g *guard, o Options, base context.Context) {
	ps.plain = newHostLRU[pullerEntry](maxHosts)
	ps.withCred = newHostLRU[pullerEntry](maxCredPullers)
	ps.now = o.now
	ps.keychain = o.Keychain
	// One quick retry of flakes; a rate-limited registry (429) is left
	// alone, and the budget is too short for ggcr's 1s+3s.
	retry := transport.NewRetry(g,
		transport.WithRetryBackoff(transport.Backoff{Duration: 100 * time.Millisecond, Factor: 2, Jitter: 0.1, Steps: 2}),
		transport.WithRetryPredicate(retryable),
		transport.WithRetryStatusCodes(408, 500, 502, 503, 504))
	ps.env = authEnv{
		inner:  transport.NewUserAgent(retry, "tokenguard"),
		hosts:  newHostBook(o.now),
		racers: o.PerRegistryConcurrency,
		base:   base, timeout: o.BackgroundTimeout,
		now: o.now,
	}
}

// retryable is ggcr's default retry predicate: network flakes.
func retryable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if te, ok := err.(interface{ Temporary() bool }); ok && te.Temporary() {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed)
}

func (ps *pullers) lru(c creds) *hostLRU[pullerEntry] {
	if c.key != "" {
		return ps.withCred
	}
	return ps.plain
}

// get returns reg's Puller for the credentials c.
func (ps *pullers) get(reg name.Registry, c creds) (*remote.Puller, error) {
	key := c.scoped(reg.RegistryStr())
	ps.mu.Lock()
	defer ps.mu.Unlock()
	now := ps.now()
	l := ps.lru(c)
	if e, ok := l.get(key); ok && now.Sub(e.born) < pullerMaxAge {
		return e.p, nil
	}
	kc := ps.keychain
	if c.key != "" {
		kc = authn.NewMultiKeychain(c.kc, ps.keychain)
	}
	at := newAuthTransport(reg, kc, &ps.env)
	// FromToken without a challenge is a Wrapper around at (with ggcr's
	// Basic layer, a no-op for anonymous credentials).
	w, err := transport.FromToken(reg, authn.Anonymous, at, &transport.Challenge{}, nil)
	if err != nil {
		return nil, err
	}
	p, err := remote.NewPuller(remote.WithTransport(w))
	if err != nil {
		return nil, err
	}
	l.add(key, pullerEntry{p: p, born: now})
	return p, nil
}

// drop forgets the Puller of host and c if it is still p, so that the next
// lookup asks the keychain again.
func (ps *pullers) drop(host string, c creds, p *remote.Puller) {
	key := c.scoped(host)
	ps.mu.Lock()
	defer ps.mu.Unlock()
	l := ps.lru(c)
	if e, ok := l.get(key); ok && e.p == p {
		l.remove(key)
	}
}

// size returns the number of Pullers kept, without and with credentials.
func (ps *pullers) size() (plain, withCred int) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.plain.len(), ps.withCred.len()
}
