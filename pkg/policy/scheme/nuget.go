package scheme

// nugetScheme orders NuGet package versions (KubernetesClient): one to
// four numeric parts, missing ones 0 (7.0 == 7.0.0 == 7.0.0.0), an
// optional SemVer 2 prerelease compared case-insensitively, "+metadata"
// ignored, a leading "v" tolerated. Floating ranges ("7.*") are Unknown.
type nugetScheme struct{}

type nugetVersion struct {
	raw string
	num [4]string
	pre string
}

// String returns the minimum as written.
func (v nugetVersion) String() string { return v.raw }

func parseNuGet(s string) (v nugetVersion, prob string) {
	v.raw = s
	s = trimV(trimSpace(s))
	n, rest := scanNums(s, v.num[:])
	switch {
	case n == 0:
		return v, probSyntax
	case n > 4:
		return v, "it has more than four numeric parts"
	}
	for i := n; i < 4; i++ {
		v.num[i] = "0"
	}
	v.pre, prob = parseSemverTail(rest, false)
	return v, prob
}

// Name returns "nuget".
func (nugetScheme) Name() string { return "nuget" }

// ParseMinimum accepts any NuGet version.
func (nugetScheme) ParseMinimum(s string) (Minimum, error) {
	v, prob := parseNuGet(s)
	if prob != "" {
		return nil, minErr("nuget", s, prob, ErrSyntax)
	}
	return v, nil
}

// Check decides found against min.
func (nugetScheme) Check(found string, min Minimum) Result {
	m, ok := min.(nugetVersion)
	if !ok {
		return unknown(ReasonForeignMinimum)
	}
	v, prob := parseNuGet(found)
	if prob != "" {
		return unparsable(found)
	}
	if c := cmpParts(v.num[:], m.num[:]); c != 0 {
		return outcome(c)
	}
	return outcome(cmpPre(v.pre, m.pre, true))
}
