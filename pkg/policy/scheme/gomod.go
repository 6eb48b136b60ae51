package scheme

import "strings"

// gomodScheme orders Go module versions: vX.Y.Z (the "v" is tolerated
// when missing), semver prereleases, build metadata such as
// "+incompatible" ignored. Pseudo-versions with a base
// (vX.Y.Z-pre.0.yyyymmddhhmmss-hash, vX.Y.(Z+1)-0.yyyymmddhhmmss-hash)
// are prereleases of the next version and compare by semver, which
// places them correctly. Pseudo-versions without a base
// (vX.0.0-yyyymmddhhmmss-hash) are Unknown.
type gomodScheme struct{}

type goVersion struct {
	strictVersion
	// date is the pseudo-version timestamp (yyyymmddhhmmss), "" if v is
	// not a pseudo-version.
	date string
	// noBase marks vX.0.0-yyyymmddhhmmss-hash.
	noBase bool
}

type gomodMinimum struct {
	raw string
	v   goVersion
}

// String returns the minimum as written.
func (m gomodMinimum) String() string { return m.raw }

func parseGo(s string) (goVersion, string) {
	sv, prob := parseStrict(trimV(trimSpace(s)))
	if prob != "" {
		return goVersion{}, prob
	}
	v := goVersion{strictVersion: sv}
	v.date, v.noBase = pseudoDate(sv)
	return v, ""
}

// pseudoDate recognises the three pseudo-version forms of
// golang.org/x/mod/module.IsPseudoVersion and returns their timestamp.
func pseudoDate(v strictVersion) (date string, noBase bool) {
	pre := v.pre
	if isDateHash(pre) {
		if isZero(v.num[1]) && isZero(v.num[2]) {
			return pre[:14], true
		}
		return "", false
	}
	i := strings.LastIndexByte(pre, '.')
	if i < 0 || !isDateHash(pre[i+1:]) {
		return "", false
	}
	head := pre[:i]
	if head != "0" && !strings.HasSuffix(head, ".0") {
		return "", false
	}
	return pre[i+1 : i+15], false
}

// isDateHash reports "yyyymmddhhmmss-<alnum>".
func isDateHash(s string) bool {
	if len(s) < 16 || s[14] != '-' || !allDigits(s[:14]) {
		return false
	}
	for i := 15; i < len(s); i++ {
		if !isAlnum(s[i]) {
			return false
		}
	}
	return true
}

// Name returns "gomod".
func (gomodScheme) Name() string { return "gomod" }

// ParseMinimum accepts a module version other than a pseudo-version
// without a base.
func (gomodScheme) ParseMinimum(s string) (Minimum, error) {
	v, prob := parseGo(s)
	if prob != "" {
		return nil, minErr("gomod", s, prob, ErrSyntax)
	}
	if v.noBase {
		return nil, minErr("gomod", s, "a pseudo-version without a base release cannot be a minimum", ErrNotMinimum)
	}
	return gomodMinimum{raw: s, v: v}, nil
}

// Check decides found against min.
func (gomodScheme) Check(found string, min Minimum) Result {
	m, ok := min.(gomodMinimum)
	if !ok {
		return unknown(ReasonForeignMinimum)
	}
	v, prob := parseGo(found)
	if prob != "" {
		return unparsable(found)
	}
	if v.noBase {
		return unknown(ReasonPseudoNoBase)
	}
	return outcome(cmpStrict(v.strictVersion, m.v.strictVersion))
}
