package config

import (
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestValidateErrors(t *testing.T) {
	tests := []struct {
		name string
		// doc is the whole document; body is appended to header.
		doc, body string
		want      []string
	}{
		{name: "missing apiVersion and kind", doc: "unknown: warn\n",
			want: []string{`apiVersion: Unsupported value: ""`, `kind: Unsupported value: ""`}},
		{name: "wrong apiVersion", doc: "apiVersion: tokenguard.io/v1\nkind: TokenGuardConfiguration\n",
			want: []string{`apiVersion: Unsupported value: "tokenguard.io/v1": supported values: "tokenguard.io/v1alpha1"`}},
		{name: "wrong kind", doc: "apiVersion: tokenguard.io/v1alpha1\nkind: Catalog\n",
			want: []string{`kind: Unsupported value: "Catalog": supported values: "TokenGuardConfiguration"`}},
		{name: "unknown action", body: "unknown: block",
			want: []string{`unknown: Unsupported value: "block": supported values: "allow", "warn", "deny"`}},
		{name: "control-plane version", body: "controlPlaneVersion: latest",
			want: []string{`controlPlaneVersion: Invalid value: "latest": a Kubernetes version such as v1.30`}},
		{name: "minimum of unknown rule", body: "catalog: {minimums: {cordns: 1.9.0}}",
			want: []string{`catalog.minimums[cordns]: Invalid value: "cordns": no rule has this id`}},
		{name: "minimum that does not parse", body: "catalog: {minimums: {coredns: 1.x}}",
			want: []string{`catalog.minimums[coredns]: Invalid value: "1.x": not a semver minimum for rule "coredns"`}},
		{name: "empty minimum", body: `catalog: {minimums: {coredns: ""}}`,
			want: []string{`catalog.minimums[coredns]: Required value`}},
		{name: "kube-skew minimum", body: "catalog: {minimums: {kube-proxy: 1.29.0}}",
			want: []string{`catalog.minimums[kube-proxy]: Invalid value: "1.29.0": the kube-skew scheme`, `takes the minimum "control-plane"`}},
		{name: "client-go scheme minimum", body: "catalog: {minimums: {k8s.io/client-go: banana}}",
			want: []string{`catalog.minimums[k8s.io/client-go]: Invalid value: "banana": not a client-go minimum`}},
		{name: "minimum checked with an added rule's scheme",
			body: "catalog:\n  rules:\n  - {id: acme, kind: addon, match: {images: [acme/op]}, minimum: 3.0.0, scheme: pep440, source: s}\n  minimums: {acme: not-a-version}",
			want: []string{`catalog.minimums[acme]: Invalid value: "not-a-version": not a pep440 minimum`}},
		{name: "minimum checked with a replacing rule's scheme",
			body: "catalog:\n  rules:\n  - {id: coredns, kind: addon, match: {images: [coredns]}, minimum: control-plane, scheme: kube-skew, source: s}\n  minimums: {coredns: 1.9.0}",
			want: []string{`catalog.minimums[coredns]: Invalid value: "1.9.0": the kube-skew scheme`}},
		{name: "disable unknown rule", body: "catalog: {disable: [coredns, nope]}",
			want: []string{`catalog.disable[1]: Invalid value: "nope": no rule has this id`}},
		{name: "disable twice", body: "catalog: {disable: [coredns, coredns]}",
			want: []string{`catalog.disable[1]: Duplicate value: "coredns"`}},
		{name: "rule minimum", body: "catalog:\n  rules:\n  - {id: acme, kind: addon, match: {images: [acme/op]}, minimum: 3.x, scheme: semver, source: s}",
			want: []string{`catalog.rules[0].minimum: Invalid value: "3.x"`}},
		{name: "rule scheme, kind and source", body: "catalog:\n  rules:\n  - {id: acme, kind: plugin, match: {images: [acme/op]}, minimum: 3.0.0, scheme: calver}",
			want: []string{`catalog.rules[0].kind: Unsupported value: "plugin"`, `catalog.rules[0].scheme: Unsupported value: "calver"`, `catalog.rules[0].source: Required value`}},
		{name: "duplicate rule ids", body: "catalog:\n  rules:\n  - {id: acme, kind: addon, match: {images: [a]}, minimum: 1.0.0, scheme: semver, source: s}\n  - {id: acme, kind: addon, match: {images: [b]}, minimum: 1.0.0, scheme: semver, source: s}",
			want: []string{`catalog.rules[1].id: Duplicate value: "acme (also rules[0].id)"`}},
		{name: "rule image pattern", body: "catalog:\n  rules:\n  - {id: acme, kind: addon, match: {images: [Acme/Op]}, minimum: 1.0.0, scheme: semver, source: s}",
			want: []string{`catalog.rules[0].match.images[0]: Invalid value: "Acme/Op"`}},
		{name: "layer-scan mode", body: "registry: {layers: {mode: sometimes}}",
			want: []string{`registry.layers.mode: Unsupported value: "sometimes": supported values: "auto", "always", "never"`}},
		{name: "layer-scan platforms", body: "registry: {layers: {platforms: [linux/amd64, linux, linux/amd64, \"linux/arm 64\"]}}",
			want: []string{`registry.layers.platforms[1]: Invalid value: "linux": a platform as os/arch`, `registry.layers.platforms[2]: Duplicate value`, `registry.layers.platforms[3]: Invalid value: "linux/arm 64"`}},
		{name: "no layer-scan platform", body: "registry: {layers: {platforms: []}}",
			want: []string{`registry.layers.platforms: Required value: at least one platform`}},
		{name: "layer-scan bounds", body: "registry: {layers: {maxCompressedBytes: 1Ki, maxFileBytes: 2Gi, timeout: 500ms, concurrency: 65, queueSize: -1}}",
			want: []string{`registry.layers.maxCompressedBytes: Invalid value: "1Ki": must be between 1Mi and 64Gi bytes`,
				`registry.layers.maxFileBytes: Invalid value: "2Gi": must be between 1Mi and 1Gi bytes`,
				`registry.layers.timeout: Invalid value: "500ms": must be between 1s and 1h`,
				`registry.layers.concurrency: Invalid value: 65: must be between 1 and 64`,
				`registry.layers.queueSize: Invalid value: -1: must be between 1 and 100000`}},
		{name: "layer-scan units", body: "registry: {layers: {maxFileBytes: lots, timeout: forever}}",
			want: []string{`registry.layers.maxFileBytes: Invalid value: "lots"`, `registry.layers.timeout: Invalid value: "forever"`}},
		{name: "namespace name", body: "exemptions: {namespaces: [ok, Not_OK]}",
			want: []string{`exemptions.namespaces[1]: Invalid value: "Not_OK": not a valid namespace name`}},
		{name: "namespace pattern", body: `exemptions: {namespaces: ["team-[a"]}`,
			want: []string{`exemptions.namespaces[0]: Invalid value: "team-[a": malformed pattern`}},
		{name: "empty namespace", body: `exemptions: {namespaces: [""]}`,
			want: []string{`exemptions.namespaces[0]: Invalid value: "": a namespace name or pattern`}},
		{name: "duplicate namespace", body: `exemptions: {namespaces: [a, a]}`,
			want: []string{`exemptions.namespaces[1]: Duplicate value: "a"`}},
		{name: "service account without namespace", body: `exemptions: {serviceAccounts: [old-exporter]}`,
			want: []string{`exemptions.serviceAccounts[0]: Invalid value: "old-exporter": "namespace:name" or "system:serviceaccount:namespace:name"`}},
		{name: "service account with too many parts", body: `exemptions: {serviceAccounts: ["system:serviceaccount:a:b:c"]}`,
			want: []string{`exemptions.serviceAccounts[0]: Invalid value: "system:serviceaccount:a:b:c"`}},
		{name: "service account empty name", body: `exemptions: {serviceAccounts: ["monitoring:"]}`,
			want: []string{`exemptions.serviceAccounts[0]: Invalid value: "monitoring:"`}},
		{name: "service account bad namespace", body: `exemptions: {serviceAccounts: ["Mon:x"]}`,
			want: []string{`exemptions.serviceAccounts[0]: Invalid value: "Mon:x": not a valid namespace name`}},
		{name: "service account bad pattern", body: `exemptions: {serviceAccounts: ["mon:[x"]}`,
			want: []string{`exemptions.serviceAccounts[0]: Invalid value: "mon:[x": malformed pattern`}},
		{name: "service account duplicate in both spellings", body: `exemptions: {serviceAccounts: ["a:b", "system:serviceaccount:a:b"]}`,
			want: []string{`exemptions.serviceAccounts[1]: Duplicate value: "system:serviceaccount:a:b"`}},
		{name: "image pattern", body: `exemptions: {images: [ok/image, "other/*", "registry.example.com/[x"]}`,
			want: []string{`exemptions.images[2]: Invalid value: "registry.example.com/[x": malformed pattern`}},
		{name: "image escape at end", body: `exemptions: {images: ['a\']}`,
			want: []string{`exemptions.images[0]: Invalid value: "a\\": malformed pattern`}},
		{name: "image with space", body: `exemptions: {images: ["busybox :1"]}`,
			want: []string{`exemptions.images[0]: Invalid value: "busybox :1": image references contain no spaces`}},
		{name: "image non-ASCII pattern", body: `exemptions: {images: ["bü*"]}`,
			want: []string{`exemptions.images[0]: Invalid value: "bü*": patterns are ASCII`}},
		{name: "unknown component", body: `exemptions: {components: [k8s.io/client-go, client-go]}`,
			want: []string{`exemptions.components[1]: Invalid value: "client-go": no rule has this id`}},
		{name: "empty component", body: `exemptions: {components: [""]}`,
			want: []string{`exemptions.components[0]: Required value`}},
		{name: "timeout too long", body: "registry: {timeout: 10s}",
			want: []string{`registry.timeout: Invalid value: "10s": must be less than 10s, the webhook's timeout`}},
		{name: "timeout negative", body: "registry: {timeout: -1s}",
			want: []string{`registry.timeout: Invalid value: "-1s": must be greater than 0`}},
		{name: "timeout without unit", body: "registry: {timeout: 2}",
			want: []string{`registry.timeout: Invalid value: "2": a duration with a unit, such as 2s`}},
		{name: "timeout in words", body: "registry: {timeout: 2 seconds}",
			want: []string{`registry.timeout: Invalid value: "2 seconds": a duration with a unit`}},
		{name: "cache entries negative", body: "registry: {cacheEntries: -5}",
			want: []string{`registry.cacheEntries: Invalid value: -5: must be between 1 and 10000000`}},
		{name: "cache entries too many", body: "registry: {cacheEntries: 10000001}",
			want: []string{`registry.cacheEntries: Invalid value: 10000001`}},
		{name: "cache bytes not a quantity", body: "registry: {cacheBytes: lots}",
			want: []string{`registry.cacheBytes: Invalid value: "lots": a whole number of bytes`}},
		{name: "cache bytes fractional", body: "registry: {cacheBytes: 1.5}",
			want: []string{`registry.cacheBytes: Invalid value: "1.5": a whole number of bytes`}},
		{name: "cache bytes negative", body: "registry: {cacheBytes: -1Mi}",
			want: []string{`registry.cacheBytes: Invalid value: "-1Mi": must be between 1 and 64Gi bytes`}},
		{name: "cache bytes too big", body: "registry: {cacheBytes: 1Ti}",
			want: []string{`registry.cacheBytes: Invalid value: "1Ti"`}},
		{name: "max SBOM bytes too small", body: "registry: {maxSBOMBytes: 100}",
			want: []string{`registry.maxSBOMBytes: Invalid value: "100": must be between 1Ki and 1Gi bytes`}},
		{name: "max SBOM bytes too big", body: "registry: {maxSBOMBytes: 2Gi}",
			want: []string{`registry.maxSBOMBytes: Invalid value: "2Gi"`}},
		{name: "max SBOM bytes not a quantity", body: "registry: {maxSBOMBytes: huge}",
			want: []string{`registry.maxSBOMBytes: Invalid value: "huge": a whole number of bytes`}},
		{name: "insecure registry with scheme", body: `registry: {insecureRegistries: ["http://registry.local"]}`,
			want: []string{`registry.insecureRegistries[0]: Invalid value: "http://registry.local": host or host:port`}},
		{name: "insecure registry port", body: `registry: {insecureRegistries: ["registry.local:99999"]}`,
			want: []string{`registry.insecureRegistries[0]: Invalid value: "registry.local:99999": the port must be a number from 1 to 65535`}},
		{name: "insecure registry bare IPv6", body: `registry: {insecureRegistries: ["fd00::1"]}`,
			want: []string{`registry.insecureRegistries[0]: Invalid value: "fd00::1": an IPv6 address must be bracketed`}},
		{name: "insecure registry path", body: `registry: {insecureRegistries: ["registry.local/v2"]}`,
			want: []string{`registry.insecureRegistries[0]: Invalid value: "registry.local/v2"`}},
		{name: "insecure registry duplicate", body: `registry: {insecureRegistries: ["Registry.local", "registry.local"]}`,
			want: []string{`registry.insecureRegistries[1]: Duplicate value: "registry.local"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := tt.doc
			if doc == "" {
				doc = header + tt.body + "\n"
			}
			_, err := Parse([]byte(doc), "test.yaml")
			wantErr(t, err, tt.want...)
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "test.yaml: ") {
					t.Errorf("error line does not start with the source: %q", line)
				}
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	tests := []struct{ name, body string }{
		{"every unknown action", "unknown: deny"},
		{"control-plane versions", "controlPlaneVersion: 1.30.2-eks-1234"},
		{"kube-skew minimum", "catalog: {minimums: {kube-proxy: control-plane}}"},
		{"minimum of an added rule", "catalog:\n  rules:\n  - {id: acme, kind: addon, match: {images: [acme/op]}, minimum: 3.0.0, scheme: semver, source: s}\n  minimums: {acme: 3.1.0}\n  disable: [acme]"},
		{"token components", "exemptions: {components: [projected-token-expiration, legacy-token-secret]}"},
		{"added rule as component", "catalog:\n  rules:\n  - {id: acme, kind: addon, match: {images: [acme/op]}, minimum: 3.0.0, scheme: semver, source: s}\nexemptions: {components: [acme]}"},
		{"service account patterns", `exemptions: {serviceAccounts: ["*:default", "ci-*:runner-?", "system:serviceaccount:a:*"]}`},
		{"namespace patterns", `exemptions: {namespaces: ["*", "team-[a-c]-*", "x\\-y"]}`},
		{"image patterns", `exemptions: {images: ["**", "*/legacy/**", "busybox", "nginx@sha256:0123"]}`},
		{"insecure registries", `registry: {insecureRegistries: [localhost, "localhost:5000", "10.0.0.1:80", "[::1]", "[fd00::1]:5000", Registry.Example.COM]}`},
		{"timeout just under the limit", "registry: {timeout: 9.999s}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { mustParse(t, tt.body) })
	}
}

func TestValidateReturnsFieldErrors(t *testing.T) {
	_, err := Parse([]byte(header+"unknown: block\ncatalog: {minimums: {coredns: 1.x}}\n"), "c.yaml")
	var fe *field.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %v does not unwrap to *field.Error", err)
	}
	c := Default()
	c.Unknown = "block"
	c.CatalogConfig.Minimums = map[string]string{"coredns": "1.x", "amazon-vpc-cni": "x"}
	errs := Validate(c)
	var paths []string
	for _, e := range errs {
		paths = append(paths, e.Field)
	}
	want := []string{"unknown", "catalog.minimums[amazon-vpc-cni]", "catalog.minimums[coredns]"}
	if strings.Join(paths, ",") != strings.Join(want, ",") {
		t.Errorf("paths %v, want %v (sorted minimums, deterministic)", paths, want)
	}
}
