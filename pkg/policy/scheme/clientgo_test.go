package scheme

import (
	"strings"
	"testing"
	"time"
)

func TestClientGo(t *testing.T) {
	const min = "v0.15.7"
	cases := []checkCase{
		// The client-go trap: legacy majors rank above v0.15.7 in semver
		// but predate the fix.
		{name: "v11 incompatible", found: "v11.0.0+incompatible", min: min, want: TooOld, reason: ReasonLegacyClientGo},
		{name: "v11 plain", found: "v11.0.0", min: min, want: TooOld},
		{name: "v10", found: "v10.0.0+incompatible", min: min, want: TooOld},
		{name: "v9", found: "v9.0.0", min: min, want: TooOld},
		{name: "v8", found: "v8.0.0", min: min, want: TooOld},
		{name: "v7 incompatible", found: "v7.0.0+incompatible", min: min, want: TooOld},
		{name: "v2 prerelease", found: "v2.0.0-alpha.0+incompatible", min: min, want: TooOld},
		{name: "v2", found: "v2.0.0", min: min, want: TooOld},
		{name: "v1.4", found: "v1.4.0", min: min, want: TooOld},
		{name: "v1.5.2", found: "v1.5.2", min: min, want: TooOld},
		{name: "v11 prerelease", found: "v11.0.0-beta.1+incompatible", min: min, want: TooOld},
		{name: "v8 pseudo after tag is still too old", found: "v8.0.1-0.20191010120000-abcdefabcdef+incompatible", min: min, want: TooOld},
		// v12 = Kubernetes 1.15.0 has the fix.
		{name: "v12", found: "v12.0.0+incompatible", min: min, want: OK},
		{name: "v12 plain", found: "v12.0.0", min: min, want: OK},
		{name: "v12 pseudo after tag", found: "v12.0.1-0.20191010120000-abcdefabcdef+incompatible", min: min, want: OK},
		{name: "v12 prerelease", found: "v12.0.0-beta.0", min: min, want: Unknown, reason: ReasonV12Prerelease},
		{name: "v13", found: "v13.0.0", min: min, want: Unknown, reason: ReasonNotClientGo},
		{name: "v99 incompatible", found: "v99.1.0+incompatible", min: min, want: Unknown, reason: ReasonNotClientGo},
		// v0.x.y by semver.
		{name: "v0.15.6", found: "v0.15.6", min: min, want: TooOld},
		{name: "v0.15.7", found: "v0.15.7", min: min, want: OK},
		{name: "v0.15.8", found: "v0.15.8", min: min, want: OK},
		{name: "v0.16.0-beta.0", found: "v0.16.0-beta.0", min: min, want: OK},
		{name: "v0.15.7-beta.0", found: "v0.15.7-beta.0", min: min, want: TooOld},
		{name: "v0.35.1", found: "v0.35.1", min: min, want: OK},
		{name: "v0.9.0", found: "v0.9.0", min: min, want: TooOld},
		{name: "without v", found: "0.20.0", min: min, want: OK},
		// Pseudo-versions with a base: semver.
		{name: "pseudo after v0.15.7", found: "v0.15.8-0.20191105123456-abcdefabcdef", min: min, want: OK},
		{name: "pseudo before v0.15.7", found: "v0.15.7-0.20191015123456-abcdefabcdef", min: min, want: TooOld},
		{name: "pseudo on a prerelease", found: "v0.16.0-beta.0.0.20190801123456-abcdefabcdef", min: min, want: OK},
		// Pseudo-versions without a base: by date.
		{name: "pseudo 2018", found: "v0.0.0-20181010120000-abcdefabcdef", min: min, want: TooOld},
		// Kubernetes' own binaries: require v0.0.0, replace with staging.
		{name: "placeholder v0.0.0", found: "v0.0.0", min: min, want: Unknown, reason: ReasonPlaceholder},
		{name: "placeholder without v", found: "0.0.0", min: min, want: Unknown, reason: ReasonPlaceholder},
		{name: "v0.0.1 is a version", found: "v0.0.1", min: min, want: TooOld},
		{name: "pseudo just before window", found: "v0.0.0-20190430235959-abcdefabcdef", min: min, want: TooOld},
		{name: "pseudo window start", found: "v0.0.0-20190501000000-abcdefabcdef", min: min, want: Unknown, reason: ReasonPseudoWindow19},
		{name: "pseudo in window", found: "v0.0.0-20190620085101-78d2af792bab", min: min, want: Unknown, reason: ReasonPseudoWindow19},
		{name: "pseudo window end", found: "v0.0.0-20190701000000-abcdefabcdef", min: min, want: OK},
		{name: "pseudo 2020", found: "v0.0.0-20200115120000-abcdefabcdef", min: min, want: OK},
		// Release-branch pseudo-versions of v9-v11 carry the cherry-picks.
		{name: "v11 pseudo before window", found: "v11.0.1-0.20190409021813-1ec86e4da56c+incompatible", min: min, want: TooOld},
		{name: "v11 pseudo in window", found: "v11.0.1-0.20190606000000-abcdefabcdef+incompatible", min: min, want: Unknown, reason: ReasonPseudoWindow19},
		{name: "v11 pseudo after window", found: "v11.0.1-0.20190805000000-abcdefabcdef+incompatible", min: min, want: OK},
		{name: "v11 pseudo before the tag", found: "v11.0.0-rc.0.0.20190805000000-abcdefabcdef", min: min, want: TooOld},
		// Git tags kubernetes-1.X.Y.
		{name: "kubernetes-1.11.10", found: "kubernetes-1.11.10", min: min, want: TooOld},
		{name: "kubernetes-1.12.8", found: "kubernetes-1.12.8", min: min, want: TooOld},
		{name: "kubernetes-1.12.9", found: "kubernetes-1.12.9", min: min, want: OK},
		{name: "kubernetes-1.12.10", found: "kubernetes-1.12.10", min: min, want: OK},
		{name: "kubernetes-1.13.6", found: "kubernetes-1.13.6", min: min, want: TooOld},
		{name: "kubernetes-1.13.7", found: "kubernetes-1.13.7", min: min, want: OK},
		{name: "kubernetes-1.14.2", found: "kubernetes-1.14.2", min: min, want: TooOld},
		{name: "kubernetes-1.14.3", found: "kubernetes-1.14.3", min: min, want: OK},
		{name: "kubernetes-1.15.0", found: "kubernetes-1.15.0", min: min, want: OK},
		{name: "kubernetes-1.15.0-beta.1", found: "kubernetes-1.15.0-beta.1", min: min, want: Unknown, reason: ReasonK8sTagPre},
		{name: "kubernetes-1.14.3-beta.0", found: "kubernetes-1.14.3-beta.0", min: min, want: Unknown, reason: ReasonK8sTagPre},
		{name: "kubernetes-1.14.4-beta.0", found: "kubernetes-1.14.4-beta.0", min: min, want: OK},
		{name: "kubernetes-1.14.2-beta.0", found: "kubernetes-1.14.2-beta.0", min: min, want: TooOld},
		{name: "kubernetes-1.16.0-alpha.1", found: "kubernetes-1.16.0-alpha.1", min: min, want: OK},
		{name: "kubernetes-1.29.1", found: "kubernetes-1.29.1", min: min, want: OK},
		{name: "kubernetes-1.9.0", found: "kubernetes-1.9.0", min: min, want: TooOld},
		{name: "Kubernetes- upper case", found: "Kubernetes-1.14.3", min: min, want: OK},
		{name: "kubernetes- partial", found: "kubernetes-1.15", min: min, want: Unknown, reason: ReasonUnparsable},
		{name: "kubernetes-2", found: "kubernetes-2.0.0", min: min, want: Unknown, reason: ReasonUnparsable},
		{name: "kubernetes- alone", found: "kubernetes-", min: min, want: Unknown, reason: ReasonUnparsable},
		// Minimums above the fix make the rules stricter.
		{name: "higher minimum: v12", found: "v12.0.0", min: "v0.20.0", want: TooOld},
		{name: "higher minimum: v12 pseudo", found: "v12.0.1-0.20191010120000-abcdefabcdef", min: "v0.20.0", want: Unknown, reason: ReasonV12AboveFix},
		{name: "higher minimum: v11 pseudo after window", found: "v11.0.1-0.20190805000000-abcdefabcdef", min: "v0.20.0", want: TooOld},
		{name: "higher minimum: tag below", found: "kubernetes-1.19.3", min: "v0.20.0", want: TooOld},
		{name: "higher minimum: tag equal", found: "kubernetes-1.20.0", min: "v0.20.0", want: OK},
		{name: "higher minimum: pseudo without base", found: "v0.0.0-20200115120000-abcdefabcdef", min: "v0.20.0", want: Unknown, reason: ReasonPseudoNoBase},
		{name: "higher minimum: v0 below", found: "v0.19.9", min: "v0.20.0", want: TooOld},
		{name: "higher minimum: v12 prerelease", found: "v12.0.0-beta.0", min: "v0.20.0", want: TooOld},
	}
	cases = append(cases, unknownCases(min)...)
	runCheckCases(t, "client-go", cases)
}

func TestNewClientGoMinimum(t *testing.T) {
	s := mustScheme(t, "client-go")
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	m, err := NewClientGoMinimum("v0.15.7", day(2019, time.June, 1), day(2019, time.June, 15))
	if err != nil {
		t.Fatal(err)
	}
	if m.String() != "v0.15.7" {
		t.Errorf("String() = %q", m.String())
	}
	for _, tc := range []struct {
		found  string
		want   Outcome
		reason string
	}{
		{"v0.0.0-20190520000000-abcdefabcdef", TooOld, ""},
		{"v0.0.0-20190610000000-abcdefabcdef", Unknown, ReasonPseudoWindow},
		{"v0.0.0-20190620000000-abcdefabcdef", OK, ""},
		{"v0.15.7", OK, ""},
	} {
		got := s.Check(tc.found, m)
		if got.Outcome != tc.want || tc.reason != "" && got.Reason != tc.reason {
			t.Errorf("Check(%q) = %+v, want %v %q", tc.found, got, tc.want, tc.reason)
		}
	}
	// A non-UTC date is converted, not misread.
	east := time.FixedZone("UTC+9", 9*3600)
	m, err = NewClientGoMinimum("v0.15.7", time.Date(2019, time.May, 1, 9, 0, 0, 0, east), time.Date(2019, time.July, 1, 9, 0, 0, 0, east))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Check("v0.0.0-20190620085101-78d2af792bab", m); got.Reason != ReasonPseudoWindow19 {
		t.Errorf("equal instants in another zone should keep the default reason, got %+v", got)
	}
	// No window: base-less pseudo-versions are Unknown.
	m, err = NewClientGoMinimum("v0.15.7", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Check("v0.0.0-20200115120000-abcdefabcdef", m); got.Outcome != Unknown || got.Reason != ReasonPseudoNoBase {
		t.Errorf("no window: got %+v", got)
	}
	for _, tc := range []struct {
		name           string
		min            string
		broken, fixed  time.Time
		wantSubstrings string
	}{
		{"fixed before broken", "v0.15.7", day(2019, 7, 1), day(2019, 5, 1), "before"},
		{"one date only", "v0.15.7", day(2019, 5, 1), time.Time{}, "both"},
		{"legacy minimum", "v11.0.0", day(2019, 5, 1), day(2019, 7, 1), "v0.x.y"},
		{"garbage minimum", "latest", day(2019, 5, 1), day(2019, 7, 1), "not a client-go version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewClientGoMinimum(tc.min, tc.broken, tc.fixed)
			if err == nil || !strings.Contains(err.Error(), tc.wantSubstrings) {
				t.Errorf("err = %v, want it to mention %q", err, tc.wantSubstrings)
			}
		})
	}
}
