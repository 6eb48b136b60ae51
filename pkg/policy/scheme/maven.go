package scheme

// mavenScheme orders Maven artifact versions as ComparableVersion does
// (maven-artifact 3.x, the classic algorithm): the version is split into
// items at ".", at "-" (which also opens a nested list) and at each
// digit↔letter transition (which opens a nested list too); numbers
// compare numerically; qualifiers rank alpha < beta < milestone < rc = cr
// < snapshot < "" = ga = final = release < sp < any other qualifier
// (those in lexical order); "a1", "b1", "m1" mean alpha-1, beta-1,
// milestone-1; trailing null items (0, "", empty lists) are dropped, so
// 9.0 == 9.0.0. Input is case-insensitive. A version must start with a
// digit: "LATEST", "RELEASE" and other words are Unknown.
type mavenScheme struct{}

const mavenMaxItems = 32

type mvKind uint8

const (
	mvNull mvKind = iota // absent item
	mvInt
	mvStr
	mvList
)

type mvItem struct {
	kind mvKind
	s    string // digits for mvInt, qualifier for mvStr
}

// mvSeg is one list: its scalar items are items[lo:hi]; when it is not
// the last segment, the next segment is its final element.
type mvSeg struct{ lo, hi int }

type mavenVersion struct {
	raw   string
	items [mavenMaxItems]mvItem
	segs  [mavenMaxItems + 1]mvSeg
	nitem int
	nseg  int
}

// String returns the minimum as written.
func (v *mavenVersion) String() string { return v.raw }

func (v *mavenVersion) add(it mvItem) bool {
	if v.nitem == mavenMaxItems {
		return false
	}
	v.items[v.nitem] = it
	v.nitem++
	v.segs[v.nseg-1].hi = v.nitem
	return true
}

func (v *mavenVersion) openList() {
	v.segs[v.nseg] = mvSeg{lo: v.nitem, hi: v.nitem}
	v.nseg++
}

// mvToken makes an item of a token; followedByDigit enables the a/b/m
// shorthands.
func mvToken(tok string, digit, followedByDigit bool) mvItem {
	if digit {
		return mvItem{kind: mvInt, s: tok}
	}
	if followedByDigit && len(tok) == 1 {
		switch lower(tok[0]) {
		case 'a':
			return mvItem{kind: mvStr, s: "alpha"}
		case 'b':
			return mvItem{kind: mvStr, s: "beta"}
		case 'm':
			return mvItem{kind: mvStr, s: "milestone"}
		}
	}
	switch {
	case eqLower(tok, "ga"), eqLower(tok, "final"), eqLower(tok, "release"):
		return mvItem{kind: mvStr, s: ""}
	case eqLower(tok, "cr"):
		return mvItem{kind: mvStr, s: "rc"}
	}
	return mvItem{kind: mvStr, s: tok}
}

func parseMaven(s string, v *mavenVersion) string {
	v.raw = s
	s = trimSpace(s)
	if s == "" || !isDigit(s[0]) {
		return probSyntax
	}
	v.nitem, v.nseg = 0, 0
	v.openList()
	digit, start := false, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f {
			return "it contains a space, control or non-ASCII character"
		}
		switch {
		case c == '.' || c == '-':
			it := mvItem{kind: mvInt, s: "0"}
			if i > start {
				it = mvToken(s[start:i], digit, false)
			}
			if !v.add(it) {
				return "it has too many items"
			}
			start = i + 1
			if c == '-' {
				v.openList()
			}
		case isDigit(c):
			if !digit && i > start {
				if !v.add(mvToken(s[start:i], false, true)) {
					return "it has too many items"
				}
				start = i
				v.openList()
			}
			digit = true
		default:
			if digit && i > start {
				if !v.add(mvToken(s[start:i], true, false)) {
					return "it has too many items"
				}
				start = i
				v.openList()
			}
			digit = false
		}
	}
	if len(s) > start && !v.add(mvToken(s[start:], digit, false)) {
		return "it has too many items"
	}
	v.normalize()
	return ""
}

func (it mvItem) isNull() bool {
	switch it.kind {
	case mvInt:
		return isZero(it.s)
	case mvStr:
		return it.s == ""
	}
	return true
}

// normalize drops trailing null items of every list, innermost first,
// and empty lists that end their parent.
func (v *mavenVersion) normalize() {
	for k := v.nseg - 1; k >= 0; k-- {
		seg := &v.segs[k]
		for seg.hi > seg.lo && v.items[seg.hi-1].isNull() {
			seg.hi--
		}
		if k == v.nseg-1 && k > 0 && seg.hi == seg.lo {
			v.nseg--
		}
	}
}

// elem returns element i of list k (scalar items, then the nested list).
func (v *mavenVersion) elem(k, i int) (mvItem, int) {
	seg := v.segs[k]
	if n := seg.hi - seg.lo; i < n {
		return v.items[seg.lo+i], 0
	} else if i == n && k+1 < v.nseg {
		return mvItem{kind: mvList}, k + 1
	}
	return mvItem{}, 0
}

// qualRank maps a qualifier to its ComparableVersion rank; unknown
// qualifiers rank 7 and then compare lexically.
func qualRank(q string) int {
	switch {
	case q == "":
		return 5
	case eqLower(q, "alpha"):
		return 0
	case eqLower(q, "beta"):
		return 1
	case eqLower(q, "milestone"):
		return 2
	case eqLower(q, "rc"):
		return 3
	case eqLower(q, "snapshot"):
		return 4
	case eqLower(q, "sp"):
		return 6
	}
	return 7
}

func cmpQual(a, b string) int {
	ra, rb := qualRank(a), qualRank(b)
	if ra != rb || ra != 7 {
		return cmpInt(ra, rb)
	}
	return cmpFold(a, b)
}

// cmpMvItem compares item x (list xk of a) with item y (list yk of b).
func cmpMvItem(a *mavenVersion, x mvItem, xk int, b *mavenVersion, y mvItem, yk int) int {
	switch x.kind {
	case mvNull:
		if y.kind == mvNull {
			return 0
		}
		return -cmpMvItem(b, y, yk, a, x, xk)
	case mvInt:
		switch y.kind {
		case mvNull:
			return cmpBool(!isZero(x.s), false)
		case mvInt:
			return cmpNum(x.s, y.s)
		}
		return 1
	case mvStr:
		switch y.kind {
		case mvNull:
			return cmpQual(x.s, "")
		case mvStr:
			return cmpQual(x.s, y.s)
		}
		return -1
	}
	// x is a list
	switch y.kind {
	case mvNull:
		first, fk := a.elem(xk, 0)
		if first.kind == mvNull {
			return 0
		}
		return cmpMvItem(a, first, fk, b, mvItem{}, 0)
	case mvInt:
		return -1
	case mvStr:
		return 1
	}
	return cmpMvList(a, xk, b, yk)
}

func cmpMvList(a *mavenVersion, ak int, b *mavenVersion, bk int) int {
	for i := 0; ; i++ {
		x, xk := a.elem(ak, i)
		y, yk := b.elem(bk, i)
		if x.kind == mvNull && y.kind == mvNull {
			return 0
		}
		if c := cmpMvItem(a, x, xk, b, y, yk); c != 0 {
			return c
		}
	}
}

// Name returns "maven".
func (mavenScheme) Name() string { return "maven" }

// ParseMinimum accepts any version starting with a digit.
func (mavenScheme) ParseMinimum(s string) (Minimum, error) {
	v := new(mavenVersion)
	if prob := parseMaven(s, v); prob != "" {
		return nil, minErr("maven", s, prob, ErrSyntax)
	}
	return v, nil
}

// Check decides found against min.
func (mavenScheme) Check(found string, min Minimum) Result {
	m, ok := min.(*mavenVersion)
	if !ok || m == nil {
		return unknown(ReasonForeignMinimum)
	}
	var v mavenVersion
	if prob := parseMaven(found, &v); prob != "" {
		if prob == "it has too many items" {
			return unknown(ReasonTooManyElements)
		}
		return unparsable(found)
	}
	return outcome(cmpMvList(&v, 0, m, 0))
}
