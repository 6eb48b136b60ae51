package report

import (
	"bufio"
	"container/heap"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// Spool sizes (variables for tests): a run is sorted in memory and written
// out when it holds spoolRunResults results or spoolRunFindings findings;
// spoolFanIn runs of one level are merged into one of the next, so that few
// files are open; past spoolErrors errors, errors go to a file too.
var (
	spoolRunResults  = 4096
	spoolRunFindings = 16384
	spoolFanIn       = 16
	spoolErrors      = 1024
)

// Spool collects the results and errors of a run of any size in bounded
// memory, and writes them as the Report of the same results would be
// written: the same bytes, results in Finish's order. Past a few thousand
// results it keeps them in sorted runs in temporary files (an external
// merge sort), merged as they are written out. Close removes the files.
type Spool struct {
	dir      string // for temporary files; "" is os.TempDir
	tmp      string // the spool's own directory, once made
	seq      int64
	buf      []record
	findings int
	runs     []*run
	nextRun  int

	errs     []Error
	errFile  *os.File
	errCount int

	skip    map[string]int
	summary Summary
	worst   int // highest verdict rank seen, -1 for none
	table   tableStats
}

// NewSpool returns an empty spool whose temporary files go to dir ("" for
// the system's).
func NewSpool(dir string) *Spool {
	return &Spool{dir: dir, worst: -1}
}

// record is a result and its position in the input, the tie-breaker that
// keeps the merge as stable as Finish's sort. Runs are gob streams, which
// do not tell an empty slice from nil: EmptyFindings does.
type record struct {
	Seq           int64
	Result        Result
	EmptyFindings bool
}

// run is a sorted file of records.
type run struct {
	path  string
	level int
}

// Add keeps one result.
func (s *Spool) Add(r Result) error {
	s.summary.Workloads++
	switch r.Verdict {
	case policy.VerdictTooOld:
		s.summary.TooOld++
	case policy.VerdictUnknown:
		s.summary.Unknown++
	case policy.VerdictOK:
		s.summary.OK++
	default:
		s.summary.NotApplicable++
	}
	if rank := r.Verdict.Rank(); rank > s.worst {
		s.worst = rank
	}
	s.table.add(&r)
	s.buf = append(s.buf, record{Seq: s.seq, Result: r, EmptyFindings: r.Findings != nil && len(r.Findings) == 0})
	s.seq++
	s.findings += len(r.Findings)
	if len(s.buf) >= spoolRunResults || s.findings >= spoolRunFindings {
		return s.spill()
	}
	return nil
}

// AddError keeps one input error; errors are written in the order added.
func (s *Spool) AddError(e Error) error {
	s.errCount++
	if s.errFile == nil && len(s.errs) < spoolErrors {
		s.errs = append(s.errs, e)
		return nil
	}
	if s.errFile == nil {
		f, err := s.create("errors")
		if err != nil {
			return err
		}
		s.errFile = f
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = s.errFile.Write(append(b, '\n'))
	return err
}

// Skip counts a document of a kind that is not a workload.
func (s *Spool) Skip(kind string) {
	if s.skip == nil {
		s.skip = map[string]int{}
	}
	s.skip[kind]++
}

// Summary counts what was added.
func (s *Spool) Summary() Summary {
	sum := s.summary
	sum.Errors = s.errCount
	return sum
}

// Errors is the number of input errors added.
func (s *Spool) Errors() int { return s.errCount }

// AtOrAbove reports whether any result's verdict is at or above threshold.
func (s *Spool) AtOrAbove(threshold policy.Verdict) bool {
	return s.worst >= 0 && s.worst >= threshold.Rank()
}

// WriteJSON writes what the spool holds as WriteJSON writes a Report.
func (s *Spool) WriteJSON(w io.Writer) error { return writeJSON(w, s) }

// WriteText writes what the spool holds as WriteText writes a Report.
func (s *Spool) WriteText(w, errw io.Writer) error { return writeText(w, errw, s) }

// WriteErrors writes one "error: ..." line per input error, as WriteText
// writes them to its error writer: for outputs that are files (SARIF,
// JUnit), whose run log should still name what could not be read.
func (s *Spool) WriteErrors(w io.Writer) error { return writeErrors(w, s) }

// Close removes the temporary files.
func (s *Spool) Close() error {
	var err error
	if s.errFile != nil {
		err = s.errFile.Close()
		s.errFile = nil
	}
	if s.tmp != "" {
		err = errors.Join(err, os.RemoveAll(s.tmp))
		s.tmp = ""
	}
	s.runs, s.buf, s.errs = nil, nil, nil
	return err
}

func (s *Spool) skipped() map[string]int { return s.skip }
func (s *Spool) counts() Summary         { return s.Summary() }
func (s *Spool) stats() tableStats       { return s.table }

// create makes a temporary file in the spool's directory.
func (s *Spool) create(name string) (*os.File, error) {
	if s.tmp == "" {
		dir, err := os.MkdirTemp(s.dir, "tokenguard-report-")
		if err != nil {
			return nil, fmt.Errorf("report spool: %w", err)
		}
		s.tmp = dir
	}
	f, err := os.Create(filepath.Join(s.tmp, name))
	if err != nil {
		return nil, fmt.Errorf("report spool: %w", err)
	}
	return f, nil
}

func compareRecords(a, b *record) int {
	if less(&a.Result, &b.Result) {
		return -1
	}
	if less(&b.Result, &a.Result) {
		return 1
	}
	switch {
	case a.Seq < b.Seq:
		return -1
	case a.Seq > b.Seq:
		return 1
	}
	return 0
}

// spill sorts the results in memory and writes them as a run, then merges
// runs that have become too many.
func (s *Spool) spill() error {
	if len(s.buf) == 0 {
		return nil
	}
	slices.SortFunc(s.buf, func(a, b record) int { return compareRecords(&a, &b) })
	r, err := s.writeRun(0, func(emit func(*record) error) error {
		for i := range s.buf {
			if err := emit(&s.buf[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	clear(s.buf)
	s.buf, s.findings = s.buf[:0], 0
	s.runs = append(s.runs, r)
	return s.compact()
}

// compact merges spoolFanIn runs of one level into one run of the next.
// The order of runs does not matter: records carry their input position.
func (s *Spool) compact() error {
	top := 0
	for _, r := range s.runs {
		top = max(top, r.level)
	}
	for level := 0; level <= top; level++ {
		var same, other []*run
		for _, r := range s.runs {
			if r.level == level {
				same = append(same, r)
			} else {
				other = append(other, r)
			}
		}
		if len(same) < spoolFanIn {
			continue
		}
		merged, err := s.writeRun(level+1, func(emit func(*record) error) error { return merge(same, emit) })
		if err != nil {
			return err
		}
		for _, r := range same {
			os.Remove(r.path)
		}
		s.runs = append(other, merged)
		top = max(top, level+1)
	}
	return nil
}

// writeRun writes the records fill emits, in order, to a new run file.
func (s *Spool) writeRun(level int, fill func(emit func(*record) error) error) (*run, error) {
	f, err := s.create(fmt.Sprintf("run-%d", s.nextRun))
	if err != nil {
		return nil, err
	}
	s.nextRun++
	bw := bufio.NewWriterSize(f, 64<<10)
	enc := gob.NewEncoder(bw)
	err = fill(func(r *record) error { return enc.Encode(r) })
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("report spool: %w", err)
	}
	return &run{path: f.Name(), level: level}, nil
}

// each hands every result to fn in Finish's order.
func (s *Spool) each(fn func(*Result) error) error {
	if len(s.runs) == 0 {
		slices.SortFunc(s.buf, func(a, b record) int { return compareRecords(&a, &b) })
		for i := range s.buf {
			if err := fn(&s.buf[i].Result); err != nil {
				return err
			}
		}
		return nil
	}
	if err := s.spill(); err != nil {
		return err
	}
	return merge(s.runs, func(r *record) error { return fn(&r.Result) })
}

// eachError hands every error to fn in the order added.
func (s *Spool) eachError(fn func(*Error) error) error {
	for i := range s.errs {
		if err := fn(&s.errs[i]); err != nil {
			return err
		}
	}
	if s.errFile == nil {
		return nil
	}
	f, err := os.Open(s.errFile.Name())
	if err != nil {
		return fmt.Errorf("report spool: %w", err)
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(f, 64<<10))
	for {
		var e Error
		if err := dec.Decode(&e); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("report spool: %w", err)
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
}

// cursor reads one run.
type cursor struct {
	f   *os.File
	dec *gob.Decoder
	cur record
}

func (c *cursor) next() (bool, error) {
	c.cur = record{}
	err := c.dec.Decode(&c.cur)
	if err == io.EOF {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("report spool: %s: %w", filepath.Base(c.f.Name()), err)
	}
	if c.cur.EmptyFindings && c.cur.Result.Findings == nil {
		c.cur.Result.Findings = []policy.Finding{}
	}
	return true, nil
}

type cursorHeap []*cursor

func (h cursorHeap) Len() int           { return len(h) }
func (h cursorHeap) Less(i, j int) bool { return compareRecords(&h[i].cur, &h[j].cur) < 0 }
func (h cursorHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *cursorHeap) Push(x any)        { *h = append(*h, x.(*cursor)) }
func (h *cursorHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// merge hands the records of sorted runs to emit, in order.
func merge(runs []*run, emit func(*record) error) error {
	h := make(cursorHeap, 0, len(runs))
	defer func() {
		for _, c := range h {
			c.f.Close()
		}
	}()
	for _, r := range runs {
		f, err := os.Open(r.path)
		if err != nil {
			return fmt.Errorf("report spool: %w", err)
		}
		c := &cursor{f: f, dec: gob.NewDecoder(bufio.NewReaderSize(f, 32<<10))}
		ok, err := c.next()
		if err != nil || !ok {
			f.Close()
			if err != nil {
				return err
			}
			continue
		}
		h = append(h, c)
	}
	heap.Init(&h)
	for len(h) > 0 {
		c := h[0]
		if err := emit(&c.cur); err != nil {
			return err
		}
		ok, err := c.next()
		if err != nil {
			return err
		}
		if ok {
			heap.Fix(&h, 0)
			continue
		}
		heap.Pop(&h)
		c.f.Close()
	}
	return nil
}
