package staletoken

import (
	"io"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// genReader generates n audit-log lines on the fly: every fourth one a
// stale-token event of one of 50 service accounts (from 5,000 pods), the
// others plain events; every 10,000th line is broken.
type genReader struct {
	n, i int
	buf  []byte
	pos  int
	// items makes the lines the items of one EventList (no broken lines).
	items bool
}

func (g *genReader) Read(p []byte) (int, error) {
	for g.pos == len(g.buf) {
		if g.i == g.n {
			return 0, io.EOF
		}
		g.buf, g.pos = g.buf[:0], 0
		if g.items {
			if g.i == 0 {
				g.buf = append(g.buf, "{\n  \"kind\": \"EventList\",\n  \"items\": [\n"...)
			} else {
				g.buf = append(g.buf, ",\n"...)
			}
			g.buf = appendGenLine(g.buf, g.i-g.i%10000/9999) // never the broken line
			g.buf = g.buf[:len(g.buf)-1]
			if g.i == g.n-1 {
				g.buf = append(g.buf, "\n  ]\n}\n"...)
			}
		} else {
			g.buf = appendGenLine(g.buf, g.i)
		}
		g.i++
	}
	n := copy(p, g.buf[g.pos:])
	g.pos += n
	return n, nil
}

var genBase = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)

func appendGenLine(b []byte, i int) []byte {
	var tsBuf [40]byte
	ts := genBase.Add(time.Duration(i)*time.Millisecond).AppendFormat(tsBuf[:0], time.RFC3339Nano)
	switch {
	case i%10000 == 9999:
		return append(b, "{\"kind\":\"Event\",\n"...)
	case i%4 != 0:
		b = append(b, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete","verb":"get","user":{"username":"u`...)
		b = strconv.AppendInt(b, int64(i%100), 10)
		b = append(b, `"},"stageTimestamp":"`...)
		b = append(b, ts...)
		return append(b, "\"}\n"...)
	}
	var saBuf [8]byte
	sa := strconv.AppendInt(saBuf[:0], int64(i/4%50), 10)
	// Every request has its own auditID (a UUID's length), so that the
	// stages' de-duplication is measured too.
	b = append(b, `{"kind":"Event","auditID":"6a4c2b1e-5a1d-4c3c-9d0c-`...)
	b = strconv.AppendInt(b, int64(100000000000+i), 10)
	b = append(b, `","stage":"ResponseComplete","verb":"list","user":{"username":"system:serviceaccount:ns`...)
	b = append(b, sa...)
	b = append(b, `:sa`...)
	b = append(b, sa...)
	b = append(b, `","extra":{"authentication.kubernetes.io/pod-name":["pod-`...)
	b = strconv.AppendInt(b, int64(i/4%5000), 10)
	b = append(b, `"]}},"stageTimestamp":"`...)
	b = append(b, ts...)
	b = append(b, `","annotations":{"authentication.k8s.io/stale-token":"subject: system:serviceaccount:ns`...)
	b = append(b, sa...)
	b = append(b, `:sa`...)
	b = append(b, sa...)
	b = append(b, `, seconds after warning threshold: `...)
	b = strconv.AppendInt(b, int64(i/1000), 10)
	return append(b, "\"}}\n"...)
}

// TestReadLargeBoundedMemory streams a million generated lines and checks
// that memory stays bounded: the aggregates, not the events, are kept.
func TestReadLargeBoundedMemory(t *testing.T) {
	n := 1_000_000
	if testing.Short() || raceEnabled {
		n = 100_000
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	a := NewAggregator()
	st, err := a.Read("generated", &genReader{n: n})
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	res := a.Result(Policy{})

	if st.Lines != int64(n) || st.Malformed != int64(n/10000) || st.StaleEvents != int64(n/4) {
		t.Errorf("%d lines, %d malformed, %d stale events", st.Lines, st.Malformed, st.StaleEvents)
	}
	if len(res) != 50 || res[0].MorePods != 100-DefaultMaxPods {
		t.Errorf("%d subjects; first %+v", len(res), res[0])
	}
	heap := after.HeapAlloc
	perLine := float64(after.TotalAlloc-before.TotalAlloc) / float64(n)
	t.Logf("%d lines in %v (%.0f lines/s); heap after GC %.1f MB (obtained from the OS %.1f MB); %.0f bytes allocated per line",
		n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), float64(heap)/(1<<20), float64(after.HeapSys)/(1<<20), perLine)
	if after.HeapSys > 100<<20 {
		t.Errorf("heap grew to %d bytes, want < 100 MB", after.HeapSys)
	}
	if heap > 50<<20 {
		t.Errorf("heap after GC is %d bytes, want < 50 MB", heap)
	}
	if perLine > 1024 {
		t.Errorf("%.0f bytes allocated per line, want < 1 KiB", perLine)
	}
	if !raceEnabled && elapsed > 60*time.Second {
		t.Errorf("took %v", elapsed)
	}
}

// A single EventList document is decoded one item at a time.
func TestReadLargeEventListBoundedMemory(t *testing.T) {
	n := 200_000
	if testing.Short() || raceEnabled {
		n = 20_000
	}
	a := NewAggregator()
	st, err := a.Read("generated", &genReader{n: n, items: true})
	if err != nil {
		t.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	if st.Format != FormatEventList || st.Events != int64(n) || st.StaleEvents != int64(n/4) || st.Malformed != 0 || st.Lines != int64(n+5) {
		t.Errorf("%+v", st)
	}
	if ms.HeapAlloc > 50<<20 {
		t.Errorf("heap after GC is %d bytes, want < 50 MB", ms.HeapAlloc)
	}
	// HeapSys is the most the heap held from the system: the peak, roughly.
	t.Logf("%d items: heap after GC %.1f MB, heap obtained from the OS %.1f MB", n, float64(ms.HeapAlloc)/(1<<20), float64(ms.HeapSys)/(1<<20))
	if ms.HeapSys > 100<<20 {
		t.Errorf("heap grew to %d bytes, want < 100 MB", ms.HeapSys)
	}
}

func BenchmarkRead(b *testing.B) {
	const n = 100_000
	var size int64
	for i := 0; i < n; i++ {
		size += int64(len(appendGenLine(nil, i)))
	}
	b.ReportAllocs()
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		if _, err := NewAggregator().Read("generated", &genReader{n: n}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

func BenchmarkParseAnnotation(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseAnnotation("subject: system:serviceaccount:kube-system:aws-node, seconds after warning threshold: 2592000."); err != nil {
			b.Fatal(err)
		}
	}
}
