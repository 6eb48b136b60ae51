package scheme

import "strings"

// semverScheme orders image tags of EKS add-ons (VPC CNI, CoreDNS, AWS
// Load Balancer Controller, kube-proxy) by semver 2.0, with these
// departures:
//
//   - a leading "v" or "V" is accepted;
//   - build and flavour suffixes are not prereleases: "+anything", and a
//     "-" suffix made only of the words eksbuild (optionally followed by
//     a number, "eksbuild.1"), minimal, distroless, linux, amd64, arm64,
//     arm, ppc64le, s390x, or a word starting with "windows" (after which
//     anything may follow), joined by "-", "_" or ".". So
//     v1.8.0-eksbuild.1, v1.29.0-minimal-eksbuild.2 and v1.9.0-linux_amd64
//     are releases;
//   - an EKS Distro suffix "eks-<k8s major>-<k8s minor>-<release>" (the
//     release may be "latest": v1.10.1-eks-1-28-6,
//     v1.11.4-eks-1-31-latest) marks an EKS Distro build of that upstream
//     release, so it is a flavour too;
//   - a suffix whose first identifier is alpha, beta, rc, pre, preview or
//     dev, optionally with digits (rc.1, rc1, beta) is a semver
//     prerelease and ranks below its release;
//   - any other suffix is not understood: the tag is decided by its core
//     X.Y.Z alone when that core differs from the minimum's, otherwise
//     Unknown;
//   - partial versions (1.9, v1) stand for the range of their completions;
//   - four numeric parts (1.2.3.4) are not semver: Unknown.
type semverScheme struct{}

type suffixKind uint8

const (
	sfxNone    suffixKind = iota // nothing after X.Y.Z
	sfxFlavor                    // build or flavour suffix: a release
	sfxPre                       // semver prerelease
	sfxUnknown                   // not understood
)

type semverTag struct {
	raw  string
	num  [3]string
	n    int
	kind suffixKind
	pre  string
}

// String returns the minimum as written.
func (t semverTag) String() string { return t.raw }

const (
	probSyntax   = "it does not start with a number"
	probFourPart = "it has more than three numeric parts"
	probSuffix   = "the suffix is not a prerelease, build or flavour suffix"
)

// scanTagNumbers trims blanks and a leading "v" from a tag and reads its
// one to three numeric parts; prob says what is wrong when there are none
// or more than three.
func scanTagNumbers(s string, dst []string) (n int, rest, prob string) {
	n, rest = scanNums(trimV(trimSpace(s)), dst)
	switch {
	case n == 0:
		return n, rest, probSyntax
	case n > 3:
		return n, rest, probFourPart
	}
	return n, rest, ""
}

func parseSemverTag(s string) (t semverTag, prob string) {
	t.raw = s
	var rest string
	t.n, rest, prob = scanTagNumbers(s, t.num[:])
	if prob != "" || rest == "" {
		return t, prob
	}
	switch rest[0] {
	case '+':
		if !validBuild(rest[1:]) {
			return t, "the build metadata is malformed"
		}
		t.kind = sfxFlavor
		return t, ""
	case '-':
	default:
		return t, "unexpected character after the numbers"
	}
	suffix, build, hasBuild := strings.Cut(rest[1:], "+")
	if hasBuild && !validBuild(build) {
		return t, "the build metadata is malformed"
	}
	if !validSuffix(suffix) {
		return t, "the suffix is malformed"
	}
	switch {
	case isFlavorSuffix(suffix):
		t.kind = sfxFlavor
	case isPrereleaseSuffix(suffix):
		t.kind, t.pre = sfxPre, suffix
	default:
		t.kind = sfxUnknown
	}
	return t, ""
}

// validBuild reports non-empty dot-separated identifiers of [0-9A-Za-z-].
func validBuild(s string) bool { return validIdents(s, false) }

// validSuffix reports a non-empty suffix of [0-9A-Za-z._-] that neither
// starts nor ends with a separator.
func validSuffix(s string) bool {
	if s == "" || !isAlnum(s[0]) || !isAlnum(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '.' && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

var flavorWords = [...]string{"minimal", "distroless", "linux", "amd64", "arm64", "arm", "ppc64le", "s390x"}

// isFlavorSuffix reports suffixes made only of build/flavour words.
func isFlavorSuffix(s string) bool {
	afterEksbuild := false
	eksDistro := 0 // words read of an EKS Distro "eks-1-28-6": 1 after "eks"
	for more := true; more; {
		var w string
		w, s, more = nextWord(s, "-_.")
		if eksDistro > 0 {
			// "eks" then the Kubernetes major and minor, then the EKS
			// Distro release number or "latest".
			switch {
			case eksDistro < 3 && allDigits(w), eksDistro == 3 && (allDigits(w) || eqLower(w, "latest")):
				eksDistro++
				continue
			case eksDistro < 4:
				return false
			}
			eksDistro = 0
		}
		switch {
		case allDigits(w):
			if !afterEksbuild {
				return false
			}
			afterEksbuild = false
			continue
		case eqLower(w, "eksbuild"):
			afterEksbuild = true
			continue
		case eqLower(w, "eks"):
			afterEksbuild, eksDistro = false, 1
			continue
		case hasPrefixFold(w, "windows"):
			return true
		}
		afterEksbuild = false
		if !isWord(w, flavorWords[:]) {
			return false
		}
	}
	return eksDistro == 0 || eksDistro == 4
}

// isWord reports whether w is one of the lower-case words, ignoring case.
func isWord(w string, words []string) bool {
	for _, f := range words {
		if eqLower(w, f) {
			return true
		}
	}
	return false
}

var prereleaseWords = [...]string{"alpha", "beta", "rc", "pre", "preview", "dev"}

// isPrereleaseSuffix reports a suffix whose first identifier is a
// prerelease word, optionally followed by digits ("rc.1", "rc1", "beta").
func isPrereleaseSuffix(s string) bool {
	s, _, _ = nextWord(s, ".-_")
	j := len(s)
	for j > 0 && isDigit(s[j-1]) {
		j--
	}
	return isWord(s[:j], prereleaseWords[:])
}

// Name returns "semver".
func (semverScheme) Name() string { return "semver" }

// ParseMinimum accepts a full X.Y.Z with optional "v", prerelease and
// build/flavour suffix.
func (semverScheme) ParseMinimum(s string) (Minimum, error) {
	t, prob := parseSemverTag(s)
	switch {
	case prob != "":
		return nil, minErr("semver", s, prob, ErrSyntax)
	case t.n < 3:
		return nil, minErr("semver", s, "a minimum needs major.minor.patch", ErrPartial)
	case t.kind == sfxUnknown:
		return nil, minErr("semver", s, probSuffix, ErrNotMinimum)
	}
	return t, nil
}

// Check decides found against min.
func (semverScheme) Check(found string, min Minimum) Result {
	m, ok := min.(semverTag)
	if !ok {
		return unknown(ReasonForeignMinimum)
	}
	t, prob := parseSemverTag(found)
	if prob == probFourPart {
		return unknown(ReasonFourPart)
	}
	if prob != "" {
		return unparsable(found)
	}
	exact := t.kind == sfxNone || t.kind == sfxFlavor
	if r, decided := checkRange(t.num[:t.n], m.num[:], exact); decided {
		return r
	}
	switch t.kind {
	case sfxPre:
		return outcome(cmpPre(t.pre, m.pre, false))
	case sfxUnknown:
		return unknown(ReasonUnknownSuffix)
	}
	return Result{Outcome: OK}
}
