package scheme

import "strings"

// rubygemsScheme orders RubyGems versions as Gem::Version does: "-" is
// read as ".pre."; the version splits into numeric and letter segments
// at "." and at letter↔digit transitions; trailing zero segments of the
// release part and of the prerelease part are dropped; segments compare
// pairwise (missing ones are 0), a letter segment ranks below any number,
// letters compare by bytes. Any letter makes a prerelease, which
// therefore sorts below its release (1.0.0.pre.alpha2 < 1.0.0).
//
// The minimum "unreleased" means no released gem has the fix: every
// parsable version is TooOld (ReasonUnreleased).
type rubygemsScheme struct{}

const rubyMaxSegments = 32

type rbSeg struct {
	s   string
	num bool
}

type rubyVersion struct {
	raw        string
	unreleased bool
	segs       [rubyMaxSegments]rbSeg
	n          int
	// canonical segments are segs[:relEnd] followed by segs[strStart:strEnd].
	relEnd, strStart, strEnd int
}

// String returns the minimum as written.
func (v *rubyVersion) String() string { return v.raw }

const probTooManySegments = "it has too many segments"

// validGem checks Gem::Version's pattern:
// [0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?
func validGem(s string) bool {
	if s == "" || !isDigit(s[0]) {
		return false
	}
	rel, pre, hasPre := strings.Cut(s, "-")
	for p := range strings.SplitSeq(rel, ".") {
		if p == "" {
			return false
		}
		for i := 0; i < len(p); i++ {
			if !isAlnum(p[i]) {
				return false
			}
		}
	}
	return !hasPre || validIdents(pre, false)
}

func parseRuby(s string, v *rubyVersion) string {
	v.raw = s
	s = trimSpace(s)
	if !validGem(s) {
		return probSyntax
	}
	v.n = 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '.':
			i++
		case c == '-':
			if !v.add(rbSeg{s: "pre"}) {
				return probTooManySegments
			}
			i++
		default:
			j := i
			d := isDigit(c)
			for j < len(s) && isAlnum(s[j]) && isDigit(s[j]) == d {
				j++
			}
			if !v.add(rbSeg{s: s[i:j], num: d}) {
				return probTooManySegments
			}
			i = j
		}
	}
	v.strStart = v.n
	for i := 0; i < v.n; i++ {
		if !v.segs[i].num {
			v.strStart = i
			break
		}
	}
	v.relEnd = v.strStart
	for v.relEnd > 0 && isZero(v.segs[v.relEnd-1].s) {
		v.relEnd--
	}
	v.strEnd = v.n
	for v.strEnd > v.strStart && v.segs[v.strEnd-1].num && isZero(v.segs[v.strEnd-1].s) {
		v.strEnd--
	}
	return ""
}

func (v *rubyVersion) add(seg rbSeg) bool {
	if v.n == rubyMaxSegments {
		return false
	}
	v.segs[v.n] = seg
	v.n++
	return true
}

func (v *rubyVersion) canonLen() int { return v.relEnd + v.strEnd - v.strStart }

// canon returns canonical segment i, or ok == false past the end.
func (v *rubyVersion) canon(i int) (rbSeg, bool) {
	if i < v.relEnd {
		return v.segs[i], true
	}
	i += v.strStart - v.relEnd
	if i < v.strEnd {
		return v.segs[i], true
	}
	return rbSeg{}, false
}

func cmpRuby(a, b *rubyVersion) int {
	n := max(a.canonLen(), b.canonLen())
	for i := range n {
		x, ok := a.canon(i)
		if !ok {
			x = rbSeg{s: "0", num: true}
		}
		y, ok := b.canon(i)
		if !ok {
			y = rbSeg{s: "0", num: true}
		}
		switch {
		case x.num && y.num:
			if c := cmpNum(x.s, y.s); c != 0 {
				return c
			}
		case x.num:
			return 1
		case y.num:
			return -1
		default:
			if c := strings.Compare(x.s, y.s); c != 0 {
				return c
			}
		}
	}
	return 0
}

// Name returns "rubygems".
func (rubygemsScheme) Name() string { return "rubygems" }

// ParseMinimum accepts a gem version or "unreleased".
func (rubygemsScheme) ParseMinimum(s string) (Minimum, error) {
	if eqLower(trimSpace(s), "unreleased") {
		return &rubyVersion{raw: s, unreleased: true}, nil
	}
	v := new(rubyVersion)
	if prob := parseRuby(s, v); prob != "" {
		return nil, minErr("rubygems", s, prob, ErrSyntax)
	}
	return v, nil
}

// Check decides found against min.
func (rubygemsScheme) Check(found string, min Minimum) Result {
	m, ok := min.(*rubyVersion)
	if !ok || m == nil {
		return unknown(ReasonForeignMinimum)
	}
	var v rubyVersion
	if prob := parseRuby(found, &v); prob != "" {
		if prob == probTooManySegments {
			return unknown(ReasonTooManyElements)
		}
		return unparsable(found)
	}
	if m.unreleased {
		return Result{Outcome: TooOld, Reason: ReasonUnreleased}
	}
	return outcome(cmpRuby(&v, m))
}
