package scheme

import "testing"

func TestRubyGems(t *testing.T) {
	const min = "2.11.1"
	cases := []checkCase{
		{name: "equal", found: "2.11.1", min: min, want: OK},
		{name: "older", found: "2.9.5", min: min, want: TooOld},
		{name: "newer", found: "3.0.0", min: min, want: OK},
		{name: "trailing zeros", found: "2.11.1.0", min: min, want: OK},
		{name: "prerelease below release", found: "2.11.1.pre", min: min, want: TooOld},
		{name: "rc below release", found: "2.11.1.rc1", min: min, want: TooOld},
		{name: "dash is pre", found: "2.11.1-alpha", min: min, want: TooOld},
		{name: "prerelease of next", found: "2.11.2.beta1", min: min, want: OK},
		{name: "letters after digits split", found: "2.11.1a", min: min, want: TooOld},
		{name: "pre.alpha2 below release", found: "1.0.0.pre.alpha2", min: "1.0.0", want: TooOld},
		{name: "pre.alpha2 below pre.alpha3", found: "1.0.0.pre.alpha2", min: "1.0.0.pre.alpha3", want: TooOld},
		{name: "alpha below beta", found: "1.0.0.alpha", min: "1.0.0.beta", want: TooOld},
		{name: "string below number", found: "1.0.a", min: "1.0.0", want: TooOld},
		{name: "prerelease trailing zeros", found: "1.0.a.0", min: "1.0.a", want: OK},
		{name: "dash equals .pre.", found: "1.0-a", min: "1.0.pre.a", want: OK},
		{name: "whitespace", found: " 2.11.1 ", min: min, want: OK},
		{name: "leading v", found: "v2.11.1", min: min, want: Unknown, reason: ReasonUnparsable},
		{name: "double dot", found: "2..11", min: min, want: Unknown, reason: ReasonUnparsable},
		{name: "underscore", found: "2.11_1", min: min, want: Unknown, reason: ReasonUnparsable},
	}
	cases = append(cases, unknownCases(min)...)
	runCheckCases(t, "rubygems", cases)
}

// TestRubyGemsUnreleased covers the kubernetes-io gem: no release has
// the fix.
func TestRubyGemsUnreleased(t *testing.T) {
	cases := []checkCase{
		{name: "the only release", found: "1.0.0.pre.alpha2", min: "unreleased", want: TooOld, reason: ReasonUnreleased},
		{name: "any release", found: "99.0.0", min: "unreleased", want: TooOld, reason: ReasonUnreleased},
		{name: "upper-case minimum", found: "1.0.0", min: "Unreleased", want: TooOld, reason: ReasonUnreleased},
	}
	cases = append(cases, unknownCases("unreleased")...)
	runCheckCases(t, "rubygems", cases)
}
