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

func (n *name) len() int { return len(n.a) + len(n.b) }

func (n *name) at(i int) byte {
	if i < len(n.a) {
		return n.a[i]
	}
	return n.b[i-len(n.a)]
}

// maxStackName is the longest name matched without allocating.
const maxStackName = 1024

// match reports whether g matches all of n. It allocates only for a name
// longer than maxStackName bytes with wildcards in the middle of the
// pattern.
func (g *glob) match(n name) bool {
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
	return matchTokens(g.mid, &n, lo, hi)
}

// matchTokens matches toks against n[lo:hi] with one row of dynamic
// programming per token: row[j] says whether the tokens so far match
// n[lo:lo+j]. Time is O(tokens × bytes), whatever the pattern.
func matchTokens(toks []globTok, n *name, lo, hi int) bool {
	size := hi - lo
	var a, b [maxStackName + 1]bool
	prev, cur := a[:], b[:]
	if size+1 > len(prev) {
		prev, cur = make([]bool, size+1), make([]bool, size+1)
	}
	prev, cur = prev[:size+1], cur[:size+1]
	clear(prev)
	prev[0] = true
	for ti := range toks {
		t := &toks[ti]
		alive := false
		switch t.kind {
		case tokStar:
			cur[0] = prev[0]
			for j := 1; j <= size; j++ {
				cur[j] = prev[j] || (cur[j-1] && n.at(lo+j-1) != '/')
			}
		case tokStars:
			cur[0] = prev[0]
			for j := 1; j <= size; j++ {
				cur[j] = prev[j] || cur[j-1]
			}
		default:
			cur[0] = false
			for j := 1; j <= size; j++ {
				cur[j] = prev[j-1] && t.matchByte(n.at(lo+j-1))
			}
		}
		for j := 0; j <= size && !alive; j++ {
			alive = cur[j]
		}
		if !alive {
			return false
		}
		prev, cur = cur, prev
	}
	return prev[size]
}
