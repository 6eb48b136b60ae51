package policy

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestDefaultCatalogLoads(t *testing.T) {
	c, err := DefaultCatalog()
	if err != nil {
		t.Fatalf("embedded catalog: %v", err)
	}
	if c.Version() == "" {
		t.Error("embedded catalog has no version")
	}
	// Every SDK and add-on row of FACTS.md is in the catalog.
	want := map[string]string{
		"k8s.io/client-go":                             "v0.15.7",
		"pypi:kubernetes":                              "12.0.0",
		"io.kubernetes:client-java":                    "9.0.0",
		"@kubernetes/client-node":                      "0.10.3",
		"gem:kubernetes-io":                            "unreleased",
		"hackage:kubernetes-client":                    "0.3.0.0",
		"nuget:KubernetesClient":                       "7.0.5",
		"gem:fluent-plugin-kubernetes_metadata_filter": "2.11.1",
		"amazon-vpc-cni":                               "1.8.0",
		"cni-metrics-helper":                           "1.8.0",
		"coredns":                                      "1.8.4",
		"aws-load-balancer-controller":                 "2.0.0",
		"kube-proxy":                                   "control-plane",
		"aws-for-fluent-bit":                           "2.25.0",
		"fluentd":                                      "1.14.6-1.2",
	}
	got := map[string]string{}
	for _, r := range c.Rules() {
		got[r.ID] = r.Minimum
		if r.Source == "" {
			t.Errorf("rule %s cites no source", r.ID)
		}
	}
	for id, min := range want {
		if got[id] != min {
			t.Errorf("rule %s: minimum %q, want %q", id, got[id], min)
		}
	}
	if len(got) != len(want) {
		t.Errorf("catalog has %d rules, want %d: %v", len(got), len(want), got)
	}
}

func TestLoadCatalogErrors(t *testing.T) {
	base := func() CatalogDocument {
		var doc CatalogDocument
		if err := yaml.Unmarshal(defaultCatalogYAML, &doc); err != nil {
			t.Fatal(err)
		}
		return doc
	}
	tests := []struct {
		name   string
		mutate func(*CatalogDocument)
		raw    string
		want   []string
	}{
		{name: "duplicate id", mutate: func(d *CatalogDocument) { d.Rules[3].ID = d.Rules[0].ID },
			want: []string{"rules[3].id: Duplicate value", "also rules[0].id"}},
		{name: "unparsable minimum", mutate: func(d *CatalogDocument) { d.Rules[1].Minimum = "twelve" },
			want: []string{"rules[1].minimum: Invalid value: \"twelve\""}},
		{name: "unknown scheme", mutate: func(d *CatalogDocument) { d.Rules[2].Scheme = "calver" },
			want: []string{"rules[2].scheme: Unsupported value: \"calver\"", "semver"}},
		{name: "unknown kind", mutate: func(d *CatalogDocument) { d.Rules[0].Kind = "library" },
			want: []string{"rules[0].kind: Unsupported value: \"library\""}},
		{name: "missing source", mutate: func(d *CatalogDocument) { d.Rules[4].Source = "" },
			want: []string{"rules[4].source: Required value"}},
		{name: "addon without images", mutate: func(d *CatalogDocument) { d.Rules[9].Match.Images = nil },
			want: []string{"rules[9].match.images: Required value"}},
		{name: "image pattern with tag", mutate: func(d *CatalogDocument) { d.Rules[9].Match.Images[0] = "eks/coredns:v1" },
			want: []string{"rules[9].match.images[0]: Invalid value"}},
		{name: "kube-skew with a version", mutate: func(d *CatalogDocument) {
			for i := range d.Rules {
				if d.Rules[i].ID == "kube-proxy" {
					d.Rules[i].Minimum = "1.29"
				}
			}
		}, want: []string{".minimum: Invalid value: \"1.29\"", "control-plane"}},
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
	for i := range doc.Rules {
		if doc.Rules[i].ID == "coredns" {
			doc.Rules[i].Disabled = true
		}
	}
	c, err := Compile(doc)
	if err != nil {
		t.Fatal(err)
	}
	if r := c.MatchImage(&ImageRef{Repository: "eks/coredns"}); r != nil {
		t.Errorf("disabled rule still matches: %s", r.ID)
	}
}
