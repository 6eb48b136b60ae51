package registry

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// record is what one cache entry holds: the digest a tag points at (tag
// entries), what was found for a digest (digest entries), or why nothing
// could be found (failures, either kind). It is also the cache's list node:
// a cache keeps 10,000 of them by default, so one allocation per entry
// (no container/list element, no separate entry) keeps the heap small.
// Once added, a record's findings never change; callers may keep it after
// it is evicted.
type record struct {
	// digest is the manifest digest a tag points at (tag entries), or the
	// digest inspected (digest entries).
	digest string
	// targets are the image manifests a layer scan of this digest reads
	// (digest entries, when layer scanning is on).
	targets []scanTarget
	// layers and layersIncomplete are a layer scan's outcome (scan
	// entries): policy.SourceLayers when complete, else why not.
	layers, layersIncomplete string
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
	// shared says the record came from Options.Shared (digest entries):
	// its packages include the layer scan's, and layers says whether the
	// scan was complete. offered, set on the records of inspections, says
	// whether it was handed to Options.Shared (shared by copies).
	shared  bool
	offered *atomic.Bool

	// The cache's bookkeeping, guarded by cache.mu; set by cache.add.
	key        string
	prev, next *record // towards the most and the least recently used
	size       int64
	expires    int64 // unix nanoseconds; 0: never
}

// fill copies the record into ev. The labels map and packages slice are
// shared with the cache: callers must not modify them.
func (r *record) fill(ev *policy.Evidence) *policy.Evidence {
	if r.unavailable == "" {
		ev.Digest = r.digest
	}
	if r.shared {
		ev.Layers = r.layers
	}
	ev.Labels = r.labels
	ev.Packages = r.packages
	ev.SBOM = r.sbom
	if r.unavailable != "" {
		ev.Unavailable = r.unavailable
	}
	return ev
}

// sizeOf approximates the memory a record holds, for the byte bound.
func (r *record) sizeOf(key string) int64 {
	const overhead = 224 // the record and its map entry
	n := int64(overhead + 2*len(key) + len(r.digest) + len(r.sbom) + len(r.unavailable) + len(r.reason) + len(r.layersIncomplete))
	for _, t := range r.targets {
		n += int64(48 + len(t.digest))
	}
	for k, v := range r.labels {
		n += int64(len(k) + len(v) + 48)
	}
	for i := range r.packages {
		p := &r.packages[i]
		n += int64(7*16 + len(p.Type) + len(p.Namespace) + len(p.Name) + len(p.Version) + len(p.Source) + len(p.Platform) + len(p.File))
	}
	return n
}

// cache is an LRU bounded by entries and by approximate bytes, whose
// entries may also expire. It is safe for concurrent use.
type cache struct {
	mu         sync.Mutex
	head, tail *record // most and least recently used
	items      map[string]*record
	maxEntries int
	maxBytes   int64
	bytes      int64
	now        func() time.Time
}

func newCache(maxEntries int, maxBytes int64, now func() time.Time) *cache {
	return &cache{items: make(map[string]*record), maxEntries: maxEntries, maxBytes: maxBytes, now: now}
}

// get returns the record for key, if present and not expired.
func (c *cache) get(key string) (*record, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rec, ok := c.items[key]
	if !ok {
		return nil, false
	}
	if rec.expires != 0 && c.now().UnixNano() >= rec.expires {
		c.remove(rec)
		return nil, false
	}
	c.unlink(rec)
	c.pushFront(rec)
	return rec, true
}

// add stores rec under key, evicting the least recently used entries
// beyond the bounds. A record larger than the whole byte bound is not kept.
func (c *cache) add(key string, rec *record) {
	size := rec.sizeOf(key)
	var expires int64
	if rec.ttl > 0 {
		expires = c.now().Add(rec.ttl).UnixNano()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if rec.key != "" { // already a node, of this or another key: add a copy
		cp := *rec
		rec = &cp
	}
	rec.key, rec.size, rec.expires = key, size, expires
	if old, ok := c.items[key]; ok {
		c.remove(old)
	}
	if rec.size > c.maxBytes {
		return
	}
	c.items[key] = rec
	c.pushFront(rec)
	c.bytes += rec.size
	for len(c.items) > c.maxEntries || c.bytes > c.maxBytes {
		c.remove(c.tail)
	}
}

// drop removes key.
func (c *cache) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if rec, ok := c.items[key]; ok {
		c.remove(rec)
	}
}

func (c *cache) remove(rec *record) {
	c.unlink(rec)
	delete(c.items, rec.key)
	c.bytes -= rec.size
}

func (c *cache) pushFront(rec *record) {
	rec.prev, rec.next = nil, c.head
	if c.head != nil {
		c.head.prev = rec
	}
	c.head = rec
	if c.tail == nil {
		c.tail = rec
	}
}

func (c *cache) unlink(rec *record) {
	if rec.prev != nil {
		rec.prev.next = rec.next
	} else {
		c.head = rec.next
	}
	if rec.next != nil {
		rec.next.prev = rec.prev
	} else {
		c.tail = rec.prev
	}
	rec.prev, rec.next = nil, nil
}

// stats returns the number of entries and their approximate bytes.
func (c *cache) stats() (entries int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items), c.bytes
}
