package registry

import (
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// pullerMaxAge is how long one registry's Puller (its credentials and
// tokens) is reused: keychains such as ECR's hand out credentials that
// expire.
const pullerMaxAge = 15 * time.Minute

// pullers holds one ggcr Puller per registry host, so that pings, token
// exchanges and connections are shared by all lookups of that registry.
type pullers struct {
	mu   sync.Mutex
	m    map[string]pullerEntry
	opts []remote.Option
	now  func() time.Time
}

type pullerEntry struct {
	p    *remote.Puller
	born time.Time
}

func (ps *pullers) init(g *guard, o Options) {
	ps.m = make(map[string]pullerEntry)
	ps.now = o.now
	ps.opts = []remote.Option{
		remote.WithTransport(g),
		remote.WithAuthFromKeychain(o.Keychain),
		remote.WithUserAgent("tokenguard"),
		// One quick retry of flakes; a rate-limited registry (429) is
		// left alone, and the budget is too short for ggcr's 1s+3s.
		remote.WithRetryBackoff(remote.Backoff{Duration: 100 * time.Millisecond, Factor: 2, Jitter: 0.1, Steps: 2}),
		remote.WithRetryStatusCodes(408, 500, 502, 503, 504),
	}
}

func (ps *pullers) get(host string) (*remote.Puller, error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if e, ok := ps.m[host]; ok && ps.now().Sub(e.born) < pullerMaxAge {
		return e.p, nil
	}
	p, err := remote.NewPuller(ps.opts...)
	if err != nil {
		return nil, err
	}
	ps.m[host] = pullerEntry{p: p, born: ps.now()}
	return p, nil
}

// drop forgets host's puller if it is still p, so that the next lookup
// asks the keychain again.
func (ps *pullers) drop(host string, p *remote.Puller) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if e, ok := ps.m[host]; ok && e.p == p {
		delete(ps.m, host)
	}
}
