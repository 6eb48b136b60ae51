package main

import (
	"strings"
	"testing"

	"github.com/tokenguard/tokenguard/test/e2e"
)

// TestCheckRegistry: with --registry, check finds the client SDK in an SBOM
// attached to the image in a real registry on 127.0.0.1.
func TestCheckRegistry(t *testing.T) {
	reg := e2e.StartRegistry()
	defer reg.Close()
	old, err := reg.PushWithSBOM("acme/orders", "1.4.2", "pkg:golang/k8s.io/client-go@v11.0.0%2Bincompatible")
	if err != nil {
		t.Fatal(err)
	}
	current, err := reg.PushWithSBOM("acme/api", "2.0.0", "pkg:pypi/kubernetes@29.0.0")
	if err != nil {
		t.Fatal(err)
	}
	manifest := "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: team}\nspec:\n  containers:\n" +
		"  - {name: orders, image: " + old + "}\n  - {name: api, image: " + current + "}\n"

	code, out, errOut := runCLI(t, manifest, "check", "-o", "json", "--registry", "--insecure-registry", reg.Host, "-")
	if code != exitFindings {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := decodeReport(t, out)
	if len(r.Results) != 1 || len(r.Results[0].Findings) != 2 {
		t.Fatalf("results: %+v", r.Results)
	}
	for _, f := range r.Results[0].Findings {
		switch f.Container {
		case "orders":
			if f.Component != "k8s.io/client-go" || f.Version != "v11.0.0+incompatible" || f.Verdict != "too-old" || f.Source != "sbom:spdx-referrer" {
				t.Errorf("orders: %+v", f)
			}
		case "api":
			if f.Component != "pypi:kubernetes" || f.Verdict != "ok" {
				t.Errorf("api: %+v", f)
			}
		}
	}
	// Without --registry the same images are unknown.
	_, out, _ = runCLI(t, manifest, "check", "-o", "json", "-")
	if !strings.Contains(out, `"verdict": "unknown"`) || strings.Contains(out, "sbom:") {
		t.Errorf("tag-only check read the registry:\n%s", out)
	}
}
