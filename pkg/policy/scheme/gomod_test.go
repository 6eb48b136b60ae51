package scheme

import "testing"

func TestGomod(t *testing.T) {
	cases := []checkCase{
		{name: "equal", found: "v1.2.3", min: "v1.2.3", want: OK},
		{name: "below", found: "v1.2.2", min: "v1.2.3", want: TooOld},
		{name: "without v", found: "1.2.4", min: "v1.2.3", want: OK},
		{name: "incompatible ignored", found: "v2.0.0+incompatible", min: "v1.2.3", want: OK},
		{name: "incompatible equal", found: "v1.2.3+incompatible", min: "v1.2.3", want: OK},
		{name: "prerelease below", found: "v1.2.3-rc.1", min: "v1.2.3", want: TooOld},
		{name: "pseudo of next patch", found: "v1.2.4-0.20200101120000-abcdefabcdef", min: "v1.2.3", want: OK},
		{name: "pseudo of minimum itself is before it", found: "v1.2.3-0.20200101120000-abcdefabcdef", min: "v1.2.3", want: TooOld},
		{name: "pseudo after prerelease", found: "v1.2.3-pre.0.20200101120000-abcdefabcdef", min: "v1.2.3", want: TooOld},
		{name: "pseudo after prerelease vs prerelease minimum", found: "v1.2.3-pre.0.20200101120000-abcdefabcdef", min: "v1.2.3-pre", want: OK},
		{name: "pseudo without base", found: "v0.0.0-20190620085101-78d2af792bab", min: "v1.2.3", want: Unknown, reason: ReasonPseudoNoBase},
		{name: "pseudo without base, major 2", found: "v2.0.0-20190620085101-78d2af792bab", min: "v1.2.3", want: Unknown, reason: ReasonPseudoNoBase},
		{name: "date-like prerelease that is not a pseudo-version", found: "v1.3.0-20190620085101-78d2af792bab", min: "v1.2.3", want: OK},
		{name: "partial", found: "v1.2", min: "v1.2.3", want: Unknown, reason: ReasonUnparsable},
		{name: "leading zero", found: "v1.02.3", min: "v1.2.3", want: Unknown, reason: ReasonUnparsable},
		{name: "devel", found: "(devel)", min: "v1.2.3", want: Unknown, reason: ReasonUnparsable},
	}
	cases = append(cases, unknownCases("v1.2.3")...)
	runCheckCases(t, "gomod", cases)
}
