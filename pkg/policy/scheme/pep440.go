package scheme

import "strings"

// pep440Scheme orders Python package versions by PEP 440: epochs (1!2.0),
// release segments of any length with trailing zeros insignificant,
// pre-releases a/b/rc (also spelled alpha, beta, c, pre, preview; with
// ".", "-", "_" or no separator), post releases (.post1, -1, .rev1, .r1),
// dev releases (.dev0) and local versions (+ubuntu1, ignored).
// Case-insensitive; a leading "v" is allowed. 12.0.0.dev0 < 12.0.0a1 <
// 12.0.0rc1 < 12.0.0 < 12.0.0.post1.
type pep440Scheme struct{}

type pep440Version struct {
	raw     string
	epoch   string // digits, "" = 0
	release string // dotted digits
	preKind int8   // -1 none, 0 a, 1 b, 2 rc
	preNum  string
	hasPost bool
	post    string
	hasDev  bool
	dev     string
}

// String returns the minimum as written.
func (v pep440Version) String() string { return v.raw }

var (
	pep440Pre = [...]struct {
		word string
		kind int8
	}{{"preview", 2}, {"alpha", 0}, {"beta", 1}, {"pre", 2}, {"rc", 2}, {"a", 0}, {"b", 1}, {"c", 2}}
	pep440Post = [...]string{"post", "rev", "r"}
)

func isSep(c byte) bool { return c == '.' || c == '-' || c == '_' }

// digitsAt returns the length of the digit run at s[i:].
func digitsAt(s string, i int) int {
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	return j - i
}

// wordAt matches one of words case-insensitively at s[i:], after an
// optional separator. It returns the index of the match and the position
// just after the word, or -1.
func wordAt(s string, i int, words func(int) string, n int) (which, end int) {
	if i < len(s) && isSep(s[i]) {
		i++
	}
	for k := range n {
		w := words(k)
		if len(s)-i >= len(w) && eqLower(s[i:i+len(w)], w) {
			return k, i + len(w)
		}
	}
	return -1, 0
}

// optNumber reads an optional separator and number after a word; a
// separator is consumed only when a digit follows.
func optNumber(s string, i int) (num string, end int) {
	j := i
	if j+1 < len(s) && isSep(s[j]) && isDigit(s[j+1]) {
		j++
	}
	if d := digitsAt(s, j); d > 0 {
		return s[j : j+d], j + d
	}
	return "", i
}

func parsePEP440(s string) (v pep440Version, prob string) {
	v.raw, v.preKind = s, -1
	s = trimV(trimSpace(s))
	i := 0
	if d := digitsAt(s, 0); d > 0 && d < len(s) && s[d] == '!' {
		v.epoch, i = s[:d], d+1
	}
	start := i
	for {
		d := digitsAt(s, i)
		if d == 0 {
			return v, "the release segment is not a number"
		}
		i += d
		if i+1 < len(s) && s[i] == '.' && isDigit(s[i+1]) {
			i++
			continue
		}
		break
	}
	v.release = s[start:i]
	if k, end := wordAt(s, i, func(k int) string { return pep440Pre[k].word }, len(pep440Pre)); k >= 0 {
		v.preKind = pep440Pre[k].kind
		v.preNum, i = optNumber(s, end)
	}
	if i+1 < len(s) && s[i] == '-' && isDigit(s[i+1]) {
		v.hasPost = true
		v.post, i = optNumber(s, i)
	} else if k, end := wordAt(s, i, func(k int) string { return pep440Post[k] }, len(pep440Post)); k >= 0 {
		v.hasPost = true
		v.post, i = optNumber(s, end)
	}
	if k, end := wordAt(s, i, func(int) string { return "dev" }, 1); k >= 0 {
		v.hasDev = true
		v.dev, i = optNumber(s, end)
	}
	if i < len(s) && s[i] == '+' {
		if !validLocal(s[i+1:]) {
			return v, "the local version is malformed"
		}
		i = len(s)
	}
	if i != len(s) {
		return v, "unexpected text after the version"
	}
	return v, ""
}

// validLocal reports [a-z0-9]+([-_.][a-z0-9]+)*.
func validLocal(s string) bool {
	if s == "" || !isAlnum(s[0]) || !isAlnum(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && !(isSep(c) && isAlnum(s[i+1])) {
			return false
		}
	}
	return true
}

// cmpDotted compares dotted digit strings, missing parts counting as 0.
func cmpDotted(a, b string) int {
	for a != "" || b != "" {
		var x, y string
		x, a, _ = strings.Cut(a, ".")
		y, b, _ = strings.Cut(b, ".")
		if c := cmpNum(x, y); c != 0 {
			return c
		}
	}
	return 0
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// preClass ranks the pre-release key: 0 for a lone dev release (below
// every pre-release), 1 for a pre-release, 2 for none.
func (v pep440Version) preClass() int {
	switch {
	case v.preKind >= 0:
		return 1
	case !v.hasPost && v.hasDev:
		return 0
	}
	return 2
}

func cmpPEP440(a, b pep440Version) int {
	if c := cmpNum(a.epoch, b.epoch); c != 0 {
		return c
	}
	if c := cmpDotted(a.release, b.release); c != 0 {
		return c
	}
	if c := cmpInt(a.preClass(), b.preClass()); c != 0 {
		return c
	}
	if a.preKind >= 0 {
		if c := cmpInt(int(a.preKind), int(b.preKind)); c != 0 {
			return c
		}
		if c := cmpNum(a.preNum, b.preNum); c != 0 {
			return c
		}
	}
	if a.hasPost != b.hasPost {
		return cmpBool(a.hasPost, b.hasPost)
	}
	if c := cmpNum(a.post, b.post); c != 0 {
		return c
	}
	if a.hasDev != b.hasDev {
		return -cmpBool(a.hasDev, b.hasDev) // no dev ranks higher
	}
	return cmpNum(a.dev, b.dev)
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// Name returns "pep440".
func (pep440Scheme) Name() string { return "pep440" }

// ParseMinimum accepts any PEP 440 version.
func (pep440Scheme) ParseMinimum(s string) (Minimum, error) {
	v, prob := parsePEP440(s)
	if prob != "" {
		return nil, minErr("pep440", s, prob, ErrSyntax)
	}
	return v, nil
}

// Check decides found against min.
func (pep440Scheme) Check(found string, min Minimum) Result {
	m, ok := min.(pep440Version)
	if !ok {
		return unknown(ReasonForeignMinimum)
	}
	v, prob := parsePEP440(found)
	if prob != "" {
		return unparsable(found)
	}
	return outcome(cmpPEP440(v, m))
}
