package sdkdetect

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// The JSON scanner below is purpose-built for SBOMs: it reads through a
// fixed buffer, skips values it is not asked for without allocating, and
// materialises only the strings its caller reads (into a reused scratch
// buffer). encoding/json's Decoder.Token allocates for every token, which
// costs several times the time and memory budget on 20 MB SBOMs (see
// BenchmarkDecoderTokenBaseline20MB).

const (
	// scanBufSize is the read buffer of one scanner.
	scanBufSize = 64 << 10
	// maxJSONDepth bounds the nesting of arrays and objects.
	maxJSONDepth = 512
)

// sbomSyntaxError is a malformed-document error: what was expected, where
// in the document (a field path such as "packages[12].externalRefs") and at
// which byte offset. It wraps ErrInvalidSBOM.
type sbomSyntaxError struct {
	path   string
	msg    string
	offset int64
	where  string // "" or "of the decoded payload"
	eof    bool
	// formatted says path starts with a format name ("spdx: ..."): the
	// next segment is joined with ": ".
	formatted bool
}

func (e *sbomSyntaxError) Error() string {
	var b []byte
	if e.path != "" {
		b = append(b, e.path...)
		b = append(b, ": "...)
	}
	b = append(b, e.msg...)
	b = append(b, " (at byte "...)
	b = strconv.AppendInt(b, e.offset, 10)
	if e.where != "" {
		b = append(b, ' ')
		b = append(b, e.where...)
	}
	b = append(b, ')')
	return string(b)
}

func (e *sbomSyntaxError) Unwrap() []error {
	if e.eof {
		return []error{ErrInvalidSBOM, io.ErrUnexpectedEOF}
	}
	return []error{ErrInvalidSBOM}
}

// at prefixes the field path of a syntax error with seg ("packages[3]",
// "externalRefs"); other errors pass through.
func at(err error, seg string) error {
	if err == nil {
		return nil
	}
	var se *sbomSyntaxError
	if errors.As(err, &se) {
		switch {
		case se.path == "":
			se.path = seg
		case se.formatted:
			se.path = seg + ": " + se.path
			se.formatted = false
		case se.path[0] == '[':
			se.path = seg + se.path
		default:
			se.path = seg + "." + se.path
		}
	}
	return err
}

// atIndex is at(err, name+"[i]").
func atIndex(err error, name string, i int) error {
	return at(err, name+"["+strconv.Itoa(i)+"]")
}

// scanner is a streaming JSON tokenizer over an io.Reader.
type scanner struct {
	r        io.Reader
	buf      []byte
	pos, end int
	off      int64 // input offset of buf[0]
	limit    int64 // > 0: at most this many bytes may be read
	err      error // sticky: io.EOF, a read error, or a too-large error
	scratch  []byte
	key      []byte // a key kept across a buffer refill
	depth    int
	where    string // for error offsets: "" or "of the decoded payload"
	capture  bool   // skipNumber appends the number to scratch
}

func newScanner(r io.Reader, limit int64) *scanner {
	return &scanner{r: r, buf: make([]byte, scanBufSize), limit: limit}
}

// fill discards the buffer (all of it must have been consumed) and reads
// more. It returns false at the end of input or on an error, left in s.err.
func (s *scanner) fill() bool {
	if s.err != nil {
		return false
	}
	s.off += int64(s.end)
	s.pos, s.end = 0, 0
	for tries := 0; ; tries++ {
		n, err := s.r.Read(s.buf)
		if n < 0 || n > len(s.buf) {
			n, err = 0, errors.New("reader returned an invalid count")
		}
		if s.limit > 0 && s.off+int64(n) > s.limit {
			s.err = fmt.Errorf("%w: more than %d bytes", ErrTooLarge, s.limit)
			return false
		}
		s.end = n
		if err != nil {
			s.err = err
		}
		if n > 0 {
			return true
		}
		if err != nil {
			return false
		}
		if tries == 100 {
			s.err = io.ErrNoProgress
			return false
		}
	}
}

// readErr turns the sticky error into the error to return: the end of
// input becomes a syntax error (the caller wanted more).
func (s *scanner) readErr() error {
	if s.err == io.EOF || s.err == nil {
		e := s.syntaxError("unexpected end of input")
		e.eof = true
		return e
	}
	return s.err
}

func (s *scanner) syntaxError(msg string) *sbomSyntaxError {
	return &sbomSyntaxError{msg: msg, offset: s.off + int64(s.pos), where: s.where}
}

// expected reports that want was expected where c starts something else.
func (s *scanner) expected(want string, c byte) error {
	return s.syntaxError("expected " + want + ", found " + describeByte(c))
}

func describeByte(c byte) string {
	switch {
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || '0' <= c && c <= '9':
		return "a number"
	default:
		return strconv.QuoteRune(rune(c))
	}
}

// peek skips whitespace and returns the next byte without consuming it.
func (s *scanner) peek() (byte, error) {
	for {
		for s.pos < s.end {
			c := s.buf[s.pos]
			if !isJSONSpace(c) {
				return c, nil
			}
			s.pos++
		}
		if !s.fill() {
			return 0, s.readErr()
		}
	}
}

func isJSONSpace(c byte) bool { return c <= ' ' && (c == ' ' || c == '\n' || c == '\t' || c == '\r') }

func (s *scanner) push() error {
	s.depth++
	if s.depth > maxJSONDepth {
		return s.syntaxError("nesting deeper than " + strconv.Itoa(maxJSONDepth))
	}
	return nil
}

// beginObject consumes the '{' that must come next.
func (s *scanner) beginObject() error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	if c != '{' {
		return s.expected("an object", c)
	}
	s.pos++
	return s.push()
}

// objectKey reads the next key of the object being read and the ':' after
// it; ok is false when the object ended instead. first says whether no
// member has been read yet. key is valid until the next call on s.
func (s *scanner) objectKey(first bool) (key []byte, ok bool, err error) {
	c, err := s.peek()
	if err != nil {
		return nil, false, err
	}
	if c == '}' {
		s.pos++
		s.depth--
		return nil, false, nil
	}
	if !first {
		if c != ',' {
			return nil, false, s.expected("',' or '}'", c)
		}
		s.pos++
		if c, err = s.peek(); err != nil {
			return nil, false, err
		}
	}
	if c != '"' {
		return nil, false, s.expected("a string key", c)
	}
	if key, err = s.readString(); err != nil {
		return nil, false, err
	}
	for s.pos < s.end && isJSONSpace(s.buf[s.pos]) {
		s.pos++
	}
	if s.pos == s.end {
		// The ':' is in the next buffer, and key may be in this one.
		s.key = append(s.key[:0], key...)
		key = s.key
	}
	if c, err = s.peek(); err != nil {
		return nil, false, err
	}
	if c != ':' {
		return nil, false, s.expected("':'", c)
	}
	s.pos++
	return key, true, nil
}

// beginArray consumes the '[' that must come next.
func (s *scanner) beginArray() error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	if c != '[' {
		return s.expected("an array", c)
	}
	s.pos++
	return s.push()
}

// arrayNext moves to the next element of the array being read; ok is
// false when the array ended instead.
func (s *scanner) arrayNext(first bool) (ok bool, err error) {
	c, err := s.peek()
	if err != nil {
		return false, err
	}
	if c == ']' {
		s.pos++
		s.depth--
		return false, nil
	}
	if !first {
		if c != ',' {
			return false, s.expected("',' or ']'", c)
		}
		s.pos++
		if c, err = s.peek(); err != nil {
			return false, err
		}
		if c == ']' {
			return false, s.expected("a value", c)
		}
	}
	return true, nil
}

// readString reads the string that must come next, decoding escapes. The
// result is valid until the next call on s.
func (s *scanner) readString() ([]byte, error) {
	c, err := s.peek()
	if err != nil {
		return nil, err
	}
	if c != '"' {
		return nil, s.expected("a string", c)
	}
	s.pos++
	// Fast path: the whole string is in the buffer, without escapes.
	seg := s.buf[s.pos:s.end]
	if q := bytes.IndexByte(seg, '"'); q >= 0 && bytes.IndexByte(seg[:q], '\\') < 0 {
		s.pos += q + 1
		return seg[:q], nil
	}
	s.scratch = s.scratch[:0]
	for {
		if s.pos >= s.end && !s.fill() {
			return nil, s.readErr()
		}
		seg := s.buf[s.pos:s.end]
		i := indexQuoteOrBackslash(seg)
		if i < 0 {
			s.scratch = append(s.scratch, seg...)
			s.pos = s.end
			continue
		}
		s.scratch = append(s.scratch, seg[:i]...)
		s.pos += i + 1
		if seg[i] == '"' {
			return s.scratch, nil
		}
		if s.scratch, err = s.appendEscape(s.scratch); err != nil {
			return nil, err
		}
	}
}

// readOptString reads a string, or null as "". ok is false for null.
func (s *scanner) readOptString() (str []byte, ok bool, err error) {
	c, err := s.peek()
	if err != nil {
		return nil, false, err
	}
	if c == 'n' {
		return nil, false, s.skipValue()
	}
	str, err = s.readString()
	return str, err == nil, err
}

// readOptVersion reads a version field: a string, a number (its literal
// text: some generators write "version": 1.0), or null as "". ok is false
// for null.
func (s *scanner) readOptVersion() (str []byte, ok bool, err error) {
	c, err := s.peek()
	if err != nil {
		return nil, false, err
	}
	if c == '-' || '0' <= c && c <= '9' {
		s.scratch = s.scratch[:0]
		s.capture = true
		err = s.skipNumber()
		s.capture = false
		return s.scratch, err == nil, err
	}
	return s.readOptString()
}

func indexQuoteOrBackslash(b []byte) int {
	q := bytes.IndexByte(b, '"')
	if q < 0 {
		return bytes.IndexByte(b, '\\')
	}
	if i := bytes.IndexByte(b[:q], '\\'); i >= 0 {
		return i
	}
	return q
}

// nextByte consumes and returns one byte.
func (s *scanner) nextByte() (byte, error) {
	if s.pos >= s.end && !s.fill() {
		return 0, s.readErr()
	}
	c := s.buf[s.pos]
	s.pos++
	return c, nil
}

// appendEscape decodes the escape sequence whose '\' was just consumed and
// appends it to dst. Unpaired surrogates become U+FFFD, as in
// encoding/json.
func (s *scanner) appendEscape(dst []byte) ([]byte, error) {
	c, err := s.nextByte()
	if err != nil {
		return nil, err
	}
	for {
		switch c {
		case '"', '\\', '/':
			return append(dst, c), nil
		case 'b':
			return append(dst, '\b'), nil
		case 'f':
			return append(dst, '\f'), nil
		case 'n':
			return append(dst, '\n'), nil
		case 'r':
			return append(dst, '\r'), nil
		case 't':
			return append(dst, '\t'), nil
		case 'u':
		default:
			s.pos--
			return nil, s.syntaxError("invalid escape " + strconv.Quote(`\`+string(rune(c))))
		}
		r, err := s.hex4()
		if err != nil {
			return nil, err
		}
		if !utf16.IsSurrogate(r) {
			return utf8.AppendRune(dst, r), nil
		}
		// A surrogate: pair it with a following \uXXXX if there is one.
		if c, err = s.nextByte(); err != nil {
			return nil, err
		}
		if c != '\\' {
			s.pos-- // nextByte just read it from the buffer: still there
			return utf8.AppendRune(dst, utf8.RuneError), nil
		}
		if c, err = s.nextByte(); err != nil {
			return nil, err
		}
		if c != 'u' {
			dst = utf8.AppendRune(dst, utf8.RuneError)
			continue // decode the escape after the lone surrogate
		}
		r2, err := s.hex4()
		if err != nil {
			return nil, err
		}
		if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
			return utf8.AppendRune(dst, pair), nil
		}
		dst = utf8.AppendRune(dst, utf8.RuneError)
		if utf16.IsSurrogate(r2) {
			return utf8.AppendRune(dst, utf8.RuneError), nil
		}
		return utf8.AppendRune(dst, r2), nil
	}
}

func (s *scanner) hex4() (rune, error) {
	var r rune
	for range 4 {
		c, err := s.nextByte()
		if err != nil {
			return 0, err
		}
		if !isHex(c) {
			s.pos--
			return 0, s.syntaxError(`invalid \u escape: ` + describeByte(c) + " is not a hex digit")
		}
		r = r<<4 | rune(unhex(c))
	}
	return r, nil
}

// skipString skips the string whose opening '"' comes next, without
// materialising it. Escapes are skipped, not validated.
func (s *scanner) skipString() error {
	s.pos++ // the opening quote
	for {
		if s.pos >= s.end && !s.fill() {
			return s.readErr()
		}
		q := bytes.IndexByte(s.buf[s.pos:s.end], '"')
		qa := s.end
		if q >= 0 {
			qa = s.pos + q
		}
		escaped := false
		for {
			b := bytes.IndexByte(s.buf[s.pos:qa], '\\')
			if b < 0 {
				break
			}
			s.pos += b + 1 // past the '\'
			refilled := false
			if s.pos == s.end {
				if !s.fill() {
					return s.readErr()
				}
				refilled = true
			}
			if !isEscapeByte(s.buf[s.pos]) {
				return s.syntaxError("invalid escape " + strconv.Quote(`\`+string(rune(s.buf[s.pos]))))
			}
			s.pos++
			if refilled || s.pos > qa {
				// The buffer was refilled (qa is stale), or the escaped
				// byte was the quote at qa: look again.
				escaped = true
				break
			}
		}
		if escaped {
			continue
		}
		if q >= 0 {
			s.pos = qa + 1
			return nil
		}
		s.pos = s.end
	}
}

func isEscapeByte(c byte) bool {
	switch c {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't', 'u':
		return true
	}
	return false
}

// skipValue skips the value that comes next, checking its syntax.
func (s *scanner) skipValue() error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	switch {
	case c == '"':
		return s.skipString()
	case c == '{':
		s.pos++
		if err := s.push(); err != nil {
			return err
		}
		for first := true; ; first = false {
			c, err := s.peek()
			if err != nil {
				return err
			}
			if c == '}' && first {
				s.pos++
				s.depth--
				return nil
			}
			if !first {
				switch c {
				case '}':
					s.pos++
					s.depth--
					return nil
				case ',':
					s.pos++
					if c, err = s.peek(); err != nil {
						return err
					}
				default:
					return s.expected("',' or '}'", c)
				}
			}
			if c != '"' {
				return s.expected("a string key", c)
			}
			if err := s.skipString(); err != nil {
				return err
			}
			if c, err = s.peek(); err != nil {
				return err
			}
			if c != ':' {
				return s.expected("':'", c)
			}
			s.pos++
			if err := s.skipValue(); err != nil {
				return err
			}
		}
	case c == '[':
		s.pos++
		if err := s.push(); err != nil {
			return err
		}
		for first := true; ; first = false {
			ok, err := s.arrayNext(first)
			if err != nil || !ok {
				return err
			}
			if err := s.skipValue(); err != nil {
				return err
			}
		}
	case c == 't':
		return s.skipLiteral("true")
	case c == 'f':
		return s.skipLiteral("false")
	case c == 'n':
		return s.skipLiteral("null")
	case c == '-' || '0' <= c && c <= '9':
		return s.skipNumber()
	default:
		return s.expected("a value", c)
	}
}

func (s *scanner) skipLiteral(lit string) error {
	for i := 0; i < len(lit); i++ {
		c, err := s.nextByte()
		if err != nil {
			return err
		}
		if c != lit[i] {
			s.pos--
			return s.syntaxError("invalid literal, expected " + strconv.Quote(lit))
		}
	}
	return nil
}

// skipNumber skips a number, checking it against the JSON grammar
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?. Any length is fine.
func (s *scanner) skipNumber() error {
	const (
		start = iota
		sign  // after '-'
		zero  // after a leading 0
		intDigits
		dot // after '.'
		fracDigits
		exp     // after 'e'
		expSign // after 'e+'
		expDigits
	)
	state := start
	for {
		if s.pos >= s.end && !s.fill() {
			if s.err != io.EOF {
				return s.readErr()
			}
			break // a number may end the input
		}
		c := s.buf[s.pos]
		digit := '0' <= c && c <= '9'
		next := -1
		switch state {
		case start:
			if c == '-' {
				next = sign
			} else if c == '0' {
				next = zero
			} else if digit {
				next = intDigits
			}
		case sign:
			if c == '0' {
				next = zero
			} else if digit {
				next = intDigits
			}
		case zero, intDigits:
			switch {
			case digit && state == intDigits:
				next = intDigits
			case c == '.':
				next = dot
			case c == 'e' || c == 'E':
				next = exp
			}
		case dot, fracDigits:
			if digit {
				next = fracDigits
			} else if state == fracDigits && (c == 'e' || c == 'E') {
				next = exp
			}
		case exp:
			if c == '+' || c == '-' {
				next = expSign
			} else if digit {
				next = expDigits
			}
		case expSign, expDigits:
			if digit {
				next = expDigits
			}
		}
		if next < 0 {
			break
		}
		state = next
		if s.capture {
			s.scratch = append(s.scratch, c)
		}
		s.pos++
	}
	switch state {
	case zero, intDigits, fracDigits, expDigits:
		return nil
	}
	return s.syntaxError("invalid number")
}

// skipBOM skips a UTF-8 byte order mark at the start of input (some
// Windows tools write one); 0xEF cannot start a JSON value.
func (s *scanner) skipBOM() error {
	if c, err := s.peek(); err != nil || c != 0xEF {
		return err
	}
	for _, want := range []byte{0xEF, 0xBB, 0xBF} {
		c, err := s.nextByte()
		if err != nil {
			return err
		}
		if c != want {
			s.pos--
			return s.syntaxError("invalid byte order mark")
		}
	}
	return nil
}

// lookahead returns up to n bytes from the current position without
// consuming them, reading more input as needed; fewer at the end of input
// or on a read error (left in s.err for the next read to report).
func (s *scanner) lookahead(n int) []byte {
	n = min(n, len(s.buf))
	for tries := 0; s.end-s.pos < n && s.err == nil; tries++ {
		if s.pos > 0 {
			copy(s.buf, s.buf[s.pos:s.end])
			s.off += int64(s.pos)
			s.end -= s.pos
			s.pos = 0
		}
		m, err := s.r.Read(s.buf[s.end:])
		if m < 0 || m > len(s.buf)-s.end {
			m, err = 0, errors.New("reader returned an invalid count")
		}
		if s.limit > 0 && s.off+int64(s.end+m) > s.limit {
			s.err = fmt.Errorf("%w: more than %d bytes", ErrTooLarge, s.limit)
			break
		}
		s.end += m
		if err != nil {
			s.err = err
		}
		if m == 0 && err == nil && tries >= 100 {
			s.err = io.ErrNoProgress
		}
	}
	return s.buf[s.pos:min(s.end, s.pos+n)]
}

// expectEnd checks that only whitespace follows, reading to the end of
// input (which also enforces the size limit on trailing bytes).
func (s *scanner) expectEnd() error {
	c, err := s.peek()
	if err == nil {
		return s.syntaxError("unexpected " + describeByte(c) + " after the top-level value")
	}
	if s.err == io.EOF {
		return nil
	}
	return err
}
