package scheme

import "testing"

func TestNPM(t *testing.T) {
	cases := []checkCase{
		{name: "equal", found: "0.10.3", min: "0.10.3", want: OK},
		{name: "patch below", found: "0.10.2", min: "0.10.3", want: TooOld},
		{name: "minor above (numeric, not lexical)", found: "0.11.0", min: "0.10.3", want: OK},
		{name: "two-digit minor", found: "0.9.9", min: "0.10.3", want: TooOld},
		{name: "major above", found: "1.0.0", min: "0.10.3", want: OK},
		{name: "v prefix", found: "v0.10.3", min: "0.10.3", want: OK},
		{name: "= prefix", found: "=0.10.3", min: "0.10.3", want: OK},
		{name: "=v prefix", found: "=v0.10.4", min: "0.10.3", want: OK},
		{name: "prerelease below release", found: "0.10.3-rc.1", min: "0.10.3", want: TooOld},
		{name: "prerelease of next", found: "0.10.4-rc.1", min: "0.10.3", want: OK},
		{name: "numeric identifiers numerically", found: "1.0.0-beta.11", min: "1.0.0-beta.2", want: OK},
		{name: "numeric below alphanumeric", found: "1.0.0-1", min: "1.0.0-alpha", want: TooOld},
		{name: "shorter prerelease lower", found: "1.0.0-alpha", min: "1.0.0-alpha.1", want: TooOld},
		{name: "build metadata ignored", found: "0.10.3+build.7", min: "0.10.3", want: OK},
		{name: "eksbuild is a prerelease in npm", found: "0.10.3-eksbuild.1", min: "0.10.3", want: TooOld},
		{name: "range", found: "^0.10.3", min: "0.10.3", want: Unknown, reason: ReasonUnparsable},
		{name: "partial", found: "0.10", min: "0.10.3", want: Unknown, reason: ReasonUnparsable},
		{name: "leading zero", found: "0.010.3", min: "0.10.3", want: Unknown, reason: ReasonUnparsable},
		{name: "four parts", found: "0.10.3.1", min: "0.10.3", want: Unknown},
		{name: "empty prerelease identifier", found: "0.10.3-rc..1", min: "0.10.3", want: Unknown},
	}
	cases = append(cases, unknownCases("0.10.3")...)
	runCheckCases(t, "npm", cases)
}
