package scheme

import "testing"

func benchCheck(b *testing.B, scheme, min string, founds ...string) {
	s := mustScheme(b, scheme)
	m, err := s.ParseMinimum(min)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		_ = s.Check(founds[i%len(founds)], m)
	}
}

func BenchmarkCheckSemver(b *testing.B) {
	b.Run("eksbuild", func(b *testing.B) { benchCheck(b, "semver", "1.8.0", "v1.8.0-eksbuild.1") })
	b.Run("minimal-eksbuild", func(b *testing.B) { benchCheck(b, "semver", "1.29.0", "v1.29.0-minimal-eksbuild.2") })
	b.Run("plain", func(b *testing.B) { benchCheck(b, "semver", "1.8.4", "1.11.3") })
	b.Run("prerelease", func(b *testing.B) { benchCheck(b, "semver", "2.0.0", "v2.0.0-rc.1") })
	b.Run("latest", func(b *testing.B) { benchCheck(b, "semver", "1.8.4", "latest") })
}

func BenchmarkCheckNPM(b *testing.B) { benchCheck(b, "npm", "0.10.3", "0.18.1", "1.0.0-rc4") }

func BenchmarkCheckGomod(b *testing.B) {
	benchCheck(b, "gomod", "v1.2.3", "v1.2.4-0.20200101120000-abcdefabcdef", "v2.0.0+incompatible")
}

func BenchmarkCheckClientGo(b *testing.B) {
	b.Run("v0", func(b *testing.B) { benchCheck(b, "client-go", "v0.15.7", "v0.29.3") })
	b.Run("legacy", func(b *testing.B) { benchCheck(b, "client-go", "v0.15.7", "v11.0.0+incompatible") })
	b.Run("pseudo", func(b *testing.B) {
		benchCheck(b, "client-go", "v0.15.7", "v0.0.0-20190620085101-78d2af792bab")
	})
	b.Run("tag", func(b *testing.B) { benchCheck(b, "client-go", "v0.15.7", "kubernetes-1.14.3") })
}

func BenchmarkCheckPEP440(b *testing.B) {
	benchCheck(b, "pep440", "12.0.0", "29.0.0", "12.0.0rc1", "12.0.0.post1.dev0+ubuntu1")
}

func BenchmarkCheckMaven(b *testing.B) {
	benchCheck(b, "maven", "9.0.0", "19.0.1", "9.0.0-SNAPSHOT", "9.0.0-beta1")
}

func BenchmarkCheckNuGet(b *testing.B) { benchCheck(b, "nuget", "7.0.5", "13.0.11", "7.0.5-beta.2") }

func BenchmarkCheckPVP(b *testing.B) { benchCheck(b, "pvp", "0.3.0.0", "0.3.0.1", "0.2.9") }

func BenchmarkCheckRubyGems(b *testing.B) {
	b.Run("version", func(b *testing.B) { benchCheck(b, "rubygems", "2.11.1", "2.11.2", "3.0.0.pre.alpha2") })
	b.Run("unreleased", func(b *testing.B) { benchCheck(b, "rubygems", "unreleased", "1.0.0.pre.alpha2") })
}

func BenchmarkCheckFluentd(b *testing.B) {
	benchCheck(b, "fluentd", "1.14.6-1.2", "v1.14.6-debian-cloudwatch-1.1", "v1.16-debian-elasticsearch8-1")
}

func BenchmarkCheckFluentbit(b *testing.B) {
	benchCheck(b, "fluentbit", "2.25.0", "2.32.2.20241008", "init-2.31.12")
}

// TestCheckAllocs pins the allocation budget of the hot path.
func TestCheckAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation count is not meaningful in -short runs on some builders")
	}
	for _, tc := range []struct{ scheme, min, found string }{
		{"semver", "1.8.0", "v1.8.0-eksbuild.1"},
		{"semver", "1.8.0", "v1.29.0-minimal-eksbuild.2"},
		{"semver", "1.8.0", "latest"},
		{"npm", "0.10.3", "0.18.1"},
		{"gomod", "v1.2.3", "v1.2.4-0.20200101120000-abcdefabcdef"},
		{"client-go", "v0.15.7", "v0.0.0-20190620085101-78d2af792bab"},
		{"client-go", "v0.15.7", "v11.0.1-0.20190805000000-abcdefabcdef+incompatible"},
		{"client-go", "v0.15.7", "kubernetes-1.14.3"},
		{"pep440", "12.0.0", "12.0.0.post1.dev0+ubuntu1"},
		{"maven", "9.0.0", "9.0.0-beta1"},
		{"nuget", "7.0.5", "7.0.5-beta.2"},
		{"pvp", "0.3.0.0", "0.3.0.1"},
		{"rubygems", "2.11.1", "3.0.0.pre.alpha2"},
		{"fluentd", "1.14.6-1.2", "v1.14.6-debian-cloudwatch-1.1"},
		{"fluentbit", "2.25.0", "init-2.32.2.20241008"},
	} {
		s := mustScheme(t, tc.scheme)
		m, err := s.ParseMinimum(tc.min)
		if err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(100, func() { _ = s.Check(tc.found, m) }); n > 0 {
			t.Errorf("%s.Check(%q) allocates %.0f times per call", tc.scheme, tc.found, n)
		}
	}
}
