package registry

import (
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// pullerMaxAge is how long one registry's Puller (its credentials and
// tokens) is reused: keychains such as ECR's hand out credentials that
// expire.
const pullerMaxAge = 15 * time.Minute

// maxCredPullers bounds the Pullers kept for per-review credentials
// (Options.Credentials): one per registry and credentials key.
const maxCredPullers = 256

// pullers holds one ggcr Puller per registry host (and per credentials
// key, for lookups with a puller's credentials), so that pings, token exchanges and
// connections are shared by all lookups of that registry with the same
// credentials. Both kinds are kept in LRUs: images may name any number of
// hosts.
type pullers struct {
	mu       sync.Mutex
	plain    *hostLRU[pullerEntry] // by host, maxHosts
	withCred *hostLRU[pullerEntry] // by host and credentials key, maxCredPullers
	opts     []remote.Option
	keychain authn.Keychain
	now      func() time.Time
}

type pullerEntry struct {
	p    *remote.Puller
	born time.Time
}

func (ps *pullers) init(g *guard, o Options) {
	ps.plain = newHostLRU[pullerEntry](maxHosts)
	ps.withCred = newHostLRU[pullerEntry](maxCredPullers)
	ps.now = o.now
	ps.keychain = o.Keychain
	ps.opts = []remote.Option{
		remote.WithTransport(g),
		remote.WithUserAgent("tokenguard"),
		// One quick retry of flakes; a rate-limited registry (429) is
		// left alone, and the budget is too short for ggcr's 1s+3s.
		remote.WithRetryBackoff(remote.Backoff{Duration: 100 * time.Millisecond, Factor: 2, Jitter: 0.1, Steps: 2}),
		remote.WithRetryStatusCodes(408, 500, 502, 503, 504),
	}
}

func (ps *pullers) lru(c creds) *hostLRU[pullerEntry] {
	if c.key != "" {
		return ps.withCred
	}
	return ps.plain
}

// get returns host's Puller for the credentials c.
func (ps *pullers) get(host string, c creds) (*remote.Puller, error) {
	key := c.scoped(host)
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
	p, err := remote.NewPuller(append(ps.opts[:len(ps.opts):len(ps.opts)], remote.WithAuthFromKeychain(kc))...)
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
