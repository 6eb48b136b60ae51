package registry

import (
	"container/list"
	"sync"
	"time"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// record is what one cache entry holds: the digest a tag points at (tag
// entries), what was found for a digest (digest entries), or why nothing
// could be found (failures, either kind).
type record struct {
	// digest is the manifest digest a tag points at; tag entries only.
	digest string
	// labels, packages and sbom are what a digest lookup found.
	labels   map[string]string
	packages []policy.Package
	sbom     string
	// unavailable is the operator-readable reason of a failure, reason its
	// short metric label ("rate-limited"). Both empty on success.
	unavailable string
	reason      string
	// ttl is how long the record stays valid; 0 means until evicted.
	ttl time.Duration
}

// fill copies the record into ev. The labels map and packages slice are
// shared with the cache: callers must not modify them.
func (r *record) fill(ev *policy.Evidence) *policy.Evidence {
	ev.Labels = r.labels
	ev.Packages = r.packages
	ev.SBOM = r.sbom
	if r.unavailable != "" {
		ev.Unavailable = r.unavailable
	}
	return ev
}

// size approximates the memory a record holds, for the byte bound.
func (r *record) size(key string) int64 {
	const overhead = 256 // list element, map entry, record header
	n := int64(overhead + 2*len(key) + len(r.digest) + len(r.sbom) + len(r.unavailable) + len(r.reason))
	for k, v := range r.labels {
		n += int64(len(k) + len(v) + 48)
	}
	for i := range r.packages {
		p := &r.packages[i]
		n += int64(6*16 + len(p.Type) + len(p.Namespace) + len(p.Name) + len(p.Version) + len(p.Source) + len(p.Platform))
	}
	return n
}

// cache is an LRU bounded by entries and by approximate bytes, whose
// entries may also expire. It is safe for concurrent use.
type cache struct {
	mu         sync.Mutex
	ll         list.List // front: most recently used
	items      map[string]*list.Element
	maxEntries int
	maxBytes   int64
	bytes      int64
	now        func() time.Time
}

type cacheEntry struct {
	key     string
	rec     *record
	size    int64
	expires time.Time // zero: never
}

func newCache(maxEntries int, maxBytes int64, now func() time.Time) *cache {
	return &cache{items: make(map[string]*list.Element), maxEntries: maxEntries, maxBytes: maxBytes, now: now}
}

// get returns the record for key, if present and not expired.
func (c *cache) get(key string) (*record, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if !e.expires.IsZero() && !c.now().Before(e.expires) {
		c.remove(el)
		return nil, false
	}
	c.ll.MoveToFront(el)
	return e.rec, true
}

// add stores rec under key, evicting the least recently used entries
// beyond the bounds. A record larger than the whole byte bound is not kept.
func (c *cache) add(key string, rec *record) {
	e := &cacheEntry{key: key, rec: rec, size: rec.size(key)}
	if rec.ttl > 0 {
		e.expires = c.now().Add(rec.ttl)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.remove(el)
	}
	if e.size > c.maxBytes {
		return
	}
	c.items[key] = c.ll.PushFront(e)
	c.bytes += e.size
	for c.ll.Len() > c.maxEntries || c.bytes > c.maxBytes {
		c.remove(c.ll.Back())
	}
}

// drop removes key.
func (c *cache) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.remove(el)
	}
}

func (c *cache) remove(el *list.Element) {
	e := c.ll.Remove(el).(*cacheEntry)
	delete(c.items, e.key)
	c.bytes -= e.size
}

// stats returns the number of entries and their approximate bytes.
func (c *cache) stats() (entries int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len(), c.bytes
}
