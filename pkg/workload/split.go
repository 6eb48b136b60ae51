package workload

import (
	"bufio"
	"bytes"
	"io"
	"sync"
)

// MaxDocumentSize caps one document of a manifest; a larger document is
// reported as ErrTooLarge and skipped, and reading goes on at the next
// document separator.
const MaxDocumentSize = 16 << 20

var bom = []byte("\xef\xbb\xbf")

// splitter cuts a YAML stream into sections at document markers: a line
// that is "---" or "..." alone or followed by blanks or a comment. Content
// after "---" on the same line (as in "--- {a: 1}") starts the next section.
// Sections holding only whitespace are dropped; comment-only sections are
// kept (they are counted as documents, and decode to nothing).
type splitter struct {
	r       *bufio.Reader
	max     int
	buf     []byte
	carry   []byte // content after a "---" marker: the next section's start
	atStart bool   // the next read begins a line
	begun   bool   // the byte-order mark check is done
	done    bool
	err     error // io.EOF or the reader's error, once done
	line    int   // complete lines read so far
	start   int   // 1-based line of the file where the last section starts
}

// splitReaders holds the splitters' 64 KiB read buffers: allocated for each
// stream, they were most of what splitting a small file allocates.
var splitReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 64<<10) }}

// newSplitter returns a splitter of r; release it when done.
func newSplitter(r io.Reader, max int) *splitter {
	br := splitReaders.Get().(*bufio.Reader)
	br.Reset(r)
	return &splitter{r: br, max: max, atStart: true}
}

// release returns the read buffer to the pool; s is unusable afterwards.
// The last section returned stays valid: it is in the splitter's own
// buffer, not the reader's.
func (s *splitter) release() {
	if s.r != nil {
		s.r.Reset(nil)
		splitReaders.Put(s.r)
		s.r = nil
	}
}

// next returns the next non-blank section (valid until the next call) and
// whether it was larger than max (its content is then dropped). At the end
// it returns io.EOF, or the reader's error; a section cut short by a read
// error is not returned.
func (s *splitter) next() (data []byte, tooLarge bool, err error) {
	for {
		if s.done && s.carry == nil {
			return nil, false, s.err
		}
		data, tooLarge, nonBlank := s.section()
		if s.done && s.err != io.EOF {
			return nil, false, s.err
		}
		if nonBlank {
			return data, tooLarge, nil
		}
	}
}

// section reads up to the next document marker or the end of the stream.
func (s *splitter) section() (data []byte, tooLarge, nonBlank bool) {
	s.buf = s.buf[:0]
	s.start = s.line + 1
	size := 0
	add := func(p []byte) {
		if !nonBlank && len(bytes.TrimSpace(p)) > 0 {
			nonBlank = true
		}
		size += len(p)
		if size > s.max {
			tooLarge = true
			s.buf = s.buf[:0]
		}
		if !tooLarge {
			s.buf = append(s.buf, p...)
		}
	}
	if s.carry != nil {
		s.start = s.line // the content follows "---" on the marker's line
		add(s.carry)
		s.carry = nil
		if s.done {
			return s.buf, tooLarge, nonBlank
		}
	}
	for {
		line, err := s.r.ReadSlice('\n')
		if err == nil {
			s.line++
		}
		if !s.begun {
			s.begun = true
			line = bytes.TrimPrefix(line, bom)
		}
		if s.atStart {
			if marker, rest := documentMarker(line); marker {
				if len(rest) > 0 {
					s.carry = append([]byte(nil), rest...)
				}
				s.atStart = err == nil
				if err != nil && err != bufio.ErrBufferFull {
					s.done, s.err = true, err
				}
				return s.buf, tooLarge, nonBlank
			}
		}
		add(line)
		switch err {
		case nil:
			s.atStart = true
		case bufio.ErrBufferFull:
			s.atStart = false
		default:
			s.done, s.err = true, err
			return s.buf, tooLarge, nonBlank
		}
	}
}

// documentMarker tells whether line is a document marker and returns the
// content that follows a "---" marker on the same line, if any.
func documentMarker(line []byte) (bool, []byte) {
	if len(line) < 3 {
		return false, nil
	}
	dash := bytes.HasPrefix(line, []byte("---"))
	if !dash && !bytes.HasPrefix(line, []byte("...")) {
		return false, nil
	}
	rest := line[3:]
	if len(rest) > 0 && rest[0] != ' ' && rest[0] != '\t' && rest[0] != '\r' && rest[0] != '\n' {
		return false, nil
	}
	trimmed := bytes.TrimSpace(rest)
	if len(trimmed) == 0 || trimmed[0] == '#' {
		return true, nil
	}
	if !dash {
		return false, nil // "... x" is no marker; YAML rejects the line
	}
	return true, rest
}
