package scheme

import (
	"strings"
	"testing"
)

// commonSeeds are inputs worth trying on every scheme.
var commonSeeds = []string{
	"", " ", "latest", "stable", "edge", "main", "master", "nightly", "mainline",
	"sha256:" + hex64, "sha256-" + hex64 + ".sig", "v", "V", "-", ".", "+", "0",
	"1", "1.", ".1", "1..2", "1.2.3", "v1.2.3", "1.2.3.4", "1.2.3.4.5",
	"99999999999999999999999999.0.0", "1.2.3-", "1.2.3+", "1.2.3-+", "\x00",
	"1.2.3\xff", "ö1.2", "1.0.0-rc.1", "1.0.0-RC.01",
}

// fuzzScheme checks, for any inputs a and b:
//   - Check never panics and returns one of the three outcomes, with a
//     reason when Unknown;
//   - a version that ParseMinimum accepts meets itself (Check(v, v) is OK);
//   - ordering is consistent: if a is TooOld against b, b is OK against a.
func fuzzScheme(f *testing.F, name string, mins []string, seeds []string) {
	s := mustScheme(f, name)
	var parsed []Minimum
	for _, m := range mins {
		pm, err := s.ParseMinimum(m)
		if err != nil {
			f.Fatalf("ParseMinimum(%q): %v", m, err)
		}
		parsed = append(parsed, pm)
	}
	all := append(append([]string{}, commonSeeds...), seeds...)
	for i, a := range all {
		f.Add(a, all[(i*7+3)%len(all)])
	}
	for _, a := range seeds {
		for _, m := range mins {
			f.Add(a, m)
		}
	}
	valid := func(t *testing.T, found string, r Result) {
		if r.Outcome > OK {
			t.Fatalf("Check(%q) outcome %d out of range", found, r.Outcome)
		}
		if r.Outcome == Unknown && r.Reason == "" {
			t.Fatalf("Check(%q) is Unknown without a reason", found)
		}
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, m := range parsed {
			valid(t, a, s.Check(a, m))
		}
		ma, errA := s.ParseMinimum(a)
		mb, errB := s.ParseMinimum(b)
		if errA == nil && !isUnreleased(a) {
			if r := s.Check(a, ma); r.Outcome != OK {
				t.Fatalf("Check(%q, min %q) = %v (%s), want ok", a, a, r.Outcome, r.Reason)
			}
		}
		if errB == nil {
			r := s.Check(a, mb)
			valid(t, a, r)
			if errA == nil && !isUnreleased(a) && !isUnreleased(b) && r.Outcome == TooOld {
				if back := s.Check(b, ma); back.Outcome != OK {
					t.Fatalf("Check(%q, min %q) = too-old but Check(%q, min %q) = %v (%s)", a, b, b, a, back.Outcome, back.Reason)
				}
			}
		}
	})
}

func isUnreleased(s string) bool { return strings.EqualFold(trimSpace(s), "unreleased") }

func FuzzCheckSemver(f *testing.F) {
	fuzzScheme(f, "semver", []string{"1.8.0", "1.8.4", "2.0.0", "2.0.0-rc.1"}, []string{
		"v1.8.0-eksbuild.1", "v1.29.0-minimal-eksbuild.2", "v1.11.1-eksbuild.9",
		"v1.8.0-linux_amd64", "v1.8.0-linux-arm64", "v1.8.0-amd64", "v1.8.0-windows-ltsc2019",
		"v2.0.0-rc.1", "v2.0.0-alpha.2", "1.8.0-beta", "1.8.0-rc1", "v1.8.4-custom",
		"1.9", "1.8", "1.7", "v1", "v2", "1.8.0+build", "v1.9-eksbuild.1", "latest-amd64",
		"v1.8.0-eksbuild", "v1.8.0-eksbuild.1+meta", "1.8.0-rc.1-eksbuild.1",
		"v1.10.1-eks-1-28-6", "v1.8.4-eks-1-31-latest", "v1.8.4-eks-1-21", "v1.8.4-eks",
		"v1.8.4-eks-1-21-9-amd64", "v1.8.4-eks-eksbuild.1", "v1.8.4-eks-1-21-9-eks-1-22-1",
	})
}

func FuzzCheckNPM(f *testing.F) {
	fuzzScheme(f, "npm", []string{"0.10.3", "1.0.0-beta.2"}, []string{
		"0.10.3", "=v0.10.3", "v0.10.4", "0.10.3-rc.1", "1.0.0-beta.11", "1.0.0-1",
		"0.10.3+build.7", "^0.10.3", "0.010.3", "1.0.0-alpha.1",
	})
}

func FuzzCheckGomod(f *testing.F) {
	fuzzScheme(f, "gomod", []string{"v1.2.3", "v0.15.7"}, []string{
		"v1.2.3+incompatible", "v1.2.4-0.20200101120000-abcdefabcdef",
		"v1.2.3-pre.0.20200101120000-abcdefabcdef", "v0.0.0-20190620085101-78d2af792bab",
		"v2.0.0-20190620085101-78d2af792bab", "(devel)", "v1.2",
	})
}

func FuzzCheckClientGo(f *testing.F) {
	fuzzScheme(f, "client-go", []string{"v0.15.7", "v0.20.0", "v0.14.0"}, []string{
		"v11.0.0+incompatible", "v2.0.0-alpha.0+incompatible", "v12.0.0", "v13.0.0",
		"v1.4.0", "v0.15.6", "v0.16.0-beta.0", "v0.35.1", "v0.0.0-20181010120000-abcdefabcdef",
		"v0.0.0-20190620085101-78d2af792bab", "v0.0.0-20190701000000-abcdefabcdef",
		"v11.0.1-0.20190805000000-abcdefabcdef+incompatible", "v12.0.0-beta.0",
		"kubernetes-1.12.9", "kubernetes-1.14.2", "kubernetes-1.15.0-beta.1",
		"kubernetes-1.16.0", "kubernetes-", "Kubernetes-1.14.3",
	})
}

func FuzzCheckPEP440(f *testing.F) {
	fuzzScheme(f, "pep440", []string{"12.0.0", "1!1.0", "12.0.0rc1", "12.0.0.post1.dev2"}, []string{
		"12.0", "12.0.0a1", "12.0.0-beta.2", "12.0.0_alpha_1", "12.0.0.dev0",
		"12.0.0.post1", "12.0.0-1", "12.0.0.rev1", "12.0.0.r1", "12.0.0+ubuntu1",
		"V12.0.0RC1", "1!2.0", "12.0.0a1.dev1", "12.0.0.post1.dev0", "12.0.0preview",
		"12.0.0c", "12.0.0-", "12.0.0a.", "1.0+a.b-c_d",
	})
}

func FuzzCheckMaven(f *testing.F) {
	fuzzScheme(f, "maven", []string{"9.0.0", "9.0.0-legacy", "1-sp"}, []string{
		"9.0", "9.0.0-SNAPSHOT", "9.0.0-beta1", "9.0.0-legacy", "8.0.2", "10.0.0",
		"9.0.0.Final", "9.0.0-a1", "9.0.0-m1", "9.0.0-cr1", "9..0", "1-0-1",
		"1-alpha2snapshot", "1-pom-1", "1-1-snapshot", "LATEST", "RELEASE", "9.0.0-",
		"1.0-0.a", "1-.1", "1--1", "1.0a0",
	})
}

func FuzzCheckNuGet(f *testing.F) {
	fuzzScheme(f, "nuget", []string{"7.0.5", "7.0.5-beta.2"}, []string{
		"7.0", "7.0.5.0", "7.0.5-BETA.2", "7.0.5+sha.1", "v7.0.5", "7.*", "7.00.05",
	})
}

func FuzzCheckPVP(f *testing.F) {
	fuzzScheme(f, "pvp", []string{"0.3.0.0", "0.3"}, []string{
		"0.3", "0.3.0", "0.3.0.0", "0.3.0.1", "0.3.0.0-r1", "0.03", "0..3",
	})
}

func FuzzCheckRubyGems(f *testing.F) {
	fuzzScheme(f, "rubygems", []string{"2.11.1", "unreleased", "1.0.0.pre.alpha3"}, []string{
		"1.0.0.pre.alpha2", "2.11.1.pre", "2.11.1-alpha", "1.0.a.0", "1.0-a", "2.11.1a",
		"unreleased", "Unreleased", "1.0--a", "1.a.0.b",
	})
}

func FuzzCheckFluentd(f *testing.F) {
	fuzzScheme(f, "fluentd", []string{"1.14.6-1.2", "v1.14.6", "1.14.0-1"}, []string{
		"v1.14.6-1.2", "v1.14.6-1.1", "v1.14.6-debian-1.2", "v1.16.2-debian-amd64-1.0",
		"v1.14.6-debian-cloudwatch-1.1", "v1.16-debian-elasticsearch8-1", "v1-debian-cloudwatch",
		"v1.14.5-1.3", "v1.15.0", "v1.14.6", "edge-debian", "v1.14.6-", "v1.14.6--1.2",
	})
}

func FuzzCheckFluentbit(f *testing.F) {
	fuzzScheme(f, "fluentbit", []string{"2.25.0", "2.25.0.20230101"}, []string{
		"2.32.2.20241008", "2.31.12", "init-2.31.12", "2.31.12-windowsservercore",
		"debug-2.28.4", "2.26", "2.24.9", "2.25.0.20220101", "windowsservercore-latest",
		"debug-latest", "v2.25.0-amd64", "init",
	})
}
