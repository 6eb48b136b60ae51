package scheme

import "strings"

// fluentbitScheme orders AWS for Fluent Bit image tags: an optional "v",
// one to four numeric parts ("2.31.12", "2.32.2.20241008", where the
// fourth part is a build date compared after the first three), and
// flavour words joined by "-" before or after it: init, debug,
// windowsservercore, windows, linux, amd64, arm64, ltsc2019, ltsc2022
// ("init-2.31.12", "2.31.12-windowsservercore"). Floating tags ("stable",
// "windowsservercore-latest") are Unknown; a partial version (2.26)
// stands for the range of its completions. A three-part tag equal to a
// four-part minimum is Unknown (build date unknown).
type fluentbitScheme struct{}

type fluentbitTag struct {
	raw    string
	num    [4]string
	n      int
	flavor bool
}

// String returns the minimum as written.
func (t fluentbitTag) String() string { return t.raw }

var fluentbitFlavors = [...]string{"init", "debug", "windowsservercore", "windows", "linux", "amd64", "arm64", "ltsc2019", "ltsc2022"}

func isFluentbitFlavor(w string) bool { return isWord(w, fluentbitFlavors[:]) }

func parseFluentbit(s string) (t fluentbitTag, prob string) {
	t.raw = s
	s = trimSpace(s)
	if s == "" {
		return t, probSyntax
	}
	seen := false
	for rest := s; ; {
		w, r, more := strings.Cut(rest, "-")
		if isFluentbitFlavor(w) {
			t.flavor = true
		} else {
			if seen {
				return t, "it names two versions or an unknown flavour"
			}
			n, tail := scanNums(trimV(w), t.num[:])
			switch {
			case n == 0 || tail != "":
				return t, "a part is neither a version nor a flavour"
			case n > 4:
				return t, "it has more than four numeric parts"
			}
			t.n, seen = n, true
		}
		if !more {
			break
		}
		rest = r
	}
	if !seen {
		return t, probSyntax
	}
	return t, ""
}

// Name returns "fluentbit".
func (fluentbitScheme) Name() string { return "fluentbit" }

// ParseMinimum accepts X.Y.Z or X.Y.Z.DATE without flavour.
func (fluentbitScheme) ParseMinimum(s string) (Minimum, error) {
	t, prob := parseFluentbit(s)
	switch {
	case prob != "":
		return nil, minErr("fluentbit", s, prob, ErrSyntax)
	case t.n < 3:
		return nil, minErr("fluentbit", s, "a minimum needs major.minor.patch", ErrPartial)
	case t.flavor:
		return nil, minErr("fluentbit", s, "a minimum names no flavour", ErrNotMinimum)
	}
	return t, nil
}

// Check decides found against min.
func (fluentbitScheme) Check(found string, min Minimum) Result {
	m, ok := min.(fluentbitTag)
	if !ok {
		return unknown(ReasonForeignMinimum)
	}
	t, prob := parseFluentbit(found)
	if prob != "" {
		return unparsable(found)
	}
	hasDate, n := m.n == 4, t.n
	if n > 3 {
		n = 3
	}
	if r, decided := checkRange(t.num[:n], m.num[:3], !hasDate); decided {
		return r
	}
	switch {
	case !hasDate:
		return Result{Outcome: OK}
	case t.n < 4:
		return unknown(ReasonNoBuildDate)
	}
	return outcome(cmpNum(t.num[3], m.num[3]))
}
