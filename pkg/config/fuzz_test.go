package config

import (
	"encoding/json"
	"os"
	"testing"
)

func FuzzParse(f *testing.F) {
	f.Add([]byte(header))
	f.Add([]byte(header + "unknown: deny\ncontrolPlaneVersion: v1.30\n"))
	f.Add([]byte(header + "catalog: {minimums: {coredns: 1.9.0}, disable: [fluentd]}\n"))
	f.Add([]byte(header + "catalog:\n  rules:\n  - {id: acme, kind: addon, match: {images: [acme/op]}, minimum: 3.0.0, scheme: semver, source: s}\n"))
	f.Add([]byte(header + "exemptions: {namespaces: [a, \"b-*\"], serviceAccounts: [\"a:*\"], images: [\"**/x:[0-9]*\"], components: [coredns]}\n"))
	f.Add([]byte(header + "registry: {enabled: true, timeout: 1s, cacheEntries: 5, cacheBytes: 1Mi, insecureRegistries: [\"[::1]:5000\"]}\n"))
	f.Add([]byte(header + "unknwon: warn\nunknown: warn\nunknown: deny\n"))
	f.Add([]byte(`{"apiVersion":"tokenguard.io/v1alpha1","kind":"TokenGuardConfiguration","registry":{"cacheBytes":0.5}}`))
	if b, err := os.ReadFile(examplePath); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.yaml")
		if err != nil {
			if c != nil {
				t.Fatal("Parse returned a configuration with an error")
			}
			return
		}
		// A successful parse validates, compiles, and survives a round trip.
		if errs := Validate(c); len(errs) > 0 {
			t.Fatalf("parsed configuration does not validate: %v", errs)
		}
		if _, err := c.Catalog(); err != nil {
			t.Fatalf("parsed configuration does not compile its catalog: %v", err)
		}
		x, err := c.Exemptions.Compile()
		if err != nil {
			t.Fatalf("parsed configuration does not compile its exemptions: %v", err)
		}
		_ = x.Namespace("default") + x.ServiceAccount("default", "") + x.Image("busybox:1") + x.Component("coredns")
		out, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		if _, err := Parse(out, "roundtrip.json"); err != nil {
			t.Fatalf("round trip of a valid configuration fails: %v\n%s", err, out)
		}
	})
}
