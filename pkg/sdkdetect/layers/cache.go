package layers

import (
	"container/list"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Cache holds layer summaries by layer (compressed) digest. Only summaries
// of layers read to their end are put. Implementations must be safe for
// concurrent use; summaries are immutable and may be shared.
type Cache interface {
	Get(layer v1.Hash) (*LayerSummary, bool)
	Put(layer v1.Hash, s *LayerSummary)
}

// MemoryCache is a Cache bounded by the summaries' SizeBytes, evicting the
// least recently used.
type MemoryCache struct {
	mu       sync.Mutex
	maxBytes int64
	bytes    int64
	lru      list.List // of *cacheEntry, most recently used first
	byDigest map[v1.Hash]*list.Element
}

type cacheEntry struct {
	digest v1.Hash
	sum    *LayerSummary
}

// NewMemoryCache returns a cache that holds at most maxBytes of summaries.
// A summary larger than maxBytes is not kept.
func NewMemoryCache(maxBytes int64) *MemoryCache {
	return &MemoryCache{maxBytes: maxBytes, byDigest: map[v1.Hash]*list.Element{}}
}

// Get returns the summary of a layer and marks it recently used.
func (c *MemoryCache) Get(layer v1.Hash) (*LayerSummary, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byDigest[layer]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(e)
	return e.Value.(*cacheEntry).sum, true
}

// Put adds or replaces the summary of a layer, evicting the least recently
// used summaries beyond the bound.
func (c *MemoryCache) Put(layer v1.Hash, s *LayerSummary) {
	if s == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byDigest[layer]; ok {
		c.remove(e)
	}
	if s.SizeBytes() > c.maxBytes {
		return
	}
	c.byDigest[layer] = c.lru.PushFront(&cacheEntry{digest: layer, sum: s})
	c.bytes += s.SizeBytes()
	for c.bytes > c.maxBytes {
		c.remove(c.lru.Back())
	}
}

func (c *MemoryCache) remove(e *list.Element) {
	ce := c.lru.Remove(e).(*cacheEntry)
	delete(c.byDigest, ce.digest)
	c.bytes -= ce.sum.SizeBytes()
}

// Len is the number of summaries held.
func (c *MemoryCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// Bytes is the sum of the SizeBytes of the summaries held.
func (c *MemoryCache) Bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}
