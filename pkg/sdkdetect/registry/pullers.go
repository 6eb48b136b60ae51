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
// (WithKeychain): one per registry and credentials key.
const maxCredPullers = 256

// pullers holds one ggcr Puller per registry host (and per credentials
// key, for lookups with WithKeychain), so that pings, token exchanges and
// connections are shared by all lookups of that registry with the same
// credentials.
type pullers struct {
	mu       sync.Mutex
	m        map[string]pullerEntry
	nCreds   int // entries of m with credentials
	opts     []remote.Option
	keychain authn.Keychain
	now      func() time.Time
}

type pullerEntry struct {
	p     *remote.Puller
	born  time.Time
	creds bool
}

func (ps *pullers) init(g *guard, o Options) {
	ps.m = make(map[string]pullerEntry)
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

// get returns host's Puller for the credentials c.
func (ps *pullers) get(host string, c creds) (*remote.Puller, error) {
	key := c.scoped(host)
	ps.mu.Lock()
	defer ps.mu.Unlock()
	now := ps.now()
	if e, ok := ps.m[key]; ok && now.Sub(e.born) < pullerMaxAge {
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
	ps.remove(key)
	if c.key != "" {
		if ps.nCreds >= maxCredPullers {
			ps.evictCreds(now)
		}
		ps.nCreds++
	}
	ps.m[key] = pullerEntry{p: p, born: now, creds: c.key != ""}
	return p, nil
}

// evictCreds makes room for a credentials Puller: it drops the expired
// ones, or else the oldest.
func (ps *pullers) evictCreds(now time.Time) {
	oldest, found := "", false
	var oldestBorn time.Time
	for k, e := range ps.m {
		if !e.creds {
			continue
		}
		if now.Sub(e.born) >= pullerMaxAge {
			ps.remove(k)
			continue
		}
		if !found || e.born.Before(oldestBorn) {
			oldest, oldestBorn, found = k, e.born, true
		}
	}
	if ps.nCreds >= maxCredPullers && found {
		ps.remove(oldest)
	}
}

func (ps *pullers) remove(key string) {
	if e, ok := ps.m[key]; ok {
		delete(ps.m, key)
		if e.creds {
			ps.nCreds--
		}
	}
}

// drop forgets the Puller of host and c if it is still p, so that the next
// lookup asks the keychain again.
func (ps *pullers) drop(host string, c creds, p *remote.Puller) {
	key := c.scoped(host)
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if e, ok := ps.m[key]; ok && e.p == p {
		ps.remove(key)
	}
}
