package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/tokenguard/tokenguard/pkg/sdkdetect/registry"
)

// scanProgress prints one line on a terminal, rewritten as layer scans
// run: "scanning image files: 3 of 12 images done, 1.2 GiB read". It is the
// registry source's Metrics for check and audit with --scan-layers.
type scanProgress struct {
	registry.NopMetrics
	w        io.Writer
	mu       sync.Mutex
	finished int
	pending  int
	bytes    int64
	last     time.Time
	printed  bool
	interval time.Duration
}

// newScanProgress returns a progress line on w when w is a terminal, else
// nil (logs and CI output stay clean).
func newScanProgress(w io.Writer) *scanProgress {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return &scanProgress{w: w, interval: 200 * time.Millisecond}
}

// LayerScan implements registry.Metrics.
func (p *scanProgress) LayerScan(outcome string, compressed int64, _ time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if outcome != registry.ScanDropped {
		p.finished++
	}
	p.bytes += compressed
	p.print(false)
}

// LayerScanQueue implements registry.Metrics.
func (p *scanProgress) LayerScanQueue(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pending = n
	p.print(false)
}

// print writes the line, at most every interval unless force; p.mu held.
func (p *scanProgress) print(force bool) {
	if !force && time.Since(p.last) < p.interval {
		return
	}
	p.last = time.Now()
	p.printed = true
	fmt.Fprintf(p.w, "\rscanning image files: %d of %d images done, %s read\033[K", p.finished, p.finished+p.pending, humanBytes(p.bytes))
}

// done ends the line.
func (p *scanProgress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.printed {
		p.print(true)
		fmt.Fprintln(p.w)
	}
}

// humanBytes renders n as "512 B", "3.4 MiB", "1.2 GiB".
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
