package config

import (
	"testing"
)

func compileExemptions(t testing.TB, e Exemptions) *Exempter {
	t.Helper()
	x, err := e.Compile()
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return x
}

func TestExempterNamespace(t *testing.T) {
	x := compileExemptions(t, Exemptions{Namespaces: []string{"legacy-batch", "team-*-sandbox", "legacy-*", "ci-[0-9]"}})
	tests := []struct{ name, ns, want string }{
		{"exact", "legacy-batch", `namespace "legacy-batch" is exempt by configuration (exemptions.namespaces[0])`},
		{"glob", "team-a-sandbox", `namespace "team-a-sandbox" is exempt by configuration (exemptions.namespaces[1] "team-*-sandbox")`},
		{"glob across dashes", "team-a-b-sandbox", `namespace "team-a-b-sandbox" is exempt by configuration (exemptions.namespaces[1] "team-*-sandbox")`},
		{"later glob", "legacy-web", `namespace "legacy-web" is exempt by configuration (exemptions.namespaces[2] "legacy-*")`},
		{"class", "ci-7", `namespace "ci-7" is exempt by configuration (exemptions.namespaces[3] "ci-[0-9]")`},
		{"class miss", "ci-x", ""},
		{"prefix only", "team-a", ""},
		{"other", "prod", ""},
		{"case matters", "Legacy-batch", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := x.Namespace(tt.ns); got != tt.want {
				t.Errorf("Namespace(%q) = %q, want %q", tt.ns, got, tt.want)
			}
		})
	}
}

func TestExempterFirstEntryWins(t *testing.T) {
	x := compileExemptions(t, Exemptions{
		Namespaces:      []string{"legacy-*", "legacy-batch"},
		ServiceAccounts: []string{"mon:*", "mon:exporter", "*:exporter"},
		Images:          []string{"docker.io/library/busybox:*", "busybox:1.36"},
	})
	if got, want := x.Namespace("legacy-batch"), `namespace "legacy-batch" is exempt by configuration (exemptions.namespaces[0] "legacy-*")`; got != want {
		t.Errorf("Namespace = %q, want %q", got, want)
	}
	if got, want := x.ServiceAccount("mon", "exporter"), `service account "exporter" of namespace "mon" is exempt by configuration (exemptions.serviceAccounts[0] "mon:*")`; got != want {
		t.Errorf("ServiceAccount = %q, want %q", got, want)
	}
	if got, want := x.ServiceAccount("web", "exporter"), `service account "exporter" of namespace "web" is exempt by configuration (exemptions.serviceAccounts[2] "*:exporter")`; got != want {
		t.Errorf("ServiceAccount = %q, want %q", got, want)
	}
	if got, want := x.Image("busybox:1.36"), `image "busybox:1.36" is exempt by configuration (exemptions.images[0] "docker.io/library/busybox:*")`; got != want {
		t.Errorf("Image = %q, want %q", got, want)
	}
}

func TestExempterServiceAccount(t *testing.T) {
	x := compileExemptions(t, Exemptions{ServiceAccounts: []string{
		"monitoring:old-exporter",
		"system:serviceaccount:batch:report-runner",
		"legacy:*",
		"ci-*:runner",
		"system:serviceaccount:*:default",
	}})
	tests := []struct{ name, ns, sa, want string }{
		{"short spelling", "monitoring", "old-exporter", `service account "old-exporter" of namespace "monitoring" is exempt by configuration (exemptions.serviceAccounts[0])`},
		{"username spelling", "batch", "report-runner", `service account "report-runner" of namespace "batch" is exempt by configuration (exemptions.serviceAccounts[1])`},
		{"every account of a namespace", "legacy", "anything", `service account "anything" of namespace "legacy" is exempt by configuration (exemptions.serviceAccounts[2] "legacy:*")`},
		{"namespace pattern", "ci-42", "runner", `service account "runner" of namespace "ci-42" is exempt by configuration (exemptions.serviceAccounts[3] "ci-*:runner")`},
		{"empty is default", "prod", "", `service account "default" of namespace "prod" is exempt by configuration (exemptions.serviceAccounts[4] "system:serviceaccount:*:default")`},
		{"other account in namespace", "monitoring", "new-exporter", ""},
		{"same name, other namespace", "other", "old-exporter", ""},
		{"namespace pattern, other name", "ci-42", "builder", ""},
		{"no namespace", "", "old-exporter", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := x.ServiceAccount(tt.ns, tt.sa); got != tt.want {
				t.Errorf("ServiceAccount(%q, %q) = %q, want %q", tt.ns, tt.sa, got, tt.want)
			}
		})
	}
}

func TestExempterImage(t *testing.T) {
	x := compileExemptions(t, Exemptions{Images: []string{
		"registry.example.com/legacy/*",    // 0: one level under legacy/
		"docker.io/library/busybox:*",      // 1: busybox, any tag
		"ghcr.io/acme/batch-job:1.4.2",     // 2: exact
		"nginx:1.25",                       // 3: exact, Docker Hub short name
		"*/mirror/**",                      // 4: registry wildcard: as written too
		"quay.io/team/**",                  // 5: any depth
		"acme/tool:v?",                     // 6: Docker Hub namespace, ? in tag
		"*.dkr.ecr.*.amazonaws.com/old/*",  // 7: ECR, any account and region
		"alpine",                           // 8: no tag means no tag
		"localhost:5000/dev/app@sha256:ab", // 9: digest
	}})
	tests := []struct{ name, image, want string }{
		{"glob one level", "registry.example.com/legacy/app:1.0", `image "registry.example.com/legacy/app:1.0" is exempt by configuration (exemptions.images[0] "registry.example.com/legacy/*")`},
		{"star does not cross slash", "registry.example.com/legacy/team/app:1.0", ""},
		{"other registry", "registry.example.org/legacy/app:1.0", ""},
		{"short name against normalised pattern", "busybox:1.36", `image "busybox:1.36" is exempt by configuration (exemptions.images[1] "docker.io/library/busybox:*")`},
		{"library spelling", "library/busybox:1.36", `image "library/busybox:1.36" is exempt by configuration (exemptions.images[1] "docker.io/library/busybox:*")`},
		{"hub alias", "index.docker.io/library/busybox:latest", `image "index.docker.io/library/busybox:latest" is exempt by configuration (exemptions.images[1] "docker.io/library/busybox:*")`},
		{"busybox without tag", "busybox", ""},
		{"busybox on another registry", "quay.io/busybox:1", ""},
		{"exact", "ghcr.io/acme/batch-job:1.4.2", `image "ghcr.io/acme/batch-job:1.4.2" is exempt by configuration (exemptions.images[2])`},
		{"exact other tag", "ghcr.io/acme/batch-job:1.4.3", ""},
		{"exact short name, written in full", "docker.io/library/nginx:1.25", `image "docker.io/library/nginx:1.25" is exempt by configuration (exemptions.images[3])`},
		{"exact short name, as written", "nginx:1.25", `image "nginx:1.25" is exempt by configuration (exemptions.images[3])`},
		{"exact short name, other tag", "nginx:1.26", ""},
		{"registry wildcard, deeper", "mirror.local/mirror/a/b:1", `image "mirror.local/mirror/a/b:1" is exempt by configuration (exemptions.images[4] "*/mirror/**")`},
		{"registry wildcard, matched as written", "acme/mirror/x:1", `image "acme/mirror/x:1" is exempt by configuration (exemptions.images[4] "*/mirror/**")`},
		{"registry wildcard, registry", "reg.local/mirror/a/b:1", `image "reg.local/mirror/a/b:1" is exempt by configuration (exemptions.images[4] "*/mirror/**")`},
		{"double star any depth", "quay.io/team/a/b/c:1", `image "quay.io/team/a/b/c:1" is exempt by configuration (exemptions.images[5] "quay.io/team/**")`},
		{"double star prefix must match", "quay.io/teams/a:1", ""},
		{"question mark", "acme/tool:v1", `image "acme/tool:v1" is exempt by configuration (exemptions.images[6] "acme/tool:v?")`},
		{"question mark, hub written", "docker.io/acme/tool:v2", `image "docker.io/acme/tool:v2" is exempt by configuration (exemptions.images[6] "acme/tool:v?")`},
		{"question mark is one byte", "acme/tool:v10", ""},
		{"ECR", "602401143452.dkr.ecr.us-west-2.amazonaws.com/old/app:1", `image "602401143452.dkr.ecr.us-west-2.amazonaws.com/old/app:1" is exempt by configuration (exemptions.images[7] "*.dkr.ecr.*.amazonaws.com/old/*")`},
		{"untagged exact", "docker.io/library/alpine", `image "docker.io/library/alpine" is exempt by configuration (exemptions.images[8])`},
		{"tagged is another image", "alpine:3", ""},
		{"digest exact", "localhost:5000/dev/app@sha256:ab", `image "localhost:5000/dev/app@sha256:ab" is exempt by configuration (exemptions.images[9])`},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := x.Image(tt.image); got != tt.want {
				t.Errorf("Image(%q) = %q, want %q", tt.image, got, tt.want)
			}
		})
	}
}

func TestExempterComponent(t *testing.T) {
	x := compileExemptions(t, Exemptions{Components: []string{"k8s.io/client-go", "projected-token-expiration"}})
	tests := []struct{ name, id, want string }{
		{"rule", "k8s.io/client-go", `component "k8s.io/client-go" is exempt by configuration (exemptions.components[0])`},
		{"token finding", "projected-token-expiration", `component "projected-token-expiration" is exempt by configuration (exemptions.components[1])`},
		{"other", "coredns", ""},
		{"no-SDK finding", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := x.Component(tt.id); got != tt.want {
				t.Errorf("Component(%q) = %q, want %q", tt.id, got, tt.want)
			}
		})
	}
}

func TestNilAndEmptyExempter(t *testing.T) {
	empty := compileExemptions(t, Exemptions{})
	for name, x := range map[string]*Exempter{"nil": nil, "empty": empty} {
		t.Run(name, func(t *testing.T) {
			if x.Namespace("a") != "" || x.ServiceAccount("a", "b") != "" || x.Image("busybox") != "" || x.Component("coredns") != "" {
				t.Error("exempts something")
			}
		})
	}
}

func TestExemptionsCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		e    Exemptions
		want string
	}{
		{"namespace", Exemptions{Namespaces: []string{"[x"}}, `exemptions.namespaces[0]: Invalid value: "[x"`},
		{"service account", Exemptions{ServiceAccounts: []string{"x"}}, `exemptions.serviceAccounts[0]: Invalid value: "x"`},
		{"image", Exemptions{Images: []string{"a", "[]"}}, `exemptions.images[1]: Invalid value: "[]"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.e.Compile()
			wantErr(t, err, tt.want)
		})
	}
}

// TestExempterMissDoesNotAllocate guards the admission hot path.
func TestExempterMissDoesNotAllocate(t *testing.T) {
	x := compileExemptions(t, Exemptions{
		Namespaces:      []string{"legacy-batch", "team-*-sandbox"},
		ServiceAccounts: []string{"mon:exp", "legacy:*", "ci-*:runner"},
		Images:          []string{"registry.example.com/legacy/**", "busybox:*", "nginx:1.25", "*/mirror/*/x:[0-9]*"},
		Components:      []string{"coredns"},
	})
	allocs := testing.AllocsPerRun(100, func() {
		_ = x.Namespace("prod")
		_ = x.ServiceAccount("prod", "")
		_ = x.Image("602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.8.4")
		_ = x.Image("nginx:1.26")
		_ = x.Image("a/mirror/b/y:1")
		_ = x.Component("k8s.io/client-go")
	})
	if allocs != 0 {
		t.Errorf("a miss allocates %v times", allocs)
	}
}
