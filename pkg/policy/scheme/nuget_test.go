package scheme

import "testing"

func TestNuGet(t *testing.T) {
	const min = "7.0.5"
	cases := []checkCase{
		{name: "equal", found: "7.0.5", min: min, want: OK},
		{name: "four parts equal", found: "7.0.5.0", min: min, want: OK},
		{name: "fourth part above", found: "7.0.5.1", min: min, want: OK},
		{name: "missing parts are zero", found: "7.0", min: "7.0.0.0", want: OK},
		{name: "missing parts below", found: "7.0", min: min, want: TooOld},
		{name: "single part", found: "8", min: min, want: OK},
		{name: "older", found: "2.0.26", min: min, want: TooOld},
		{name: "newer", found: "13.0.11", min: min, want: OK},
		{name: "prerelease below", found: "7.0.5-beta.1", min: min, want: TooOld},
		{name: "prerelease case-insensitive", found: "7.0.5-BETA.2", min: "7.0.5-beta.2", want: OK},
		{name: "prerelease numeric", found: "7.0.5-beta.10", min: "7.0.5-beta.9", want: OK},
		{name: "prerelease of next", found: "7.0.6-preview", min: min, want: OK},
		{name: "metadata ignored", found: "7.0.5+sha.abc123", min: min, want: OK},
		{name: "leading v", found: "v7.0.5", min: min, want: OK},
		{name: "leading zeros", found: "7.00.05", min: min, want: OK},
		{name: "five parts", found: "7.0.5.0.1", min: min, want: Unknown, reason: ReasonUnparsable},
		{name: "floating", found: "7.*", min: min, want: Unknown, reason: ReasonUnparsable},
		{name: "range", found: "[7.0.5,)", min: min, want: Unknown, reason: ReasonUnparsable},
	}
	cases = append(cases, unknownCases(min)...)
	runCheckCases(t, "nuget", cases)
}
