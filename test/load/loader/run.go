package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// lateAfter is how far behind schedule an open-loop send may start before it
// counts as late (the loader, not the server, was the bottleneck).
const lateAfter = time.Millisecond

// workerStats is owned by one worker: no locks on the hot path.
type workerStats struct {
	lat        []int64 // ns, of every request answered (any status)
	ok         int
	allowed    int
	denied     int
	errs       int
	non200     int
	badBody    int
	late       int
	statuses   map[int]int
	firstError string
	buf        bytes.Buffer
}

func (w *workerStats) fail(kind *int, format string, a ...any) {
	*kind++
	if w.firstError == "" {
		w.firstError = fmt.Sprintf(format, a...)
	}
}

// runOnce runs one target once (closed loop: cfg.n requests, or cfg.warmup
// when warming up; open loop: cfg.rate × cfg.duration), bounded by
// cfg.timeout, and measures the server's and the loader's CPU time.
func runOnce(cfg *config, t *target, warmup bool) *runResult {
	total := cfg.n
	var interval time.Duration
	if warmup {
		total = cfg.warmup
	} else if cfg.rate > 0 {
		total = int(cfg.rate * cfg.duration.Seconds())
		interval = time.Duration(float64(time.Second) / cfg.rate)
	}
	perWorker := min(total/cfg.c+total/(2*cfg.c)+64, 1<<18) // grows past that by append
	workers := make([]*workerStats, cfg.c)
	for i := range workers {
		workers[i] = &workerStats{lat: make([]int64, 0, perWorker), statuses: map[int]int{}}
	}

	runtime.GC() // the loader's own garbage from the last run is not this run's cost
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	var next atomic.Int64
	var wg sync.WaitGroup

	self := os.Getpid()
	srvBefore, selfBefore := ticks(t.PID), ticks(self)
	start := time.Now()
	for _, w := range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(total) {
					return
				}
				var due time.Time
				if interval > 0 {
					due = start.Add(time.Duration(i) * interval)
					if d := time.Until(due); d > 0 {
						select {
						case <-time.After(d):
						case <-ctx.Done():
							return
						}
					} else if -d > lateAfter {
						w.late++
					}
				}
				w.do(ctx, cfg, t, due)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	srvAfter, selfAfter := ticks(t.PID), ticks(self)

	r := &runResult{Statuses: map[int]int{}, TimedOut: ctx.Err() != nil}
	var all []int64
	for _, w := range workers {
		all = append(all, w.lat...)
		r.OK += w.ok
		r.Allowed += w.allowed
		r.Denied += w.denied
		r.Errors += w.errs
		r.Non200 += w.non200
		r.BadBody += w.badBody
		r.Late += w.late
		for code, k := range w.statuses {
			r.Statuses[code] += k
		}
		if r.FirstError == "" {
			r.FirstError = w.firstError
		}
	}
	r.Answered = len(all)
	r.Planned = total
	r.ElapsedSec = elapsed.Seconds()
	r.setLatencies(all)
	if r.Answered > 0 {
		r.ReqPerSec = float64(r.Answered) / elapsed.Seconds()
		per := func(ticks int64) float64 {
			return float64(ticks) * 1e6 / float64(cfg.clkTck) / float64(r.Answered)
		}
		if t.PID > 0 {
			r.ServerCPUus = per(srvAfter - srvBefore)
		}
		if t.PID > 0 && (srvBefore < 0 || srvAfter < 0) {
			r.ServerCPUus, r.ServerGone = 0, true
		}
		if t.PID > 0 && !r.ServerGone {
			if m, err := readMemory(t.PID); err == nil {
				r.PeakRSSMB, r.RSSMB = float64(m.HWMkB)/1024, float64(m.RSSkB)/1024
			}
		}
		if cfg.procStatOK {
			r.LoaderCPUus = per(selfAfter - selfBefore)
		}
	}
	return r
}

// ticks is readCPUTicks for a process that may be unknown (pid 0: 0) or
// gone (-1).
func ticks(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	v, err := readCPUTicks(pid)
	if err != nil {
		return -1
	}
	return v
}

// do sends one request and records its outcome. due is when an open-loop
// request was scheduled (latency counts from then); zero in a closed loop.
func (w *workerStats) do(ctx context.Context, cfg *config, t *target, due time.Time) {
	start := time.Now()
	if due.IsZero() {
		due = start
	}
	reqBody := cfg.body
	if t.body != nil {
		reqBody = t.body
	}
	resp, err := t.client.Do(newRequest(ctx, t, reqBody))
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
			return // the run's -timeout ended it: not the server's error
		}
		w.fail(&w.errs, "%v", err)
		return
	}
	w.buf.Reset()
	_, err = w.buf.ReadFrom(resp.Body)
	resp.Body.Close()
	lat := time.Since(due)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		w.fail(&w.errs, "reading the response: %v", err)
		return
	}
	w.lat = append(w.lat, int64(lat))
	body := w.buf.Bytes()
	if resp.StatusCode != 200 {
		w.statuses[resp.StatusCode]++
		w.fail(&w.non200, "HTTP %d: %.200s", resp.StatusCode, body)
		return
	}
	allowed, found := allowedField(body)
	if !found || !bytes.Contains(body, cfg.uid) {
		w.fail(&w.badBody, "response without \"allowed\" or without the request uid: %.200s", body)
		return
	}
	w.ok++
	if allowed {
		w.allowed++
	} else {
		w.denied++
	}
}

// allowedField finds "allowed" in a JSON response and reports whether its
// value is true; found is false when the key is missing.
func allowedField(body []byte) (allowed, found bool) {
	i := bytes.Index(body, []byte(`"allowed"`))
	if i < 0 {
		return false, false
	}
	rest := bytes.TrimLeft(body[i+len(`"allowed"`):], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return false, false
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	return bytes.HasPrefix(rest, []byte("true")), true
}
