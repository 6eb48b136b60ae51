package staletoken

import (
	"bufio"
	"bytes"
	"io"
)

// lineReader reads lines of at most max bytes from br, without holding more
// than max bytes of one line: a longer line is consumed and reported as too
// long, its content dropped.
type lineReader struct {
	br  *bufio.Reader
	max int
	buf []byte
}

// next returns the next line without its "\n" or "\r\n". The line is valid
// until the next call. At the end of the input it returns io.EOF.
func (l *lineReader) next() (line []byte, tooLong bool, err error) {
	l.buf = l.buf[:0]
	direct := false
	for {
		frag, err := l.br.ReadSlice('\n')
		if err == io.EOF && len(frag) == 0 && len(l.buf) == 0 && !tooLong && !direct {
			return nil, false, io.EOF
		}
		if !tooLong {
			switch {
			case len(l.buf)+len(frag) > l.max+2: // room for "\r\n"
				tooLong, l.buf = true, l.buf[:0]
			case err == nil && len(l.buf) == 0:
				line, direct = frag, true // no copy: the common case
			default:
				l.buf = append(l.buf, frag...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && err != io.EOF {
			return nil, false, err
		}
		break
	}
	if tooLong {
		return nil, true, nil
	}
	if !direct {
		line = l.buf
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) > l.max {
		return nil, true, nil
	}
	return line, false, nil
}

// countingReader counts the lines of what passes through it and keeps the
// chunks not yet released by drop, so that a JSON decoder's input offset can
// be turned into a line number with memory bounded by the largest value.
type countingReader struct {
	r      io.Reader
	err    error // the first error other than io.EOF
	off    int64
	lines  int64
	last   byte
	chunks []chunk
}

type chunk struct {
	start       int64
	linesBefore int64
	data        []byte
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.chunks = append(c.chunks, chunk{c.off, c.lines, append([]byte(nil), p[:n]...)})
		c.off += int64(n)
		c.lines += int64(bytes.Count(p[:n], []byte("\n")))
		c.last = p[n-1]
	}
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

// drop releases the chunks that end at or before off.
func (c *countingReader) drop(off int64) {
	i := 0
	for i < len(c.chunks) && c.chunks[i].start+int64(len(c.chunks[i].data)) <= off {
		i++
	}
	c.chunks = c.chunks[i:]
}

// lineAt returns the 1-based line of the first byte at or after off that is
// not white space or a comma: where the next JSON value starts.
func (c *countingReader) lineAt(off int64) int64 {
	line := int64(-1)
	for _, ch := range c.chunks {
		end := ch.start + int64(len(ch.data))
		if off >= end {
			continue
		}
		i := 0
		if off > ch.start {
			i = int(off - ch.start)
		}
		if line < 0 {
			line = ch.linesBefore + int64(bytes.Count(ch.data[:i], []byte("\n"))) + 1
		}
		for ; i < len(ch.data); i++ {
			switch ch.data[i] {
			case '\n':
				line++
			case ' ', '\t', '\r', ',':
			default:
				return line
			}
		}
	}
	if line < 0 {
		return c.totalLines()
	}
	return line
}

// totalLines counts the lines read, the last one with or without "\n".
func (c *countingReader) totalLines() int64 {
	if c.off > 0 && c.last != '\n' {
		return c.lines + 1
	}
	return c.lines
}
