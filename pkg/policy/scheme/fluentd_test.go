package scheme

import "testing"

func TestFluentd(t *testing.T) {
	const min = "1.14.6-1.2"
	cases := []checkCase{
		{name: "equal", found: "v1.14.6-1.2", min: min, want: OK},
		{name: "minimum with v", found: "v1.14.6-1.2", min: "v1.14.6-1.2", want: OK},
		{name: "without v", found: "1.14.6-1.2", min: min, want: OK},
		{name: "revision below", found: "v1.14.6-1.1", min: min, want: TooOld},
		{name: "revision above", found: "v1.14.6-1.3", min: min, want: OK},
		{name: "revision numeric", found: "v1.14.6-1.10", min: min, want: OK},
		{name: "revision major above", found: "v1.14.6-2.0", min: min, want: OK},
		{name: "single-number revision", found: "v1.14.6-1", min: min, want: TooOld},
		{name: "single-number revision above", found: "v1.14.6-2", min: min, want: OK},
		{name: "flavour and revision", found: "v1.14.6-debian-1.2", min: min, want: OK},
		{name: "daemonset tag below", found: "v1.14.6-debian-cloudwatch-1.1", min: min, want: TooOld},
		{name: "flavour with arch", found: "v1.16.2-debian-amd64-1.0", min: min, want: OK},
		{name: "version below, revision above", found: "v1.14.5-1.3", min: min, want: TooOld},
		{name: "version above, revision below", found: "v1.15.0-1.0", min: min, want: OK},
		{name: "no revision, version above", found: "v1.15.0", min: min, want: OK},
		{name: "no revision, version equal", found: "v1.14.6", min: min, want: Unknown, reason: ReasonNoRevision},
		{name: "flavour without revision, equal", found: "v1.14.6-debian", min: min, want: Unknown, reason: ReasonNoRevision},
		{name: "no revision, version below", found: "v1.14.5", min: min, want: TooOld},
		{name: "partial above", found: "v1.16-debian-elasticsearch8-1", min: min, want: OK},
		{name: "partial spans", found: "v1.14-debian-1", min: min, want: Unknown, reason: ReasonPartialSpans},
		{name: "partial below", found: "v1.13-debian-1", min: min, want: TooOld},
		{name: "major only", found: "v1-debian-cloudwatch", min: min, want: Unknown, reason: ReasonPartialSpans},
		{name: "revision-less minimum", found: "v1.14.6", min: "1.14.6", want: OK},
		{name: "partial vs revision-less x.y.0", found: "v1.14", min: "1.14.0", want: OK},
		{name: "partial vs x.y.0 with revision", found: "v1.14", min: "1.14.0-1.0", want: Unknown, reason: ReasonPartialSpans},
		{name: "edge", found: "edge", min: min, want: Unknown, reason: ReasonFloating},
		{name: "edge-debian", found: "edge-debian", min: min, want: Unknown, reason: ReasonFloating},
		{name: "latest", found: "latest", min: min, want: Unknown, reason: ReasonFloating},
		{name: "numeric middle part", found: "v1.14.6-1-2", min: min, want: Unknown, reason: ReasonUnparsable},
		{name: "trailing dash", found: "v1.14.6-", min: min, want: Unknown, reason: ReasonUnparsable},
		{name: "double dash", found: "v1.14.6--1.2", min: min, want: Unknown, reason: ReasonUnparsable},
		{name: "three-part revision", found: "v1.14.6-1.2.3", min: min, want: Unknown, reason: ReasonUnparsable},
		{name: "four-part version", found: "v1.14.6.1-1.2", min: min, want: Unknown, reason: ReasonUnparsable},
	}
	cases = append(cases, unknownCases(min)...)
	runCheckCases(t, "fluentd", cases)
}
