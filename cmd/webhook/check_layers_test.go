package main

import (
	"strings"
	"testing"

	"github.com/tokenguard/tokenguard/test/e2e"
)

// TestCheckScanLayers: with --registry --scan-layers, check reads the
// client SDK of an application image without an SBOM from its files and
// names the file; without --scan-layers the same image is unknown.
func TestCheckScanLayers(t *testing.T) {
	reg := e2e.StartRegistry()
	defer reg.Close()
	base := map[string]string{"etc/os-release": "ID=debian\n", "usr/bin/node": "#!fake"}
	old, err := reg.PushFiles("shop/orders", "2.4.1", base, map[string]string{
		"app/package.json": `{"name":"orders","dependencies":{"@kubernetes/client-node":"^0.10.0"}}`,
		"app/node_modules/@kubernetes/client-node/package.json": `{"name":"@kubernetes/client-node","version":"0.10.2"}`,
	})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := reg.PushFiles("shop/web", "1.0", base, map[string]string{"srv/index.html": "<html></html>"})
	if err != nil {
		t.Fatal(err)
	}
	manifest := "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  containers:\n" +
		"  - {name: orders, image: " + old + "}\n  - {name: web, image: " + plain + "}\n"

	code, out, errOut := runCLI(t, manifest, "check", "-o", "json", "--registry", "--scan-layers", "--insecure-registry", reg.Host, "-")
	if code != exitFindings {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	r := decodeReport(t, out)
	if len(r.Results) != 1 || len(r.Results[0].Findings) != 2 {
		t.Fatalf("results: %+v", r.Results)
	}
	for _, f := range r.Results[0].Findings {
		switch f.Container {
		case "orders":
			if f.Component != "@kubernetes/client-node" || f.Version != "0.10.2" || f.Verdict != "too-old" ||
				!strings.Contains(f.Message(), "(found in /app/node_modules/@kubernetes/client-node/package.json)") {
				t.Errorf("orders: %+v", f)
			}
		case "web":
			if f.Verdict != "ok" || f.Reason != "no-sdk-in-layers" || f.Source != "layers" {
				t.Errorf("web: %+v", f)
			}
		}
	}
	// Without --scan-layers: unknown, as before.
	_, out, _ = runCLI(t, manifest, "check", "-o", "json", "--registry", "--insecure-registry", reg.Host, "-")
	if strings.Contains(out, "too-old") || !strings.Contains(out, `"verdict": "unknown"`) {
		t.Errorf("without --scan-layers:\n%s", out)
	}
	if code, _, errOut := runCLI(t, manifest, "check", "--scan-layers", "-"); code != exitUsage || !strings.Contains(errOut, "add --registry") {
		t.Errorf("--scan-layers without --registry: exit %d, %q", code, errOut)
	}
}
