package scheme

import "testing"

func TestFluentbit(t *testing.T) {
	const min = "2.25.0"
	cases := []checkCase{
		{name: "equal", found: "2.25.0", min: min, want: OK},
		{name: "older", found: "2.24.9", min: min, want: TooOld},
		{name: "newer", found: "2.31.12", min: min, want: OK},
		{name: "date build", found: "2.25.0.20220101", min: min, want: OK},
		{name: "date build newer", found: "2.32.2.20241008", min: min, want: OK},
		{name: "date build older", found: "2.24.9.20240101", min: min, want: TooOld},
		{name: "leading v", found: "v2.25.0", min: min, want: OK},
		{name: "init prefix", found: "init-2.31.12", min: min, want: OK},
		{name: "init prefix older", found: "init-2.24.0", min: min, want: TooOld},
		{name: "windowsservercore suffix", found: "2.31.12-windowsservercore", min: min, want: OK},
		{name: "debug suffix", found: "2.24.0-debug", min: min, want: TooOld},
		{name: "debug prefix", found: "debug-2.28.4", min: min, want: OK},
		{name: "arch suffix", found: "2.25.0-amd64", min: min, want: OK},
		{name: "arm64 suffix", found: "2.25.0-arm64", min: min, want: OK},
		{name: "partial above", found: "2.26", min: min, want: OK},
		{name: "partial at x.y.0", found: "2.25", min: min, want: OK},
		{name: "partial spans", found: "2.25", min: "2.25.1", want: Unknown, reason: ReasonPartialSpans},
		{name: "major only spans", found: "2", min: min, want: Unknown, reason: ReasonPartialSpans},
		{name: "partial below", found: "2.24", min: min, want: TooOld},
		{name: "date minimum: older date", found: "2.25.0.20220101", min: "2.25.0.20230101", want: TooOld},
		{name: "date minimum: newer date", found: "2.25.0.20240101", min: "2.25.0.20230101", want: OK},
		{name: "date minimum: no date", found: "2.25.0", min: "2.25.0.20230101", want: Unknown, reason: ReasonNoBuildDate},
		{name: "date minimum: newer version", found: "2.25.1", min: "2.25.0.20230101", want: OK},
		{name: "date minimum: partial", found: "2.25", min: "2.25.0.20230101", want: Unknown, reason: ReasonPartialSpans},
		{name: "stable", found: "stable", min: min, want: Unknown, reason: ReasonFloating},
		{name: "windowsservercore-latest", found: "windowsservercore-latest", min: min, want: Unknown, reason: ReasonFloating},
		{name: "debug-latest", found: "debug-latest", min: min, want: Unknown, reason: ReasonFloating},
		{name: "windowsservercore-stable", found: "windowsservercore-stable", min: min, want: Unknown, reason: ReasonFloating},
		{name: "flavour only", found: "init", min: min, want: Unknown, reason: ReasonUnparsable},
		{name: "five parts", found: "2.25.0.1.2", min: min, want: Unknown, reason: ReasonUnparsable},
		{name: "two versions", found: "2.25.0-2.26.0", min: min, want: Unknown, reason: ReasonUnparsable},
		{name: "unknown flavour", found: "2.25.0-alpine", min: min, want: Unknown, reason: ReasonUnparsable},
		{name: "prerelease", found: "2.25.0-rc1", min: min, want: Unknown, reason: ReasonUnparsable},
	}
	cases = append(cases, unknownCases(min)...)
	runCheckCases(t, "fluentbit", cases)
}
