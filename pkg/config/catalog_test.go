package config

import (
	"reflect"
	"strings"
	"testing"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// evaluateImage evaluates a one-container pod with the given image
// reference and returns its findings.
func evaluateImage(t *testing.T, c *Configuration, ref policy.ImageRef) []policy.Finding {
	t.Helper()
	cat, err := c.Catalog()
	if err != nil {
		t.Fatalf("Catalog: %v", err)
	}
	pod := &policy.PodSpec{Containers: []policy.Container{{Name: "app", Image: ref.Original}}}
	return cat.Evaluate(pod, []*policy.Evidence{{Ref: ref}}, policy.Options{})
}

func hubRef(repo, tag string) policy.ImageRef {
	return policy.ImageRef{Original: repo + ":" + tag, Registry: "docker.io", Repository: repo, Tag: tag}
}

func TestCatalogOverrides(t *testing.T) {
	const acme = "catalog:\n  rules:\n  - id: acme-legacy-operator\n    kind: addon\n    match: {images: [acme/legacy-operator]}\n    scheme: semver\n    minimum: 3.0.0\n    source: ACME 3.0.0 release notes\n"
	tests := []struct {
		name      string
		body      string
		ref       policy.ImageRef
		component string
		verdict   policy.Verdict
		minimum   string
		fixHave   string // the fix names the minimum in force
	}{
		{name: "default coredns 1.8.4 is ok", ref: hubRef("coredns/coredns", "1.8.4"),
			component: "coredns", verdict: policy.VerdictOK, minimum: "1.8.4"},
		{name: "raised coredns minimum makes 1.8.4 too old", body: "catalog: {minimums: {coredns: 1.9.0}}", ref: hubRef("coredns/coredns", "1.8.4"),
			component: "coredns", verdict: policy.VerdictTooOld, minimum: "1.9.0", fixHave: "update CoreDNS to v1.9.0 or later"},
		{name: "lowered minimum", body: "catalog: {minimums: {amazon-vpc-cni: 1.7.0}}", ref: hubRef("amazon/amazon-k8s-cni", "v1.7.5"),
			component: "amazon-vpc-cni", verdict: policy.VerdictOK, minimum: "1.7.0"},
		{name: "disabled coredns no longer matches", body: "catalog: {disable: [coredns]}", ref: hubRef("coredns/coredns", "1.6.0"),
			component: policy.ComponentNoSDKEvidence},
		{name: "added addon rule is evaluated", body: acme, ref: hubRef("acme/legacy-operator", "2.9.1"),
			component: "acme-legacy-operator", verdict: policy.VerdictTooOld, minimum: "3.0.0"},
		{name: "added rule passes a new version", body: acme, ref: hubRef("acme/legacy-operator", "3.0.1"),
			component: "acme-legacy-operator", verdict: policy.VerdictOK, minimum: "3.0.0"},
		{name: "minimum of an added rule", body: acme + "  minimums: {acme-legacy-operator: 3.5.0}", ref: hubRef("acme/legacy-operator", "3.0.1"),
			component: "acme-legacy-operator", verdict: policy.VerdictTooOld, minimum: "3.5.0", fixHave: "update acme-legacy-operator to 3.5.0 or later"},
		{name: "replaced rule", body: "catalog:\n  rules:\n  - {id: coredns, kind: addon, match: {images: [coredns/coredns]}, scheme: semver, minimum: 2.0.0, source: ours}",
			ref: hubRef("coredns/coredns", "1.11.0"), component: "coredns", verdict: policy.VerdictTooOld, minimum: "2.0.0"},
		{name: "replaced rule drops the default's image patterns", body: "catalog:\n  rules:\n  - {id: coredns, kind: addon, match: {images: [eks/coredns]}, scheme: semver, minimum: 2.0.0, source: ours}",
			ref: hubRef("coredns/coredns", "1.0.0"), component: policy.ComponentNoSDKEvidence},
		{name: "disabled added rule", body: acme + "  disable: [acme-legacy-operator]", ref: hubRef("acme/legacy-operator", "1.0.0"),
			component: policy.ComponentNoSDKEvidence},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, tt.body)
			fs := evaluateImage(t, c, tt.ref)
			if len(fs) != 1 {
				t.Fatalf("want one finding, got %+v", fs)
			}
			f := fs[0]
			if f.Component != tt.component {
				t.Fatalf("component %q, want %q (%+v)", f.Component, tt.component, f)
			}
			if tt.component == policy.ComponentNoSDKEvidence {
				return
			}
			if f.Verdict != tt.verdict || f.Minimum != tt.minimum {
				t.Errorf("verdict %s minimum %s, want %s %s: %+v", f.Verdict, f.Minimum, tt.verdict, tt.minimum, f)
			}
			if !strings.Contains(f.Fix, tt.fixHave) {
				t.Errorf("fix %q does not contain %q", f.Fix, tt.fixHave)
			}
		})
	}
}

func TestCatalogDocument(t *testing.T) {
	def, err := defaultDocument()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("no overrides is the default catalog", func(t *testing.T) {
		doc, err := Default().CatalogDocument()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(doc, def) {
			t.Error("CatalogDocument() of the default configuration differs from the embedded catalog")
		}
		cat, err := Default().Catalog()
		if err != nil || cat.Version() != def.Version || len(cat.Rules()) != len(def.Rules) {
			t.Errorf("Catalog() = %v, %v", cat, err)
		}
	})
	t.Run("order, version, fix and source", func(t *testing.T) {
		c := mustParse(t, "catalog:\n  rules:\n  - {id: coredns, kind: addon, match: {images: [coredns]}, scheme: semver, minimum: 1.0.0, fix: update to v1.0.0 or later, source: ours}\n"+
			"  - {id: zz, kind: addon, match: {images: [zz]}, scheme: semver, minimum: 1.0.0, source: s}\n"+
			"  minimums: {coredns: 1.2.0, k8s.io/client-go: v0.16.0, gem:kubernetes-io: 1.0.0}\n  disable: [fluentd]")
		doc, err := c.CatalogDocument()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(doc.Version, def.Version+"+config.") || len(doc.Version) != len(def.Version)+len("+config.")+8 {
			t.Errorf("version %q, want %s+config.<8 hex digits>", doc.Version, def.Version)
		}
		// The same configuration, the same version; another minimum, another.
		again, _ := mustParse(t, "catalog:\n  rules:\n  - {id: coredns, kind: addon, match: {images: [coredns]}, scheme: semver, minimum: 1.0.0, fix: update to v1.0.0 or later, source: ours}\n"+
			"  - {id: zz, kind: addon, match: {images: [zz]}, scheme: semver, minimum: 1.0.0, source: s}\n"+
			"  minimums: {coredns: 1.2.0, k8s.io/client-go: v0.16.0, gem:kubernetes-io: 1.0.0}\n  disable: [fluentd]").CatalogDocument()
		other, _ := mustParse(t, "catalog:\n  minimums: {k8s.io/client-go: v0.16.1}").CatalogDocument()
		if again.Version != doc.Version || other.Version == doc.Version || !strings.HasPrefix(other.Version, def.Version+"+config.") {
			t.Errorf("versions: %q, again %q, another configuration %q", doc.Version, again.Version, other.Version)
		}
		byID := map[string]policy.RuleSpec{}
		pos := map[string]int{}
		for i, r := range doc.Rules {
			byID[r.ID], pos[r.ID] = r, i
		}
		if len(doc.Rules) != len(def.Rules)+1 || pos["zz"] != len(def.Rules) {
			t.Errorf("added rule not appended: %d rules, zz at %d", len(doc.Rules), pos["zz"])
		}
		if pos["coredns"] != indexOf(def.Rules, "coredns") {
			t.Errorf("replaced rule moved to %d", pos["coredns"])
		}
		if r := byID["coredns"]; r.Minimum != "1.2.0" || r.Fix != "update to v1.2.0 or later" || !strings.HasPrefix(r.Source, "tokenguard configuration catalog.minimums[coredns] (default 1.0.0: ours") {
			t.Errorf("coredns = %+v", r)
		}
		if r := byID["k8s.io/client-go"]; r.Minimum != "v0.16.0" || !strings.HasPrefix(r.Fix, "upgrade k8s.io/client-go to v0.16.0 or later (") {
			t.Errorf("client-go fix = %q", r.Fix)
		}
		if r := byID["gem:kubernetes-io"]; r.Fix != "upgrade Kubernetes Ruby client (kubernetes-io gem) to 1.0.0 or later" {
			t.Errorf("kubernetes-io fix = %q", r.Fix)
		}
		if !byID["fluentd"].Disabled || byID["coredns"].Disabled {
			t.Error("disable not applied to fluentd only")
		}
		cat, err := c.Catalog()
		if err != nil {
			t.Fatal(err)
		}
		if len(cat.Rules()) != len(doc.Rules)-1 {
			t.Errorf("compiled %d rules, want %d enabled", len(cat.Rules()), len(doc.Rules)-1)
		}
	})
	t.Run("result shares no memory", func(t *testing.T) {
		c := mustParse(t, "catalog:\n  rules:\n  - {id: zz, kind: addon, match: {images: [zz]}, scheme: semver, minimum: 1.0.0, source: s}")
		doc, _ := c.CatalogDocument()
		// A default rule matched by purl (whichever comes first), and the
		// added rule, which CatalogDocument appends.
		sdk := indexOfKind(doc.Rules, policy.KindSDK)
		if sdk < 0 {
			t.Fatal("the default catalog has no sdk rule")
		}
		doc.Rules[sdk].Match.PURLs[0].Name = "changed"
		doc.Rules[len(doc.Rules)-1].Match.Images[0] = "changed"
		again, _ := c.CatalogDocument()
		if again.Rules[sdk].Match.PURLs[0].Name == "changed" || c.CatalogConfig.Rules[0].Match.Images[0] == "changed" {
			t.Error("CatalogDocument shares memory with the default catalog or the configuration")
		}
	})
	t.Run("unvalidated unknown ids are errors", func(t *testing.T) {
		c := Default()
		c.CatalogConfig.Minimums = map[string]string{"nope": "1"}
		c.CatalogConfig.Disable = []string{"nada"}
		_, err := c.CatalogDocument()
		wantErr(t, err, "catalog.minimums[nope]: no rule has this id", `catalog.disable[0]: no rule has the id "nada"`)
		if _, err := c.Catalog(); err == nil {
			t.Error("Catalog() accepted unknown ids")
		}
	})
	t.Run("unvalidated bad rule is an error from Catalog", func(t *testing.T) {
		c := Default()
		c.CatalogConfig.Rules = []policy.RuleSpec{{ID: "x", Kind: "addon"}}
		_, err := c.Catalog()
		wantErr(t, err, "catalog: ", "match.images: Required value")
	})
}

func indexOf(rules []policy.RuleSpec, id string) int {
	for i := range rules {
		if rules[i].ID == id {
			return i
		}
	}
	return -1
}

// indexOfKind returns the index of the first rule of the kind, or -1.
func indexOfKind(rules []policy.RuleSpec, kind string) int {
	for i := range rules {
		if rules[i].Kind == kind {
			return i
		}
	}
	return -1
}

func TestReplaceVersion(t *testing.T) {
	tests := []struct {
		name, s, old, new, want string
		ok                      bool
	}{
		{"with v prefix", "update CoreDNS to v1.8.4 or later", "1.8.4", "1.9.0", "update CoreDNS to v1.9.0 or later", true},
		{"same spelling", "upgrade x to v0.15.7 or later (v12.0.0 does)", "v0.15.7", "v0.16.0", "upgrade x to v0.16.0 or later (v12.0.0 does)", true},
		{"end of sentence", "use 2.0.0.", "2.0.0", "2.1.0", "use 2.1.0.", true},
		{"every occurrence", "1.0.0 or 1.0.0", "1.0.0", "2.0.0", "2.0.0 or 2.0.0", true},
		{"not inside a longer version", "use 11.8.4 or 1.8.4-1", "1.8.4", "1.9.0", "use 11.8.4 or 1.8.4-1", false},
		{"not after a word", "kv1.8.4", "1.8.4", "2", "kv1.8.4", false},
		{"absent", "build from master", "unreleased", "1.0.0", "build from master", false},
		{"empty old", "x", "", "1", "x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := replaceVersion(tt.s, tt.old, tt.new)
			if got != tt.want || ok != tt.ok {
				t.Errorf("replaceVersion(%q, %q, %q) = %q, %v; want %q, %v", tt.s, tt.old, tt.new, got, ok, tt.want, tt.ok)
			}
		})
	}
}
