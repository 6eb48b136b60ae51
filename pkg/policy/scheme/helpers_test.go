package scheme

import "testing"

// checkCase is one row of a Check table.
type checkCase struct {
	name  string
	found string
	min   string
	want  Outcome
	// reason, when set, must equal Result.Reason.
	reason string
}

func mustScheme(t testing.TB, name string) Scheme {
	t.Helper()
	s, ok := Lookup(name)
	if !ok {
		t.Fatalf("Lookup(%q) failed", name)
	}
	return s
}

func runCheckCases(t *testing.T, scheme string, cases []checkCase) {
	t.Helper()
	s := mustScheme(t, scheme)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := s.ParseMinimum(tc.min)
			if err != nil {
				t.Fatalf("ParseMinimum(%q): %v", tc.min, err)
			}
			got := s.Check(tc.found, m)
			if got.Outcome != tc.want {
				t.Errorf("Check(%q, %q) = %v (%q), want %v", tc.found, tc.min, got.Outcome, got.Reason, tc.want)
			}
			if tc.reason != "" && got.Reason != tc.reason {
				t.Errorf("Check(%q, %q) reason = %q, want %q", tc.found, tc.min, got.Reason, tc.reason)
			}
			if got.Outcome == Unknown && got.Reason == "" {
				t.Errorf("Check(%q, %q) is Unknown without a reason", tc.found, tc.min)
			}
		})
	}
}

// unknownCases are inputs every scheme must leave Unknown.
func unknownCases(min string) []checkCase {
	return []checkCase{
		{name: "empty", found: "", min: min, want: Unknown, reason: ReasonEmpty},
		{name: "blank", found: "  ", min: min, want: Unknown, reason: ReasonEmpty},
		{name: "latest", found: "latest", min: min, want: Unknown, reason: ReasonFloating},
		{name: "stable", found: "stable", min: min, want: Unknown, reason: ReasonFloating},
		{name: "edge", found: "edge", min: min, want: Unknown, reason: ReasonFloating},
		{name: "main", found: "main", min: min, want: Unknown, reason: ReasonFloating},
		{name: "master", found: "master", min: min, want: Unknown, reason: ReasonFloating},
		{name: "nightly", found: "nightly", min: min, want: Unknown, reason: ReasonFloating},
		{name: "mainline", found: "mainline", min: min, want: Unknown, reason: ReasonFloating},
		{name: "LATEST upper case", found: "LATEST", min: min, want: Unknown, reason: ReasonFloating},
		{name: "digest", found: "sha256:" + hex64, min: min, want: Unknown, reason: ReasonDigest},
		{name: "cosign digest tag", found: "sha256-" + hex64 + ".sbom", min: min, want: Unknown, reason: ReasonDigest},
		{name: "garbage", found: "not-a-version", min: min, want: Unknown, reason: ReasonUnparsable},
		{name: "control byte", found: "1.2.3\x00", min: min, want: Unknown},
	}
}

const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
