package config

import (
	"errors"
	"path"
	"strings"
)

// Glob syntax, for namespaces, service accounts and images. It is the
// syntax of path.Match, plus "**":
//
//	*      any run of bytes without '/'
//	**     any run of bytes, '/' included (three or more stars act as two)
//	?      one byte other than '/'
//	[...]  one byte other than '/' in the class ([a-z0-9], [^_]);
//	       ranges and negation as in path.Match
//	\c     the byte c itself
//
// Patterns are ASCII, and match bytes.
//
// This is not github.com/bmatcuk/doublestar: there "**" crosses '/' only
// as a whole path component, "a/**" also matches "a", classes match '/'
// and braces are alternatives (docs/libraries-glob-imageref.md).

var errNonASCII = errors.New("patterns are ASCII")

// isGlob reports whether s uses any glob syntax.
func isGlob(s string) bool { return strings.ContainsAny(s, `*?[\`) }

// checkGlob returns why pattern is not a valid glob, or nil.
func checkGlob(pattern string) error {
	for i := 0; i < len(pattern); i++ {
		if pattern[i] >= 0x80 {
			return errNonASCII
		}
	}
	if _, err := path.Match(pattern, ""); err != nil {
		return errors.New("malformed pattern (the syntax of path.Match, plus ** across '/')")
	}
	_, err := compileGlob(pattern)
	return err
}

// tokKind is the kind of one glob token.
type tokKind uint8

const (
	tokByte  tokKind = iota // a literal byte
	tokAny                  // ?
	tokClass                // [...]
	tokStar                 // *
	tokStars                // **
)

type globTok struct {
	kind tokKind
	b    byte
	neg  bool
	// ranges holds lo, hi pairs of a class.
	ranges string
}

func (t *globTok) matchByte(c byte) bool {
	switch t.kind {
	case tokByte:
		return c == t.b
	case tokAny:
		return c != '/'
	case tokClass:
		if c == '/' {
			return false
		}
		in := false
		for i := 0; i+1 < len(t.ranges); i += 2 {
			if t.ranges[i] <= c && c <= t.ranges[i+1] {
				in = true
				break
			}
		}
		return in != t.neg
	}
	return false
}

// glob is a compiled pattern: a literal prefix and suffix, checked first,
// and the tokens between them.
type glob struct {
	pattern        string
	prefix, suffix string
	mid            []globTok
	// slashes counts the literal '/' of mid; -1 when mid has "**".
	slashes int
	// chunks are the runs of literal bytes in mid, which a match holds in
	// this order.
	chunks []string
}

// compileGlob compiles a pattern checked by path.Match.
func compileGlob(pattern string) (*glob, error) {
	var toks []globTok
	bad := errors.New("malformed pattern")
	for i := 0; i < len(pattern); {
		switch c := pattern[i]; c {
		case '*':
			j := i
			for j < len(pattern) && pattern[j] == '*' {
				j++
			}
			k := tokStar
			if j-i > 1 {
				k = tokStars
			}
			// A star next to a double star adds nothing.
			if n := len(toks); n > 0 && (toks[n-1].kind == tokStar || toks[n-1].kind == tokStars) {
				if k == tokStars {
					toks[n-1].kind = tokStars
				}
			} else {
				toks = append(toks, globTok{kind: k})
			}
			i = j
		case '?':
			toks = append(toks, globTok{kind: tokAny})
			i++
		case '\\':
			if i+1 >= len(pattern) {
				return nil, bad
			}
			toks = append(toks, globTok{kind: tokByte, b: pattern[i+1]})
			i += 2
		case '[':
			t, n, err := compileClass(pattern[i:])
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i += n
		default:
			toks = append(toks, globTok{kind: tokByte, b: c})
			i++
		}
	}
	g := &glob{pattern: pattern}
	lo := 0
	for lo < len(toks) && toks[lo].kind == tokByte {
		lo++
	}
	hi := len(toks)
	for hi > lo && toks[hi-1].kind == tokByte {
		hi--
	}
	g.prefix, g.suffix = literal(toks[:lo]), literal(toks[hi:])
	if lo < hi {
		g.mid = toks[lo:hi]
	}
	for _, t := range g.mid {
		switch {
		case t.kind == tokStars:
			g.slashes = -1
		case t.kind == tokByte && t.b == '/' && g.slashes >= 0:
			g.slashes++
		}
		if g.slashes < 0 {
			break
		}
	}
	for i := 0; i < len(g.mid); {
		j := i
		for j < len(g.mid) && g.mid[j].kind == tokByte {
			j++
		}
		if j > i {
			g.chunks = append(g.chunks, literal(g.mid[i:j]))
			i = j
			continue
		}
		i++
	}
	return g, nil
}

func literal(toks []globTok) string {
	b := make([]byte, len(toks))
	for i := range toks {
		b[i] = toks[i].b
	}
	return string(b)
}

// compileClass compiles the class at the start of s ("[a-z]...") and
// returns its length.
func compileClass(s string) (globTok, int, error) {
	bad := errors.New("malformed character class")
	t := globTok{kind: tokClass}
	i := 1
	if i < len(s) && s[i] == '^' {
		t.neg = true
		i++
	}
	var ranges []byte
	for first := true; ; first = false {
		if i >= len(s) {
			return t, 0, bad
		}
		if s[i] == ']' && !first {
			i++
			break
		}
		lo, n, ok := classByte(s[i:])
		if !ok {
			return t, 0, bad
		}
		i += n
		hi := lo
		if i < len(s) && s[i] == '-' {
			if hi, n, ok = classByte(s[i+1:]); !ok {
				return t, 0, bad
			}
			i += 1 + n
		}
		ranges = append(ranges, lo, hi)
	}
	t.ranges = string(ranges)
	return t, i, nil
}

// classByte reads one (possibly escaped) byte of a class, as path.Match's
// getEsc does.
func classByte(s string) (byte, int, bool) {
	if len(s) == 0 || s[0] == '-' || s[0] == ']' {
		return 0, 0, false
	}
	if s[0] == '\\' {
		if len(s) < 2 {
			return 0, 0, false
		}
		return s[1], 2, true
	}
	return s[0], 1, true
}

// name is a string in two parts, a+b, so that a normalised image reference
// ("docker.io/library/" + "busybox:1.36") is matched without building it.
type name struct{ a, b string }

func (n name) len() int { return len(n.a) + len(n.b) }

func (n name) at(i int) byte {
	if i < len(n.a) {
		return n.a[i]
	}
	return n.b[i-len(n.a)]
}

// str is a name in one part, read without the branch of name.at.
type str string

func (s str) len() int      { return len(s) }
func (s str) at(i int) byte { return s[i] }

// bytesAt is what the matcher reads.
type bytesAt interface {
	str | name
	len() int
	at(i int) byte
}

// maxStackName is the longest name matched without allocating.
const maxStackName = 1024

// match reports whether g matches all of n. It allocates only for a name
// longer than maxStackName bytes with wildcards in the middle of the
// pattern.
func (g *glob) match(n name) bool {
	if n.a == "" {
		return matchGlob(g, str(n.b))
	}
	return matchGlob(g, n)
}

func matchGlob[N bytesAt](g *glob, n N) bool {
	size := n.len()
	if size < len(g.prefix)+len(g.suffix) {
		return false
	}
	for i := 0; i < len(g.prefix); i++ {
		if n.at(i) != g.prefix[i] {
			return false
		}
	}
	for i, off := 0, size-len(g.suffix); i < len(g.suffix); i++ {
		if n.at(off+i) != g.suffix[i] {
			return false
		}
	}
	lo, hi := len(g.prefix), size-len(g.suffix)
	switch {
	case len(g.mid) == 0:
		return lo == hi
	case len(g.mid) == 1 && g.mid[0].kind == tokStars:
		return true
	case len(g.mid) == 1 && g.mid[0].kind == tokStar:
		for i := lo; i < hi; i++ {
			if n.at(i) == '/' {
				return false
			}
		}
		return true
	}
	if g.slashes >= 0 {
		// Without "**" only a literal '/' matches a '/'.
		count := 0
		for i := lo; i < hi; i++ {
			if n.at(i) == '/' {
				count++
			}
		}
		if count != g.slashes {
			return false
		}
	}
	from := lo
	for _, c := range g.chunks {
		i := index(n, c, from, hi)
		if i < 0 {
			return false
		}
		from = i + len(c)
	}
	return matchTokens(g.mid, n, lo, hi)
}

// index returns the first index of sub in n[from:to], or -1.
func index[N bytesAt](n N, sub string, from, to int) int {
	for i := from; i+len(sub) <= to; i++ {
		k := 0
		for k < len(sub) && n.at(i+k) == sub[k] {
			k++
		}
		if k == len(sub) {
			return i
		}
	}
	return -1
}

// matchTokens matches toks against n[lo:hi] with one row of dynamic
// programming per token: row[j] says whether the tokens so far match
// n[lo:lo+j]. Time is O(tokens × bytes), whatever the pattern. Cells below
// live, the first true cell, are never read.
func matchTokens[N bytesAt](toks []globTok, n N, lo, hi int) bool {
	size := hi - lo
	var a, b [maxStackName + 1]bool
	prev, cur := a[:], b[:]
	if size+1 > len(prev) {
		prev, cur = make([]bool, size+1), make([]bool, size+1)
	}
	prev, cur = prev[:size+1], cur[:size+1]
	prev[0] = true
	live := 0
	for ti := range toks {
		t := &toks[ti]
		next := -1
		switch t.kind {
		case tokStar:
			cur[live] = prev[live]
			for j := live + 1; j <= size; j++ {
				cur[j] = prev[j] || (cur[j-1] && n.at(lo+j-1) != '/')
			}
			next = live
		case tokStars:
			for j := live; j <= size; j++ {
				cur[j] = true
			}
			next = live
		default:
			for j := live + 1; j <= size; j++ {
				cur[j] = prev[j-1] && t.matchByte(n.at(lo+j-1))
				if cur[j] && next < 0 {
					next = j
				}
			}
		}
		if next < 0 {
			return false
		}
		live = next
		prev, cur = cur, prev
	}
	return prev[size]
}
