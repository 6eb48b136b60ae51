package filecat

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
)

// DefaultMaxFileBytes is the MaxFileBytes of a Limits that leaves it zero.
const DefaultMaxFileBytes = 64 << 20

// maxFile returns MaxFileBytes, or DefaultMaxFileBytes when it is not set.
func (l Limits) maxFile() int64 {
	if l.MaxFileBytes <= 0 {
		return DefaultMaxFileBytes
	}
	return l.MaxFileBytes
}

// capped returns the smaller of n and MaxFileBytes.
func (l Limits) capped(n int64) int64 { return min(n, l.maxFile()) }

// source wraps the reader Read is given, to tell a failure of that reader
// (an error for Read to return) from malformed content (a Note or
// nothing), and to count what was read.
type source struct {
	r   io.Reader
	n   int64
	err error // the first error of r other than io.EOF
	eof bool
}

// Read reads from r, retrying a few empty reads; a reader that keeps
// returning nothing has failed (io.ErrNoProgress).
func (s *source) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.eof {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	for range 100 {
		n, err := s.r.Read(p)
		s.n += int64(n)
		switch {
		case err == io.EOF:
			s.eof = true
		case err != nil:
			s.err = err
		}
		if n > 0 || err != nil {
			return n, err
		}
	}
	s.err = io.ErrNoProgress
	return 0, s.err
}

// finish returns what Read returns: the error of the reader if it
// failed, otherwise the results, with a note when the file ended before
// its size.
func (s *source) finish(f File, r *results) (Result, error) {
	if s.err != nil {
		return Result{}, fmt.Errorf("filecat: reading %s: %w", f.Path, s.err)
	}
	if s.eof && s.n < f.Size {
		r.note(f.Path, fmt.Sprintf("the file ended after %d of its %d bytes", s.n, f.Size))
	}
	return r.res, nil
}

// cutLast splits a path at its last '/'.
func cutLast(p string) (dir, base string) {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return "", p
	}
	return p[:i], p[i+1:]
}

// hasSuffixFold is strings.HasSuffix ignoring ASCII case.
func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

// lineReader reads the lines of a text file, at most max bytes of it.
type lineReader struct {
	br   *bufio.Reader
	left int64
}

const maxLine = 4096

func newLineReader(r io.Reader, max int64) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, maxLine), left: max}
}

// next returns the next line without its "\n" or "\r\n". A line longer
// than maxLine comes cut to maxLine, its rest skipped. It returns false
// at the end of the file or of the budget. The line is valid until the
// next call.
func (l *lineReader) next() ([]byte, bool) {
	if l.left <= 0 {
		return nil, false
	}
	line, err := l.br.ReadSlice('\n')
	l.left -= int64(len(line))
	if err == bufio.ErrBufferFull {
		// Keep the start (ReadSlice's slice is overwritten by the next
		// read, and the start is all we need) and skip the rest.
		line = bytes.Clone(line)
		for err == bufio.ErrBufferFull && l.left > 0 {
			var rest []byte
			rest, err = l.br.ReadSlice('\n')
			l.left -= int64(len(rest))
		}
	}
	if len(line) == 0 && err != nil {
		return nil, false
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	return line, true
}

// readCapped reads r to its end or to max bytes, into buf (reused); more
// tells whether r had more than max bytes.
func readCapped(r io.Reader, buf []byte, max int64) (b []byte, more bool, err error) {
	b = buf[:0]
	lr := &io.LimitedReader{R: r, N: max + 1}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := lr.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return b, false, err
		}
	}
	if int64(len(b)) > max {
		return b[:max], true, nil
	}
	return b, false, nil
}
