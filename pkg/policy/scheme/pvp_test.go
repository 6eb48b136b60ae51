package scheme

import "testing"

func TestPVP(t *testing.T) {
	const min = "0.3.0.0"
	cases := []checkCase{
		{name: "equal", found: "0.3.0.0", min: min, want: OK},
		{name: "prefix is smaller", found: "0.3", min: min, want: TooOld},
		{name: "prefix 0.3.0 smaller", found: "0.3.0", min: min, want: TooOld},
		{name: "longer is larger", found: "0.3.0.0.0", min: min, want: OK},
		{name: "0.3.0.1", found: "0.3.0.1", min: min, want: OK},
		{name: "0.2.99", found: "0.2.99.99", min: min, want: TooOld},
		{name: "0.4", found: "0.4", min: min, want: OK},
		{name: "numeric not lexical", found: "0.10.0.0", min: min, want: OK},
		{name: "big", found: "1.0.0.0", min: min, want: OK},
		{name: "tag", found: "0.3.0.0-r1", min: min, want: Unknown, reason: ReasonUnparsable},
		{name: "leading v", found: "v0.3.0.0", min: min, want: Unknown, reason: ReasonUnparsable},
		{name: "leading zero", found: "0.03.0.0", min: min, want: Unknown, reason: ReasonUnparsable},
		{name: "trailing dot", found: "0.3.", min: min, want: Unknown, reason: ReasonUnparsable},
		{name: "double dot", found: "0..3", min: min, want: Unknown, reason: ReasonUnparsable},
	}
	cases = append(cases, unknownCases(min)...)
	runCheckCases(t, "pvp", cases)
}
