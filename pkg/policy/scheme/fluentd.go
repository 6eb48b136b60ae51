package scheme

import "strings"

// fluentdScheme orders Fluentd image tags: fluent/fluentd
// ("v1.14.6-1.2", "v1.14.6-debian-1.2", "v1.16.2-debian-amd64-1.0") and
// fluent/fluentd-kubernetes-daemonset ("v1.14.6-debian-cloudwatch-1.1",
// "v1.16-debian-elasticsearch8-1"). A tag is an optional "v", a version
// X[.Y[.Z]], then "-"-separated parts: the last part, when it is R or
// R.S, is the image revision; the other parts must hold a letter and
// name the flavour (debian, alpine, cloudwatch, amd64, ...), which is
// ignored. The tuple (X.Y.Z, revision) compares against the minimum's. A
// tag without a revision whose version equals the minimum's is Unknown; a
// partial version stands for the range of its completions. The minimum
// is X.Y.Z with an optional revision ("1.14.6-1.2") and no flavour.
type fluentdScheme struct{}

type fluentdTag struct {
	raw    string
	num    [3]string
	n      int
	rev    [2]string
	hasRev bool
	flavor bool
}

// String returns the minimum as written.
func (t fluentdTag) String() string { return t.raw }

// parseRevision reads "R" or "R.S".
func parseRevision(p string, dst *[2]string) bool {
	r, s, two := strings.Cut(p, ".")
	if !allDigits(r) || two && !allDigits(s) {
		return false
	}
	dst[0], dst[1] = r, s
	return true
}

func parseFluentd(s string) (t fluentdTag, prob string) {
	t.raw = s
	var rest string
	t.n, rest, prob = scanTagNumbers(s, t.num[:])
	switch {
	case prob != "" || rest == "":
		return t, prob
	case rest[0] != '-':
		return t, "unexpected character after the numbers"
	}
	rest = rest[1:]
	if rest == "" {
		return t, "the tag ends with \"-\""
	}
	for rest != "" {
		part, r, more := strings.Cut(rest, "-")
		if !more && parseRevision(part, &t.rev) {
			t.hasRev = true
			break
		}
		if !validFlavor(part) {
			return t, "a part between the version and the revision is not a flavour word"
		}
		t.flavor = true
		rest = r
		if more && rest == "" {
			return t, "the tag ends with \"-\""
		}
	}
	return t, ""
}

// validFlavor reports a word of [0-9A-Za-z_.] that holds a letter.
func validFlavor(p string) bool {
	letter := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case isLetter(c):
			letter = true
		case isDigit(c), c == '_', c == '.':
		default:
			return false
		}
	}
	return letter
}

// Name returns "fluentd".
func (fluentdScheme) Name() string { return "fluentd" }

// ParseMinimum accepts X.Y.Z or X.Y.Z-R[.S], with or without "v".
func (fluentdScheme) ParseMinimum(s string) (Minimum, error) {
	t, prob := parseFluentd(s)
	switch {
	case prob != "":
		return nil, minErr("fluentd", s, prob, ErrSyntax)
	case t.n < 3:
		return nil, minErr("fluentd", s, "a minimum needs major.minor.patch", ErrPartial)
	case t.flavor:
		return nil, minErr("fluentd", s, "a minimum names no flavour", ErrNotMinimum)
	}
	return t, nil
}

// Check decides found against min.
func (fluentdScheme) Check(found string, min Minimum) Result {
	m, ok := min.(fluentdTag)
	if !ok {
		return unknown(ReasonForeignMinimum)
	}
	t, prob := parseFluentd(found)
	if prob != "" {
		return unparsable(found)
	}
	if r, decided := checkRange(t.num[:t.n], m.num[:], !m.hasRev); decided {
		return r
	}
	switch {
	case !m.hasRev:
		return Result{Outcome: OK}
	case !t.hasRev:
		return unknown(ReasonNoRevision)
	}
	return outcome(cmpParts(t.rev[:], m.rev[:]))
}
