package scheme

import "testing"

func TestPEP440(t *testing.T) {
	const min = "12.0.0"
	cases := []checkCase{
		{name: "equal", found: "12.0.0", min: min, want: OK},
		{name: "trailing zeros insignificant", found: "12.0", min: min, want: OK},
		{name: "single segment", found: "12", min: min, want: OK},
		{name: "extra zero segment", found: "12.0.0.0", min: min, want: OK},
		{name: "older", found: "11.0.1", min: min, want: TooOld},
		{name: "newer", found: "31.0.0", min: min, want: OK},
		{name: "a1 below release", found: "12.0.0a1", min: min, want: TooOld},
		{name: "b1 below release", found: "12.0.0b1", min: min, want: TooOld},
		{name: "rc1 below release", found: "12.0.0rc1", min: min, want: TooOld},
		{name: "beta spelled out with separators", found: "12.0.0-beta.2", min: min, want: TooOld},
		{name: "alpha underscore", found: "12.0.0_alpha_1", min: min, want: TooOld},
		{name: "c is rc", found: "12.0.0c1", min: "12.0.0rc1", want: OK},
		{name: "pre is rc", found: "12.0.0pre1", min: "12.0.0rc2", want: TooOld},
		{name: "preview is rc", found: "12.0.0preview3", min: "12.0.0rc3", want: OK},
		{name: "rc above beta", found: "12.0.0rc1", min: "12.0.0b9", want: OK},
		{name: "implicit pre number", found: "12.0.0rc", min: "12.0.0rc0", want: OK},
		{name: "dev below pre", found: "12.0.0.dev0", min: "12.0.0a1", want: TooOld},
		{name: "dev below release", found: "12.0.0.dev5", min: min, want: TooOld},
		{name: "pre above dev", found: "12.0.0a1", min: "12.0.0.dev0", want: OK},
		{name: "pre dev below pre", found: "12.0.0a1.dev1", min: "12.0.0a1", want: TooOld},
		{name: "post", found: "12.0.0.post1", min: min, want: OK},
		{name: "implicit post", found: "12.0.0-1", min: min, want: OK},
		{name: "rev is post", found: "12.0.0.rev1", min: "12.0.0.post1", want: OK},
		{name: "r is post", found: "12.0.0.r1", min: "12.0.0.post2", want: TooOld},
		{name: "post dev below post", found: "12.0.0.post1.dev0", min: "12.0.0.post1", want: TooOld},
		{name: "post dev above release", found: "12.0.0.post1.dev0", min: min, want: OK},
		{name: "older post", found: "11.0.0.post9", min: min, want: TooOld},
		{name: "local ignored", found: "12.0.0+ubuntu1", min: min, want: OK},
		{name: "local on older", found: "11.0.0+ubuntu1", min: min, want: TooOld},
		{name: "case-insensitive", found: "V12.0.0RC1", min: min, want: TooOld},
		{name: "leading v", found: "v12.0.1", min: min, want: OK},
		{name: "epoch wins", found: "1!1.0", min: min, want: OK},
		{name: "epoch in minimum", found: "99.0", min: "1!1.0", want: TooOld},
		{name: "numbers not lexical", found: "9.0.0", min: min, want: TooOld},
		{name: "leading zeros", found: "012.0.0", min: min, want: OK},
		{name: "garbage suffix", found: "12.0.0-foo", min: min, want: Unknown, reason: ReasonUnparsable},
		{name: "trailing dot", found: "12.0.", min: min, want: Unknown, reason: ReasonUnparsable},
		{name: "wildcard", found: "12.*", min: min, want: Unknown, reason: ReasonUnparsable},
	}
	cases = append(cases, unknownCases(min)...)
	runCheckCases(t, "pep440", cases)
}
