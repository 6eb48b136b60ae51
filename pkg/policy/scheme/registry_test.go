package scheme

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

var allSchemes = []string{"client-go", "fluentbit", "fluentd", "gomod", "maven", "npm", "nuget", "pep440", "pvp", "rubygems", "semver"}

func TestNamesAndLookup(t *testing.T) {
	names := Names()
	if !slices.Equal(names, allSchemes) {
		t.Fatalf("Names() = %v, want %v", names, allSchemes)
	}
	if !slices.IsSorted(names) {
		t.Errorf("Names() not sorted: %v", names)
	}
	// The result is the caller's: appending must not leak into the next call.
	_ = append(names[:1], "x")
	if got := Names(); !slices.Equal(got, allSchemes) {
		t.Errorf("Names() changed after caller mutation: %v", got)
	}
	for _, n := range allSchemes {
		t.Run(n, func(t *testing.T) {
			s, ok := Lookup(n)
			if !ok {
				t.Fatalf("Lookup(%q) = false", n)
			}
			if s.Name() != n {
				t.Errorf("Lookup(%q).Name() = %q", n, s.Name())
			}
		})
	}
	for _, n := range []string{"", "SemVer", "kube-skew", "cargo"} {
		if _, ok := Lookup(n); ok {
			t.Errorf("Lookup(%q) = true, want false", n)
		}
	}
}

// TestCatalogMinimums parses the minimums the catalog uses.
func TestCatalogMinimums(t *testing.T) {
	for _, tc := range []struct{ scheme, min string }{
		{"client-go", "v0.15.7"}, {"pep440", "12.0.0"}, {"maven", "9.0.0"},
		{"npm", "0.10.3"}, {"rubygems", "unreleased"}, {"rubygems", "2.11.1"},
		{"pvp", "0.3.0.0"}, {"nuget", "7.0.5"}, {"semver", "1.8.0"},
		{"semver", "1.8.4"}, {"semver", "2.0.0"}, {"fluentbit", "2.25.0"},
		{"fluentd", "1.14.6-1.2"}, {"fluentd", "v1.14.6-1.2"}, {"gomod", "v0.15.7"},
	} {
		t.Run(tc.scheme+"/"+tc.min, func(t *testing.T) {
			m, err := mustScheme(t, tc.scheme).ParseMinimum(tc.min)
			if err != nil {
				t.Fatal(err)
			}
			if m.String() != tc.min {
				t.Errorf("String() = %q, want %q", m.String(), tc.min)
			}
		})
	}
}

func TestParseMinimumErrors(t *testing.T) {
	for _, tc := range []struct {
		scheme, in string
		want       error
		msg        string
	}{
		{"semver", "1.x", ErrSyntax, `"1.x" is not a semver version`},
		{"semver", "", ErrEmpty, `"" is not a semver version: the version is empty`},
		{"semver", "latest", ErrSyntax, `"latest" is not a semver version`},
		{"semver", "1.8", ErrPartial, "major.minor.patch"},
		{"semver", "v1", ErrPartial, "major.minor.patch"},
		{"semver", "1.2.3.4", ErrSyntax, "more than three"},
		{"semver", "1.8.0-foo", ErrNotMinimum, "suffix"},
		{"semver", "1.8.0-", ErrSyntax, "suffix is malformed"},
		{"npm", "^0.10.3", ErrSyntax, `"^0.10.3" is not a npm version`},
		{"npm", "0.10", ErrSyntax, "major.minor.patch"},
		{"npm", "01.0.0", ErrSyntax, "leading zero"},
		{"npm", "1.0.0-01", ErrSyntax, "prerelease"},
		{"gomod", "v0.0.0-20190620085101-78d2af792bab", ErrNotMinimum, "pseudo-version"},
		{"gomod", "v1.2", ErrSyntax, "major.minor.patch"},
		{"client-go", "v11.0.0+incompatible", ErrNotMinimum, "v0.x.y"},
		{"client-go", "v0.0.0-20190620085101-78d2af792bab", ErrNotMinimum, "pseudo-version"},
		{"client-go", "kubernetes-1.15.0", ErrSyntax, ""},
		{"pep440", "12.0.0-foo", ErrSyntax, "unexpected text"},
		{"pep440", "twelve", ErrSyntax, "not a number"},
		{"pep440", "1.0+", ErrSyntax, "local version"},
		{"maven", "LATEST", ErrSyntax, "does not start with a number"},
		{"maven", "9.0 0", ErrSyntax, "space"},
		{"nuget", "7.*", ErrSyntax, "unexpected character"},
		{"nuget", "1.2.3.4.5", ErrSyntax, "four"},
		{"pvp", "0.3.0.0-r1", ErrSyntax, "not a number"},
		{"pvp", "0.03", ErrSyntax, "leading zero"},
		{"pvp", "v0.3", ErrSyntax, "not a number"},
		{"rubygems", "master", ErrSyntax, ""},
		{"rubygems", "1..0", ErrSyntax, ""},
		{"fluentd", "1.14", ErrPartial, "major.minor.patch"},
		{"fluentd", "v1.14.6-debian-1.2", ErrNotMinimum, "flavour"},
		{"fluentd", "edge", ErrSyntax, ""},
		{"fluentbit", "2.25", ErrPartial, "major.minor.patch"},
		{"fluentbit", "init-2.25.0", ErrNotMinimum, "flavour"},
		{"fluentbit", "stable", ErrSyntax, ""},
		{"fluentbit", "2.25.0.1.2", ErrSyntax, "four"},
	} {
		t.Run(tc.scheme+"/"+tc.in, func(t *testing.T) {
			m, err := mustScheme(t, tc.scheme).ParseMinimum(tc.in)
			if err == nil {
				t.Fatalf("ParseMinimum(%q) = %v, want error", tc.in, m)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v does not wrap %v", err, tc.want)
			}
			var me *MinimumError
			if !errors.As(err, &me) || me.Scheme != tc.scheme || me.Value != tc.in {
				t.Errorf("error %#v is not a MinimumError for %s/%q", err, tc.scheme, tc.in)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not contain %q", err, tc.msg)
			}
		})
	}
}

// TestForeignMinimum: a Minimum from another scheme (or nil) is Unknown,
// never a panic.
func TestForeignMinimum(t *testing.T) {
	other, err := mustScheme(t, "pvp").ParseMinimum("1.0")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range allSchemes {
		s := mustScheme(t, n)
		for _, m := range []Minimum{nil, other} {
			if n == "pvp" && m != nil {
				continue
			}
			if got := s.Check("1.2.3", m); got.Outcome != Unknown || got.Reason != ReasonForeignMinimum {
				t.Errorf("%s.Check with minimum %T = %+v", n, m, got)
			}
		}
	}
}

func TestOutcomeString(t *testing.T) {
	for o, want := range map[Outcome]string{Unknown: "unknown", TooOld: "too-old", OK: "ok", 9: "unknown"} {
		if o.String() != want {
			t.Errorf("%d.String() = %q, want %q", o, o.String(), want)
		}
	}
}
