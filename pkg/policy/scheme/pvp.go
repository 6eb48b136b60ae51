package scheme

import "strings"

// pvpScheme orders Haskell package versions (Hackage, PVP): one or more
// dot-separated numbers without leading zeros, compared as lists where a
// strict prefix is smaller (0.3 < 0.3.0 < 0.3.0.0 < 0.3.0.1). Tags
// ("-r1") and a leading "v" are not PVP: Unknown.
type pvpScheme struct{}

type pvpVersion struct {
	raw string
	v   string // validated dotted digits
}

// String returns the minimum as written.
func (v pvpVersion) String() string { return v.raw }

func parsePVP(s string) (pvpVersion, string) {
	t := trimSpace(s)
	if t == "" {
		return pvpVersion{}, probSyntax
	}
	for rest := t; ; {
		part, r, more := strings.Cut(rest, ".")
		if !allDigits(part) {
			return pvpVersion{}, "a component is not a number"
		}
		if leadingZero(part) {
			return pvpVersion{}, "a component has a leading zero"
		}
		if !more {
			break
		}
		rest = r
	}
	return pvpVersion{raw: s, v: t}, ""
}

// cmpPVP compares dotted lists; a strict prefix is smaller.
func cmpPVP(a, b string) int {
	for {
		var x, y string
		var aMore, bMore bool
		x, a, aMore = strings.Cut(a, ".")
		y, b, bMore = strings.Cut(b, ".")
		if c := cmpNum(x, y); c != 0 {
			return c
		}
		if !aMore || !bMore {
			return cmpBool(aMore, bMore)
		}
	}
}

// Name returns "pvp".
func (pvpScheme) Name() string { return "pvp" }

// ParseMinimum accepts any PVP version.
func (pvpScheme) ParseMinimum(s string) (Minimum, error) {
	v, prob := parsePVP(s)
	if prob != "" {
		return nil, minErr("pvp", s, prob, ErrSyntax)
	}
	return v, nil
}

// Check decides found against min.
func (pvpScheme) Check(found string, min Minimum) Result {
	m, ok := min.(pvpVersion)
	if !ok {
		return unknown(ReasonForeignMinimum)
	}
	v, prob := parsePVP(found)
	if prob != "" {
		return unparsable(found)
	}
	return outcome(cmpPVP(v.v, m.v))
}
