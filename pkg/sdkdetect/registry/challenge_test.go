package registry

import "testing"

func TestParseChallenge(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []string
		want   challenge
		ok     bool
	}{
		{
			name:   "Docker Hub",
			values: []string{`Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"`},
			want:   challenge{scheme: "bearer", realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/nginx:pull"},
			ok:     true,
		},
		{
			name:   "ECR",
			values: []string{`Basic realm="https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/",service="ecr.amazonaws.com"`},
			want:   challenge{scheme: "basic", realm: "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/"},
			ok:     true,
		},
		{name: "Basic alone", values: []string{"Basic"}, want: challenge{scheme: "basic"}, ok: true},
		{name: "case and spaces", values: []string{`BEARER  Realm = "r" ,  SERVICE=s`}, want: challenge{scheme: "bearer", realm: "r", service: "s"}, ok: true},
		{name: "an unknown scheme first", values: []string{`Negotiate, Basic realm="x"`}, want: challenge{scheme: "basic", realm: "x"}, ok: true},
		{name: "an unknown scheme with parameters first", values: []string{`Digest realm="d", nonce="n", Bearer realm="r"`}, want: challenge{scheme: "bearer", realm: "r"}, ok: true},
		{name: "the first known one", values: []string{`Bearer realm="r", Basic realm="b"`}, want: challenge{scheme: "bearer", realm: "r"}, ok: true},
		{name: "several headers", values: []string{"Negotiate", `Bearer realm="r"`}, want: challenge{scheme: "bearer", realm: "r"}, ok: true},
		{name: "escapes", values: []string{`Bearer realm="https://a/t?x=\"y\"",service=s`}, want: challenge{scheme: "bearer", realm: `https://a/t?x="y"`, service: "s"}, ok: true},
		{name: "unterminated quote", values: []string{`Bearer realm="r`}, want: challenge{scheme: "bearer", realm: "r"}, ok: true},
		{name: "first of a repeated parameter", values: []string{`Bearer realm="a",realm="b"`}, want: challenge{scheme: "bearer", realm: "a"}, ok: true},
		{name: "unknown only", values: []string{"Negotiate", `Digest realm="d"`}},
		{name: "empty", values: []string{""}},
		{name: "none"},
		{name: "garbage", values: []string{`=,"; Bearer`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseChallenge(tc.values)
			if got != tc.want || ok != tc.ok {
				t.Errorf("parseChallenge(%q) = %+v, %v; want %+v, %v", tc.values, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func FuzzParseChallenge(f *testing.F) {
	for _, s := range []string{
		`Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"`,
		`Basic realm="x"`, `Negotiate, Basic`, `Bearer realm="\"`, `a=b, c`, `,,,`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := parseChallenge([]string{s, s})
		if ok != (c.scheme == "basic" || c.scheme == "bearer") {
			t.Errorf("parseChallenge(%q) = %+v, %v", s, c, ok)
		}
	})
}

func TestRepoOf(t *testing.T) {
	for path, want := range map[string]string{
		"/v2/acme/api/manifests/1.4":                    "acme/api",
		"/v2/library/nginx/manifests/sha256:abc":        "library/nginx",
		"/v2/a/b/c/blobs/sha256:abc":                    "a/b/c",
		"/v2/acme/api/referrers/sha256:abc":             "acme/api",
		"/v2/acme/api/tags/list":                        "acme/api",
		"/v2/api/manifests/1.4":                         "api",
		"/v2/acme/manifests/manifests/1.4":              "acme/manifests",
		"/v2/":                                          "",
		"/v2/_catalog":                                  "",
		"/v2/acme/api/other/x":                          "",
		"/token":                                        "",
		"/bucket/acme/api/manifests/1.4":                "",
		"/v2/manifests/1.4":                             "",
		"/v2/acme/api/blobs/uploads/0f1e2d3c-4b5a-6978": "",
	} {
		if got := repoOf(path); got != want {
			t.Errorf("repoOf(%q) = %q, want %q", path, got, want)
		}
	}
}
