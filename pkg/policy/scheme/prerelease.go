package scheme

import "strings"

// cmpPre compares semver 2.0 prerelease strings (without the '-'). ""
// is a release and ranks above any prerelease. Dot-separated identifiers
// compare numerically when both are numeric, numeric below alphanumeric,
// otherwise in ASCII order (case-insensitively when fold is set, as
// NuGet does); a shorter list of equal identifiers ranks lower.
func cmpPre(a, b string, fold bool) int {
	if a == b {
		return 0
	}
	if a == "" {
		return 1
	}
	if b == "" {
		return -1
	}
	for {
		var x, y string
		var aMore, bMore bool
		x, a, aMore = strings.Cut(a, ".")
		y, b, bMore = strings.Cut(b, ".")
		if c := cmpIdent(x, y, fold); c != 0 {
			return c
		}
		switch {
		case !aMore && !bMore:
			return 0
		case !aMore:
			return -1
		case !bMore:
			return 1
		}
	}
}

func cmpIdent(x, y string, fold bool) int {
	xn, yn := allDigits(x), allDigits(y)
	switch {
	case xn && yn:
		return cmpNum(x, y)
	case xn:
		return -1
	case yn:
		return 1
	case fold:
		return cmpFold(x, y)
	}
	return strings.Compare(x, y)
}

// validIdents reports dot-separated, non-empty identifiers of
// [0-9A-Za-z-]; with strictNum, numeric identifiers must not have
// leading zeros (semver 2.0 prerelease rule).
func validIdents(s string, strictNum bool) bool {
	if s == "" {
		return false
	}
	for s != "" {
		id, rest, more := strings.Cut(s, ".")
		if id == "" || (more && rest == "") {
			return false
		}
		for i := 0; i < len(id); i++ {
			if !isAlnum(id[i]) && id[i] != '-' {
				return false
			}
		}
		if strictNum && allDigits(id) && leadingZero(id) {
			return false
		}
		s = rest
	}
	return true
}
