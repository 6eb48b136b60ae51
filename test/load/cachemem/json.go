package main

import (
	"encoding/json"
	"fmt"
	"os"
)

// serveResult is what -json writes with -serve: the figures of the printed
// table. Memory in kB as /proc/PID/status gives it, and in MB (÷ 1024, as
// the table prints it).
type serveResult struct {
	Mode          string     `json:"mode"` // "serve"
	Binary        string     `json:"binary"`
	Fixture       string     `json:"fixture"`
	Images        int        `json:"images"` // distinct digests, one review each per pass
	CacheEntries  int        `json:"cache_entries"`
	Parallel      int        `json:"parallel"`
	FirstPassSec  float64    `json:"first_pass_s"`
	SecondPassSec float64    `json:"second_pass_s"`
	Idle          procResult `json:"idle"`        // ready, before any review
	AfterPass1    procResult `json:"after_pass1"` // every digest looked up once
	AfterPass2    procResult `json:"after_pass2"` // a second pass: cache hits
	// serve's registry cache counters on /metrics after the second pass,
	// summed over their labels; null when /metrics has none.
	CacheHits   *float64 `json:"cache_hits"`
	CacheMisses *float64 `json:"cache_misses"`
}

// procResult is one reading of VmRSS and VmHWM (the peak since start).
type procResult struct {
	VmRSSkB int64   `json:"vmrss_kb"`
	VmHWMkB int64   `json:"vmhwm_kb"`
	VmRSSMB float64 `json:"vmrss_mb"`
	VmHWMMB float64 `json:"vmhwm_mb"`
}

// procFigures turns procMem's [VmHWM, VmRSS] into a procResult.
func procFigures(m [2]int64) procResult {
	return procResult{VmRSSkB: m[1], VmHWMkB: m[0], VmRSSMB: kb(m[1]), VmHWMMB: kb(m[0])}
}

// inProcessResult is what -json writes without -serve.
type inProcessResult struct {
	Mode          string    `json:"mode"` // "in-process"
	Images        int       `json:"images"`
	CacheEntries  int       `json:"cache_entries"`
	Parallel      int       `json:"parallel"`
	LookupSec     float64   `json:"lookup_s"`
	SecondPassSec float64   `json:"second_pass_s"`
	WithSBOM      int64     `json:"with_sbom"`
	Unavailable   int64     `json:"unavailable"`
	Before        memResult `json:"before"` // registry filled, before the Source
	After         memResult `json:"after"`  // after the lookups
}

type memResult struct {
	HeapInuseBytes int64   `json:"heap_inuse_bytes"`
	VmRSSBytes     int64   `json:"vmrss_bytes"`
	HeapInuseMB    float64 `json:"heap_inuse_mb"`
	VmRSSMB        float64 `json:"vmrss_mb"`
}

func memFigures(m mem) memResult {
	return memResult{HeapInuseBytes: m.heap, VmRSSBytes: m.rss, HeapInuseMB: mb(m.heap), VmRSSMB: mb(m.rss)}
}

// writeJSON writes v, indented, to path.
func writeJSON(path string, v any) error {
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(out, '\n'), 0o644); err != nil {
		return fmt.Errorf("-json: %w", err)
	}
	return nil
}
