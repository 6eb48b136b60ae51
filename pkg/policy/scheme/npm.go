package scheme

// npmScheme orders npm package versions (@kubernetes/client-node) by
// strict semver 2.0: prerelease below release, numeric identifiers
// numerically, build metadata ignored. A leading "=", "v" or "=v" is
// tolerated as node-semver does. Ranges ("^0.10.3") and partial versions
// are Unknown.
type npmScheme struct{}

type npmMinimum struct {
	raw string
	v   strictVersion
}

// String returns the minimum as written.
func (m npmMinimum) String() string { return m.raw }

func parseNPM(s string) (strictVersion, string) {
	s = trimSpace(s)
	if s != "" && s[0] == '=' {
		s = s[1:]
	}
	return parseStrict(trimV(s))
}

// Name returns "npm".
func (npmScheme) Name() string { return "npm" }

// ParseMinimum accepts a full semver version.
func (npmScheme) ParseMinimum(s string) (Minimum, error) {
	v, prob := parseNPM(s)
	if prob != "" {
		return nil, minErr("npm", s, prob, ErrSyntax)
	}
	return npmMinimum{raw: s, v: v}, nil
}

// Check decides found against min.
func (npmScheme) Check(found string, min Minimum) Result {
	m, ok := min.(npmMinimum)
	if !ok {
		return unknown(ReasonForeignMinimum)
	}
	v, prob := parseNPM(found)
	if prob != "" {
		return unparsable(found)
	}
	return outcome(cmpStrict(v, m.v))
}
