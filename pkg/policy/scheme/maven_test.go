package scheme

import "testing"

func TestMaven(t *testing.T) {
	const min = "9.0.0"
	cases := []checkCase{
		{name: "equal", found: "9.0.0", min: min, want: OK},
		{name: "trailing zeros trimmed", found: "9.0", min: min, want: OK},
		{name: "bare major", found: "9", min: min, want: OK},
		{name: "older", found: "8.0.2", min: min, want: TooOld},
		{name: "newer", found: "10.0.0", min: min, want: OK},
		{name: "numeric not lexical", found: "10.0.0", min: "9.10.0", want: OK},
		{name: "snapshot below release", found: "9.0.0-SNAPSHOT", min: min, want: TooOld},
		{name: "beta1 below release", found: "9.0.0-beta1", min: min, want: TooOld},
		{name: "alpha below beta", found: "9.0.0-alpha-2", min: "9.0.0-beta-1", want: TooOld},
		{name: "a1 shorthand is alpha", found: "9.0.0-a1", min: "9.0.0-alpha-1", want: OK},
		{name: "b1 shorthand is beta", found: "9.0.0-b1", min: "9.0.0-alpha-3", want: OK},
		{name: "m1 shorthand is milestone", found: "9.0.0-m1", min: "9.0.0-beta-3", want: OK},
		{name: "milestone below rc", found: "9.0.0-milestone-9", min: "9.0.0-rc-1", want: TooOld},
		{name: "cr equals rc", found: "9.0.0-cr1", min: "9.0.0-rc1", want: OK},
		{name: "rc below snapshot", found: "9.0.0-rc1", min: "9.0.0-SNAPSHOT", want: TooOld},
		{name: "ga equals release", found: "9.0.0-ga", min: min, want: OK},
		{name: "final equals release", found: "9.0.0.Final", min: min, want: OK},
		{name: "RELEASE qualifier equals release", found: "9.0.0.RELEASE", min: min, want: OK},
		{name: "sp above release", found: "9.0.0-sp1", min: min, want: OK},
		{name: "unknown qualifier after release", found: "9.0.0-legacy", min: min, want: OK},
		{name: "unknown qualifier after sp", found: "9.0.0-legacy", min: "9.0.0-sp1", want: OK},
		{name: "unknown qualifiers lexical", found: "9.0.0-abc", min: "9.0.0-abd", want: TooOld},
		{name: "case-insensitive qualifier", found: "9.0.0-Beta1", min: "9.0.0-beta-1", want: OK},
		{name: "dash number", found: "9.0.0-1", min: min, want: OK},
		{name: "dot qualifier", found: "9.0.0.beta1", min: min, want: TooOld},
		{name: "transition split", found: "9.0.0beta1", min: min, want: TooOld},
		{name: "older snapshot", found: "8.0.2-SNAPSHOT", min: min, want: TooOld},
		{name: "next snapshot", found: "9.0.1-SNAPSHOT", min: min, want: OK},
		{name: "long version", found: "9.0.0.0.0.0.1", min: min, want: OK},
		{name: "empty items are zero", found: "9..0", min: min, want: OK},
		{name: "int above qualifier", found: "9.0.0.1", min: "9.0.0-sp", want: OK},
		{name: "legacy minimum", found: "9.0.0", min: "9.0.0-legacy", want: TooOld},
		{name: "LATEST", found: "LATEST", min: min, want: Unknown, reason: ReasonFloating},
		{name: "RELEASE", found: "RELEASE", min: min, want: Unknown, reason: ReasonFloating},
		{name: "starts with letter", found: "v9.0.0", min: min, want: Unknown, reason: ReasonUnparsable},
		{name: "space inside", found: "9.0 0", min: min, want: Unknown, reason: ReasonUnparsable},
		{name: "too many items", found: "1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24.25.26.27.28.29.30.31.32.33", min: min, want: Unknown, reason: ReasonTooManyElements},
	}
	cases = append(cases, unknownCases(min)...)
	runCheckCases(t, "maven", cases)
}

// TestMavenOrder checks a chain known from ComparableVersion's own tests.
func TestMavenOrder(t *testing.T) {
	chain := []string{
		"1-alpha2snapshot", "1-alpha2", "1-alpha-123", "1-beta-2", "1-beta123",
		"1-m2", "1-m11", "1-rc", "1-cr2", "1-rc123", "1-SNAPSHOT", "1", "1-sp",
		"1-sp2", "1-sp123", "1-abc", "1-def", "1-pom-1", "1-1-snapshot", "1-1",
		"1-2", "1-123", "2",
	}
	s := mustScheme(t, "maven")
	for i := 0; i+1 < len(chain); i++ {
		lo, hi := chain[i], chain[i+1]
		mHi, err := s.ParseMinimum(hi)
		if err != nil {
			t.Fatal(err)
		}
		mLo, err := s.ParseMinimum(lo)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Check(lo, mHi).Outcome; got != TooOld {
			t.Errorf("%s vs min %s = %v, want too-old", lo, hi, got)
		}
		if got := s.Check(hi, mLo).Outcome; got != OK {
			t.Errorf("%s vs min %s = %v, want ok", hi, lo, got)
		}
	}
	// Equalities from the same tests.
	for _, eq := range [][2]string{
		{"1", "1.0"}, {"1", "1.0.0"}, {"1.0", "1.0.0"}, {"1", "1-0"}, {"1", "1.0-0"},
		{"1.0", "1.0-0"}, {"1a", "1-a"}, {"1a", "1.0-a"}, {"1a", "1.0.0-a"},
		{"1.0a", "1-a"}, {"1.0.0a", "1-a"}, {"1x", "1-x"}, {"1x", "1.0-x"},
		{"1ga", "1"}, {"1release", "1"}, {"1final", "1"}, {"1cr", "1rc"},
		{"1a1", "1-alpha-1"}, {"1b2", "1-beta-2"}, {"1m3", "1-milestone-3"},
		{"1X", "1x"}, {"1A", "1a"}, {"1B", "1b"}, {"1M", "1m"}, {"1Ga", "1"},
		{"1GA", "1"}, {"1RELEASE", "1"}, {"1release", "1"}, {"1RELeaSE", "1"},
		{"1Final", "1"}, {"1FinaL", "1"}, {"1FINAL", "1"}, {"1Cr", "1Rc"},
		{"1cR", "1rC"}, {"1m3", "1Milestone3"}, {"1m3", "1MileStone3"}, {"1m3", "1MILESTONE3"},
	} {
		for _, p := range [][2]string{eq, {eq[1], eq[0]}} {
			m, err := s.ParseMinimum(p[1])
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Check(p[0], m).Outcome; got != OK {
				t.Errorf("%s vs min %s = %v, want ok (equal)", p[0], p[1], got)
			}
		}
	}
}
