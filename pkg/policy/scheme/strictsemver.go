package scheme

import "strings"

// strictVersion is a semver 2.0 version: full X.Y.Z without leading
// zeros, optional prerelease; build metadata is dropped (it never
// affects ordering).
type strictVersion struct {
	num [3]string
	pre string
}

// parseStrict parses X.Y.Z[-pre][+build] (no prefix). prob is a constant
// problem description, "" on success.
func parseStrict(s string) (v strictVersion, prob string) {
	n, rest := scanNums(s, v.num[:])
	switch {
	case n == 0:
		return v, probSyntax
	case n > 3:
		return v, probFourPart
	case n < 3:
		return v, "a version needs major.minor.patch"
	}
	for _, p := range v.num {
		if leadingZero(p) {
			return v, "a number has a leading zero"
		}
	}
	v.pre, prob = parseSemverTail(rest, true)
	return v, prob
}

// parseSemverTail reads what follows the numbers of a SemVer 2 version:
// "-prerelease+build", "+build" or nothing. strictNumeric rejects numeric
// prerelease identifiers with leading zeros.
func parseSemverTail(rest string, strictNumeric bool) (pre, prob string) {
	if rest == "" {
		return "", ""
	}
	var build string
	var hasBuild bool
	switch rest[0] {
	case '-':
		pre, build, hasBuild = strings.Cut(rest[1:], "+")
		if !validIdents(pre, strictNumeric) {
			return pre, "the prerelease is malformed"
		}
	case '+':
		build, hasBuild = rest[1:], true
	default:
		return "", "unexpected character after the numbers"
	}
	if hasBuild && !validBuild(build) {
		return pre, "the build metadata is malformed"
	}
	return pre, ""
}

// cmpStrict orders two strict versions by semver 2.0.
func cmpStrict(a, b strictVersion) int {
	if c := cmpParts(a.num[:], b.num[:]); c != 0 {
		return c
	}
	return cmpPre(a.pre, b.pre, false)
}
