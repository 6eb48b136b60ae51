package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenguard/tokenguard/pkg/policy"
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

// TestCheckRegistryEverySDK: every SDK of the catalog, found through an SBOM
// in a real registry, at a too-old and (where one exists) an ok version.
func TestCheckRegistryEverySDK(t *testing.T) {
	reg := e2e.StartRegistry()
	defer reg.Close()
	cases := []struct {
		component, purl, verdict string
	}{
		{"k8s.io/client-go", "pkg:golang/k8s.io/client-go@v0.14.2", "too-old"},
		{"k8s.io/client-go", "pkg:golang/k8s.io/client-go@v0.29.3", "ok"},
		{"pypi:kubernetes", "pkg:pypi/kubernetes@11.0.0", "too-old"},
		{"pypi:kubernetes", "pkg:pypi/kubernetes@29.0.0", "ok"},
		{"io.kubernetes:client-java", "pkg:maven/io.kubernetes/client-java@8.0.2", "too-old"},
		{"io.kubernetes:client-java", "pkg:maven/io.kubernetes/client-java-api@9.0.0", "ok"},
		{"@kubernetes/client-node", "pkg:npm/%40kubernetes/client-node@0.10.2", "too-old"},
		{"@kubernetes/client-node", "pkg:npm/%40kubernetes/client-node@0.10.3", "ok"},
		{"gem:kubernetes-io", "pkg:gem/kubernetes-io@1.0.0.pre.alpha2", "too-old"},
		{"hackage:kubernetes-client", "pkg:hackage/kubernetes-client@0.2.0.1", "too-old"},
		{"hackage:kubernetes-client", "pkg:hackage/kubernetes-client@0.3.0.0", "ok"},
		{"nuget:KubernetesClient", "pkg:nuget/KubernetesClient@7.0.4", "too-old"},
		{"nuget:KubernetesClient", "pkg:nuget/KubernetesClient@7.0.5", "ok"},
		{"gem:fluent-plugin-kubernetes_metadata_filter", "pkg:gem/fluent-plugin-kubernetes_metadata_filter@2.11.0", "too-old"},
		{"gem:fluent-plugin-kubernetes_metadata_filter", "pkg:gem/fluent-plugin-kubernetes_metadata_filter@2.11.1", "ok"},
	}
	var manifest strings.Builder
	manifest.WriteString("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: team}\nspec:\n  containers:\n")
	for i, c := range cases {
		image, err := reg.PushWithSBOM("acme/sdk", fmt.Sprintf("v%d", i), c.purl)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&manifest, "  - {name: c%02d, image: %q}\n", i, image)
	}
	code, out, errOut := runCLI(t, manifest.String(), "check", "-o", "json", "--registry", "--insecure-registry", reg.Host, "-")
	if code != exitFindings {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := decodeReport(t, out)
	got := map[string]string{}
	for _, f := range r.Results[0].Findings {
		got[f.Container] = f.Component + " " + string(f.Verdict) + " " + f.Source
	}
	for i, c := range cases {
		want := c.component + " " + c.verdict + " sbom:spdx-referrer"
		if g := got[fmt.Sprintf("c%02d", i)]; g != want {
			t.Errorf("%s: got %q, want %q", c.purl, g, want)
		}
	}
}

// TestCheckRegistryMaxSBOMBytes: registry.maxSBOMBytes of the --config file
// reaches the registry lookups: an SBOM above it is not read, and the
// finding says so, naming the setting, instead of the SDK's verdict.
func TestCheckRegistryMaxSBOMBytes(t *testing.T) {
	reg := e2e.StartRegistry()
	defer reg.Close()
	purls := []string{"pkg:golang/k8s.io/client-go@v0.14.2"}
	for i := range 20 { // filler packages: an SBOM of a few KiB
		purls = append(purls, fmt.Sprintf("pkg:golang/example.com/filler/module-number-%02d@v1.2.%d", i, i))
	}
	image, err := reg.PushWithSBOM("acme/big", "1.0", purls...)
	if err != nil {
		t.Fatal(err)
	}
	manifest := "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: team}\nspec:\n  containers:\n  - {name: app, image: " + image + "}\n"
	cfg := filepath.Join(t.TempDir(), "tokenguard.yaml")
	if err := os.WriteFile(cfg, []byte("apiVersion: tokenguard.io/v1alpha1\nkind: TokenGuardConfiguration\nregistry: {maxSBOMBytes: 1Ki}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, out, errOut := runCLI(t, manifest, "check", "-o", "json", "--registry", "--insecure-registry", reg.Host, "--config", cfg, "-")
	r := decodeReport(t, out)
	if len(r.Results) != 1 || len(r.Results[0].Findings) != 1 {
		t.Fatalf("results: %+v\n%s", r.Results, errOut)
	}
	f := r.Results[0].Findings[0]
	if f.Verdict != "unknown" || f.Reason != policy.ReasonNoSDKEvidence || !strings.Contains(f.Detail, "larger than the limit of 1024 bytes (registry.maxSBOMBytes)") {
		t.Errorf("with maxSBOMBytes 1Ki: %+v", f)
	}
	_, out, _ = runCLI(t, manifest, "check", "-o", "json", "--registry", "--insecure-registry", reg.Host, "-")
	if f := decodeReport(t, out).Results[0].Findings[0]; f.Verdict != "too-old" {
		t.Errorf("with the default limit: %+v", f)
	}
}

// TestCheckRegistryDeadline: a registry that never answers holds check for
// --registry-deadline in all, however many images and however long
// --registry-timeout is; the images are unknown with the reason.
func TestCheckRegistryDeadline(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer hang.Close()
	defer close(release)
	host := strings.TrimPrefix(hang.URL, "http://")
	var manifest strings.Builder
	for i := range 4 {
		fmt.Fprintf(&manifest, "---\napiVersion: v1\nkind: Pod\nmetadata: {name: p%d, namespace: team}\nspec:\n  containers:\n  - {name: app, image: %s/acme/app%d:1.0}\n", i, host, i)
	}
	code, out, errOut := runCLI(t, manifest.String(), "check", "-o", "json", "--registry", "--insecure-registry", host,
		"--registry-timeout", "1h", "--registry-deadline", "200ms", "-")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := decodeReport(t, out)
	if len(r.Results) != 4 {
		t.Fatalf("results: %+v", r.Results)
	}
	for _, res := range r.Results {
		f := res.Findings[0]
		if f.Verdict != policy.VerdictUnknown || !strings.Contains(f.Detail, "did not answer within") {
			t.Errorf("%s: %+v", res.Name, f)
		}
	}
}
