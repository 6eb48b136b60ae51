package registry

import "time"

// Metrics receives what a Source does, for Prometheus or tests.
// Implementations must be safe for concurrent use and fast; embed
// NopMetrics to implement only some methods.
type Metrics interface {
	// CacheResult is called once per Evidence call with a valid reference:
	// hit when the cache answered (a cached failure counts as a hit).
	CacheResult(hit bool)
	// LookupDone is called when a registry lookup ends, whether or not an
	// Evidence call still waits for it; reason is "" on success or one of
	// the Reason constants.
	LookupDone(registry, reason string, d time.Duration)
	// BudgetExceeded is called when Evidence returns before the lookup
	// ended (tag evidence only; the lookup goes on in the background).
	BudgetExceeded(registry string)
	// Request is called for every HTTP request sent to a registry or its
	// token server.
	Request(host string)
	// LayerScan is called when a scan of an image's files ends (outcome
	// ScanComplete, ScanIncomplete, ScanFailed) with the compressed bytes
	// it read, or when one is not started (ScanDropped).
	LayerScan(outcome string, compressedBytes int64, d time.Duration)
	// LayerScanQueue is called with the number of scans running or
	// waiting, whenever it changes.
	LayerScanQueue(n int)
}

// NopMetrics discards everything.
type NopMetrics struct{}

// CacheResult implements Metrics.
func (NopMetrics) CacheResult(bool) {}

// LookupDone implements Metrics.
func (NopMetrics) LookupDone(string, string, time.Duration) {}

// BudgetExceeded implements Metrics.
func (NopMetrics) BudgetExceeded(string) {}

// Request implements Metrics.
func (NopMetrics) Request(string) {}

// LayerScan implements Metrics.
func (NopMetrics) LayerScan(string, int64, time.Duration) {}

// LayerScanQueue implements Metrics.
func (NopMetrics) LayerScanQueue(int) {}
