package config

import "time"

// Defaults of the fields SetDefaults fills.
const (
	DefaultUnknown               = UnknownAllow
	DefaultRegistryTimeout       = 2 * time.Second
	DefaultCacheEntries          = 10000
	DefaultCacheBytes      int64 = 64 << 20
	DefaultMaxSBOMBytes    int64 = 64 << 20

	DefaultLayersMode                     = LayersAuto
	DefaultLayersMaxCompressedBytes int64 = 2 << 30
	DefaultLayersMaxFileBytes       int64 = 64 << 20
	DefaultLayersTimeout                  = 5 * time.Minute
	DefaultLayersConcurrency              = 2
	DefaultLayersQueueSize                = 256
)

// DefaultLayersPlatforms are the platforms of an index that are scanned.
var DefaultLayersPlatforms = []string{"linux/amd64", "linux/arm64"}

// SetDefaults fills the unset fields of c with their defaults. It leaves
// apiVersion and kind alone (a file must say them) and never overwrites a
// value that is set, even an invalid one.
func SetDefaults(c *Configuration) {
	if c.Unknown == "" {
		c.Unknown = DefaultUnknown
	}
	r := &c.Registry
	if r.Timeout.Duration == 0 && r.Timeout.invalid == "" {
		r.Timeout = NewDuration(DefaultRegistryTimeout)
	}
	if r.CacheEntries == 0 {
		r.CacheEntries = DefaultCacheEntries
	}
	if r.CacheBytes.Bytes == 0 && r.CacheBytes.invalid == "" {
		r.CacheBytes = NewByteSize(DefaultCacheBytes)
	}
	if r.MaxSBOMBytes.Bytes == 0 && r.MaxSBOMBytes.invalid == "" {
		r.MaxSBOMBytes = NewByteSize(DefaultMaxSBOMBytes)
	}
	l := &r.Layers
	if l.Mode == "" {
		l.Mode = DefaultLayersMode
	}
	if l.Platforms == nil {
		l.Platforms = append([]string(nil), DefaultLayersPlatforms...)
	}
	if l.MaxCompressedBytes.Bytes == 0 && l.MaxCompressedBytes.invalid == "" {
		l.MaxCompressedBytes = NewByteSize(DefaultLayersMaxCompressedBytes)
	}
	if l.MaxFileBytes.Bytes == 0 && l.MaxFileBytes.invalid == "" {
		l.MaxFileBytes = NewByteSize(DefaultLayersMaxFileBytes)
	}
	if l.Timeout.Duration == 0 && l.Timeout.invalid == "" {
		l.Timeout = NewDuration(DefaultLayersTimeout)
	}
	if l.Concurrency == 0 {
		l.Concurrency = DefaultLayersConcurrency
	}
	if l.QueueSize == 0 {
		l.QueueSize = DefaultLayersQueueSize
	}
}

// Default returns the defaulted empty configuration: the embedded catalog
// unchanged, unknown allowed, no exemptions, registry lookups off. It is
// valid.
func Default() *Configuration {
	c := &Configuration{APIVersion: APIVersion, Kind: Kind}
	SetDefaults(c)
	return c
}
