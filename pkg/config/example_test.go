package config

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

const examplePath = "../../docs/tokenguard-config.example.yaml"

func TestExampleFile(t *testing.T) {
	c, err := Load(examplePath)
	if err != nil {
		t.Fatalf("the example configuration is invalid: %v", err)
	}
	if c.Unknown != UnknownWarn || c.ControlPlaneVersion != "v1.30" {
		t.Errorf("unknown %q, controlPlaneVersion %q", c.Unknown, c.ControlPlaneVersion)
	}
	if c.CatalogConfig.Minimums["coredns"] != "1.9.0" || !reflect.DeepEqual(c.CatalogConfig.Disable, []string{"gem:kubernetes-io"}) {
		t.Errorf("catalog overrides %+v", c.CatalogConfig)
	}
	r := c.Registry
	if !r.Enabled || r.Timeout.Duration != 1500*time.Millisecond || r.CacheEntries != 20000 || r.CacheBytes.Bytes != 128<<20 || r.MaxSBOMBytes.Bytes != 100<<20 {
		t.Errorf("registry %+v", r)
	}
	cat, err := c.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	pod := &policy.PodSpec{Containers: []policy.Container{{Name: "op", Image: "acme/legacy-operator:2.0.0"}}}
	fs := cat.Evaluate(pod, []*policy.Evidence{{Ref: hubRef("acme/legacy-operator", "2.0.0")}}, policy.Options{})
	if len(fs) != 1 || fs[0].Component != "acme-legacy-operator" || fs[0].Verdict != policy.VerdictTooOld {
		t.Errorf("the example's added rule: %+v", fs)
	}
	x, err := c.Exemptions.Compile()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ what, got string }{
		{"namespace", x.Namespace("team-a-sandbox")},
		{"service account", x.ServiceAccount("batch", "report-runner")},
		{"image", x.Image("busybox:1.36")},
		{"ECR image", x.Image("602401143452.dkr.ecr.eu-west-1.amazonaws.com/legacy/app:1")},
		{"component", x.Component("@kubernetes/client-node")},
	} {
		if tt.got == "" {
			t.Errorf("the example does not exempt the %s it shows", tt.what)
		}
	}
}

// TestExampleFileHasEveryField keeps the example complete: each JSON field
// of the configuration types is set in it.
func TestExampleFileHasEveryField(t *testing.T) {
	data := readFile(t, examplePath)
	for _, typ := range []reflect.Type{
		reflect.TypeFor[Configuration](), reflect.TypeFor[CatalogConfig](),
		reflect.TypeFor[Exemptions](), reflect.TypeFor[RegistryConfig](), reflect.TypeFor[LayersConfig](),
	} {
		for i := 0; i < typ.NumField(); i++ {
			tag, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			if !regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(tag) + `:`).Match(data) {
				t.Errorf("the example does not set %s.%s (%q)", typ.Name(), typ.Field(i).Name, tag)
			}
		}
	}
}
