package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStrictDecoding(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string
	}{
		{name: "unknown top-level field", body: "unknwon: warn", want: []string{`test.yaml: unknown field "unknwon"`}},
		{name: "unknown nested field", body: "registry: {timeot: 2s}", want: []string{`test.yaml: unknown field "registry.timeot"`}},
		{name: "unknown rule field", body: "catalog:\n  rules:\n  - {id: a, minimun: 1.0.0}", want: []string{`unknown field "catalog.rules[0].minimun"`}},
		{name: "several unknown fields", body: "unknwon: warn\nexemptions: {namespace: [a]}", want: []string{
			`test.yaml: unknown field "unknwon"`, `test.yaml: unknown field "exemptions.namespace"`}},
		{name: "duplicate field", body: "unknown: warn\nunknown: deny", want: []string{`test.yaml: line 4: duplicate field "unknown"`}},
		{name: "duplicate nested field", body: "catalog:\n  minimums:\n    coredns: 1.9.0\n    coredns: 1.9.1", want: []string{`test.yaml: line 6: duplicate field "coredns"`}},
		{name: "wrong type", body: "registry: {cacheEntries: many}", want: []string{`test.yaml: json: cannot unmarshal string into Go struct field RegistryConfig.registry.cacheEntries of type int`}},
		{name: "unquoted version", body: "catalog: {minimums: {coredns: 1.10}}", want: []string{`catalog.minimums of type string (quote versions`}},
		{name: "two documents", body: "unknown: warn\n---\n" + header + "unknown: deny", want: []string{`test.yaml: a configuration is one YAML document, found 2`}},
		{name: "not YAML", body: "exemptions: [", want: []string{`test.yaml: `, `yaml: line`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(header+tt.body+"\n"), "test.yaml")
			wantErr(t, err, tt.want...)
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("valid", func(t *testing.T) {
		c, err := Load(write("ok.yaml", header+"unknown: warn\n"))
		if err != nil || c.Unknown != UnknownWarn {
			t.Fatalf("Load = %+v, %v", c, err)
		}
	})
	t.Run("JSON", func(t *testing.T) {
		c, err := Load(write("ok.json", `{"apiVersion":"tokenguard.io/v1alpha1","kind":"TokenGuardConfiguration","unknown":"deny"}`))
		if err != nil || c.Unknown != UnknownDeny {
			t.Fatalf("Load = %+v, %v", c, err)
		}
	})
	t.Run("every error line starts with the file", func(t *testing.T) {
		p := write("config.yaml", header+"unknown: block\ncatalog: {minimums: {coredns: 1.x}}\nexemptions: {images: [ok, ok, \"[\"]}\n")
		_, err := Load(p)
		wantErr(t, err, p+`: catalog.minimums[coredns]: Invalid value: "1.x": `, p+`: unknown: Unsupported value: "block"`,
			p+`: exemptions.images[1]: Duplicate value: "ok"`, p+`: exemptions.images[2]: Invalid value: "[": malformed pattern`)
		lines := strings.Split(err.Error(), "\n")
		if len(lines) != 4 {
			t.Errorf("want 4 error lines, got %d:\n%v", len(lines), err)
		}
		for _, l := range lines {
			if !strings.HasPrefix(l, p+": ") {
				t.Errorf("line does not start with the path: %q", l)
			}
		}
	})
	t.Run("strict decoding error starts with the file", func(t *testing.T) {
		p := write("strict.yaml", header+"unknwon: warn\n")
		_, err := Load(p)
		wantErr(t, err, p+`: unknown field "unknwon"`)
	})
	t.Run("missing file", func(t *testing.T) {
		p := filepath.Join(dir, "nope.yaml")
		_, err := Load(p)
		wantErr(t, err, p+": ")
		if !strings.HasPrefix(err.Error(), p+": ") || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("error %q: want the path first and fs.ErrNotExist", err)
		}
	})
	t.Run("empty file", func(t *testing.T) {
		p := write("empty.yaml", "")
		_, err := Load(p)
		wantErr(t, err, p+`: apiVersion: Unsupported value: ""`)
	})
}
