package scheme

import (
	"testing"

	"github.com/Masterminds/semver/v3"
)

// TestNaiveSemverFallsIntoTraps proves the trap rows above are traps: a
// plain semver comparison (Masterminds/semver) decides each of them the
// other way, while the scheme gets them right.
func TestNaiveSemverFallsIntoTraps(t *testing.T) {
	for _, tc := range []struct {
		scheme, found, min string
		want               Outcome
	}{
		{"semver", "v1.8.0-eksbuild.1", "1.8.0", OK},
		{"semver", "v1.29.0-minimal-eksbuild.2", "1.29.0", OK},
		{"semver", "v2.0.0-linux_amd64", "2.0.0", OK},
		{"client-go", "v11.0.0+incompatible", "v0.15.7", TooOld},
		{"client-go", "v2.0.0-alpha.0+incompatible", "v0.15.7", TooOld},
		{"client-go", "v8.0.0", "v0.15.7", TooOld},
		{"client-go", "v0.0.0-20200115120000-abcdefabcdef", "v0.15.7", OK},
		{"client-go", "v0.0.0-20190620085101-78d2af792bab", "v0.15.7", Unknown},
		{"maven", "9.0.0-legacy", "9.0.0", OK},
		{"fluentd", "v1.14.6", "1.14.6-1.2", Unknown},
		{"semver", "v1.8.0-linux-arm64", "1.8.0", OK},
		{"semver", "1.8", "1.8.4", Unknown},
		{"pep440", "12.0.0.post1", "12.0.0", OK},
		{"fluentbit", "2.25.0.20220101", "2.25.0", OK},
		{"pvp", "0.3", "0.3.0.0", TooOld},
	} {
		t.Run(tc.scheme+"/"+tc.found, func(t *testing.T) {
			naive := TooOld
			f, errF := semver.NewVersion(tc.found)
			m, errM := semver.NewVersion(tc.min)
			if errF == nil && errM == nil && !f.LessThan(m) {
				naive = OK
			}
			if errF != nil || errM != nil {
				naive = Unknown
			}
			if naive == tc.want {
				t.Errorf("naive semver already decides %q vs %q as %v: not a trap", tc.found, tc.min, naive)
			}
			s := mustScheme(t, tc.scheme)
			pm, err := s.ParseMinimum(tc.min)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Check(tc.found, pm); got.Outcome != tc.want {
				t.Errorf("%s.Check(%q, %q) = %v, want %v", tc.scheme, tc.found, tc.min, got.Outcome, tc.want)
			}
		})
	}
}
