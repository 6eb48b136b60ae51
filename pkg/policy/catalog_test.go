package policy

import (
	"fmt"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestDefaultCatalogLoads checks the shape of the embedded catalog without
// restating it: what each rule matches and where its minimum lies is pinned
// by its fixture under testdata/rules (rules_test.go).
func TestDefaultCatalogLoads(t *testing.T) {
	c, err := DefaultCatalog()
	if err != nil {
		t.Fatalf("embedded catalog: %v", err)
	}
	if c.Version() == "" {
		t.Error("embedded catalog has no version")
	}
	if len(c.Rules()) == 0 {
		t.Fatal("embedded catalog has no rules")
	}
	seen := map[string]bool{}
	kinds := map[string]int{}
	for i, r := range c.Rules() {
		if r.ID == "" || seen[r.ID] {
			t.Errorf("rules[%d]: id %q is empty or repeated", i, r.ID)
		}
		seen[r.ID] = true
		kinds[r.Kind]++
		if r.Source == "" {
			t.Errorf("rule %s cites no source", r.ID)
		}
		if r.Minimum == "" {
			t.Errorf("rule %s has no minimum", r.ID)
		}
		if len(r.Match.PURLs)+len(r.Match.Images) == 0 {
			t.Errorf("rule %s matches nothing", r.ID)
		}
	}
	// The catalog covers both client SDKs and cluster add-ons.
	if kinds[KindSDK] == 0 || kinds[KindAddon] == 0 {
		t.Errorf("rule kinds %v, want both %s and %s", kinds, KindSDK, KindAddon)
	}
}

// ruleIndex returns the index of the first rule of doc that satisfies
// match, failing the test when none does: error-path tests pick rules by
// what they are, not by where the catalog happens to list them.
func ruleIndex(t *testing.T, doc *CatalogDocument, what string, match func(*RuleSpec) bool) int {
	t.Helper()
	for i := range doc.Rules {
		if match(&doc.Rules[i]) {
			return i
		}
	}
	t.Fatalf("the embedded catalog has no %s rule", what)
	return -1
}

func isSDK(r *RuleSpec) bool   { return r.Kind == KindSDK }
func isAddon(r *RuleSpec) bool { return r.Kind == KindAddon }

// isSemverAddon picks a rule whose scheme rejects a word as a minimum (the
// rubygems scheme, for one, accepts "unreleased").
func isSemverAddon(r *RuleSpec) bool { return r.Kind == KindAddon && r.Scheme == "semver" }
func isKubeSkew(r *RuleSpec) bool    { return r.Scheme == SchemeKubeSkew }

func TestLoadCatalogErrors(t *testing.T) {
	base := func() CatalogDocument {
		var doc CatalogDocument
		if err := yaml.Unmarshal(defaultCatalogYAML, &doc); err != nil {
			t.Fatal(err)
		}
		return doc
	}
	doc := base()
	sdk := ruleIndex(t, &doc, "sdk", isSDK)
	addon := ruleIndex(t, &doc, "addon", isAddon)
	semverAddon := ruleIndex(t, &doc, "semver addon", isSemverAddon)
	kubeSkew := ruleIndex(t, &doc, SchemeKubeSkew, isKubeSkew)
	first, second := min(sdk, addon), max(sdk, addon)
	rule := func(i int, rest string) string { return fmt.Sprintf("rules[%d]%s", i, rest) }
	tests := []struct {
		name   string
		mutate func(*CatalogDocument)
		raw    string
		want   []string
	}{
		{name: "duplicate id", mutate: func(d *CatalogDocument) { d.Rules[second].ID = d.Rules[first].ID },
			want: []string{rule(second, ".id: Duplicate value"), "also " + rule(first, ".id")}},
		{name: "unparsable minimum", mutate: func(d *CatalogDocument) { d.Rules[semverAddon].Minimum = "twelve" },
			want: []string{rule(semverAddon, ".minimum: Invalid value: \"twelve\"")}},
		{name: "unknown scheme", mutate: func(d *CatalogDocument) { d.Rules[sdk].Scheme = "calver" },
			want: []string{rule(sdk, ".scheme: Unsupported value: \"calver\""), "semver"}},
		{name: "unknown kind", mutate: func(d *CatalogDocument) { d.Rules[sdk].Kind = "library" },
			want: []string{rule(sdk, ".kind: Unsupported value: \"library\"")}},
		{name: "missing source", mutate: func(d *CatalogDocument) { d.Rules[addon].Source = "" },
			want: []string{rule(addon, ".source: Required value")}},
		{name: "addon without images", mutate: func(d *CatalogDocument) { d.Rules[addon].Match.Images = nil },
			want: []string{rule(addon, ".match.images: Required value")}},
		{name: "image pattern with tag", mutate: func(d *CatalogDocument) { d.Rules[addon].Match.Images[0] = "eks/coredns:v1" },
			want: []string{rule(addon, ".match.images[0]: Invalid value")}},
		{name: "sdk without purls", mutate: func(d *CatalogDocument) { d.Rules[sdk].Match.PURLs = nil },
			want: []string{rule(sdk, ".match.purls: Required value")}},
		{name: "kube-skew with a version", mutate: func(d *CatalogDocument) { d.Rules[kubeSkew].Minimum = "1.29" },
			want: []string{rule(kubeSkew, ".minimum: Invalid value: \"1.29\""), "control-plane"}},
		{name: "wrong apiVersion", mutate: func(d *CatalogDocument) { d.APIVersion = "v1" },
			want: []string{"apiVersion: Unsupported value: \"v1\""}},
		{name: "unknown field", raw: "apiVersion: tokenguard.io/v1alpha1\nkind: Catalog\nrules:\n- id: x\n  minimun: 1.0\n",
			want: []string{`unknown field "rules[0].minimun"`}},
		{name: "not yaml", raw: "rules: [", want: []string{"catalog:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.raw)
			if tt.mutate != nil {
				doc := base()
				tt.mutate(&doc)
				var err error
				if data, err = yaml.Marshal(doc); err != nil {
					t.Fatal(err)
				}
			}
			_, err := LoadCatalog(data)
			if err == nil {
				t.Fatal("LoadCatalog accepted an invalid catalog")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestDisabledRuleIsDropped(t *testing.T) {
	var doc CatalogDocument
	if err := yaml.Unmarshal(defaultCatalogYAML, &doc); err != nil {
		t.Fatal(err)
	}
	i := ruleIndex(t, &doc, "addon", isAddon)
	ref := &ImageRef{Repository: doc.Rules[i].Match.Images[0]}
	c, err := Compile(doc)
	if err != nil {
		t.Fatal(err)
	}
	if r := c.MatchImage(ref); r == nil || r.ID != doc.Rules[i].ID {
		t.Fatalf("enabled rule %s does not match its own pattern %q: %v", doc.Rules[i].ID, ref.Repository, r)
	}
	doc.Rules[i].Disabled = true
	if c, err = Compile(doc); err != nil {
		t.Fatal(err)
	}
	if r := c.MatchImage(ref); r != nil && r.ID == doc.Rules[i].ID {
		t.Errorf("disabled rule still matches: %s", r.ID)
	}
}
