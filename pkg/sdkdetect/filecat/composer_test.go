package filecat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// composer1Installed is an installed.json as Composer 1 wrote it: the
// array of packages alone.
const composer1Installed = `[
    {
        "name": "aws/aws-sdk-php",
        "version": "3.110.7",
        "version_normalized": "3.110.7.0",
        "source": {"type": "git", "url": "https://github.com/aws/aws-sdk-php.git", "reference": "0000000000000000000000000000000000000000"},
        "require": {"php": ">=5.5", "guzzlehttp/guzzle": "^5.3.3|^6.2.1"},
        "time": "2019-08-06T18:10:21+00:00",
        "type": "library",
        "installation-source": "dist"
    },
    {
        "name": "guzzlehttp/guzzle",
        "version": "6.3.3",
        "version_normalized": "6.3.3.0"
    }
]`

func TestComposerInstalled(t *testing.T) {
	const path = "/var/www/html/vendor/composer/installed.json"
	sdk := func(version string) []Found {
		return []Found{found(path, NameComposer, "composer", "aws", "aws-sdk-php", version)}
	}
	one := func(name, version string) []byte {
		return fmt.Appendf(nil, `{"packages": [{"name": %q, "version": %q}], "dev": false, "dev-package-names": []}`, name, version)
	}
	// An application with many packages, the SDK last.
	var large strings.Builder
	large.WriteString(`{"packages": [`)
	for i := range 2000 {
		fmt.Fprintf(&large, `{"name": "vendor%d/package", "version": "1.0.%d", "description": %q, "autoload": {"psr-4": {"V\\": "src/"}}},`, i, i, strings.Repeat("text ", 50))
	}
	large.WriteString(`{"name": "aws/aws-sdk-php", "version": "3.300.0"}]}`)

	tests := []readCase{
		{name: "Composer 2", content: readTestdata(t, "composer/uploader-installed.json"), want: sdk("3.287.1")},
		{name: "Composer 1", content: []byte(composer1Installed), want: sdk("3.110.7")},
		{name: "tag with v", content: one("aws/aws-sdk-php", "v3.287.1"), want: sdk("3.287.1")},
		{name: "branch", content: one("aws/aws-sdk-php", "dev-master"), notes: 1},
		{name: "branch alias", content: one("aws/aws-sdk-php", "3.x-dev"), notes: 1},
		{name: "no version", content: []byte(`{"packages": [{"name": "aws/aws-sdk-php"}]}`), notes: 1},
		{name: "another package", content: one("aws/aws-crt-php", "1.2.4")},
		{name: "no vendor", content: one("aws-sdk-php", "3.287.1")},
		{name: "packages after the rest", content: []byte(`{"dev": true, "dev-package-names": ["x/y"], "packages": [{"version": "3.287.1", "name": "aws/aws-sdk-php"}]}`), want: sdk("3.287.1")},
		{name: "odd members", content: []byte(`{"packages": [7, {"name": ["aws/aws-sdk-php"]}, {"name": "aws/aws-sdk-php", "version": 3}, null, {"name": "aws/aws-sdk-php", "version": "3.287.2"}]}`), want: sdk("3.287.2")},
		{name: "packages not a list", content: []byte(`{"packages": {"aws/aws-sdk-php": "3.287.1"}}`)},
		{name: "empty", content: []byte(`{"packages": [], "dev": true, "dev-package-names": []}`)},
		{name: "byte order mark", content: append([]byte("\xef\xbb\xbf"), one("aws/aws-sdk-php", "3.287.1")...), want: sdk("3.287.1")},
		{name: "large", content: []byte(large.String()), want: sdk("3.300.0")},
		{name: "beyond the cap", content: []byte(large.String()), lim: Limits{MaxFileBytes: 100000}, notes: 1},
		{name: "malformed", content: []byte(`{"packages": [{"name": "aws/aws-sdk-php", "version": "3.287.1"`), notes: 1},
		{name: "found, then malformed", content: []byte(`{"packages": [{"name": "aws/aws-sdk-php", "version": "3.287.1"}, {"name": `), want: sdk("3.287.1"), notes: 1},
		{name: "not JSON", content: []byte("<?php return array();\n"), notes: 1},
	}
	runReadCases(t, composerInstalled{}, path, tests)
	for path, want := range map[string]bool{
		"/var/www/html/vendor/composer/installed.json":       true,
		"/root/.composer/vendor/composer/installed.json":     true,
		"/app/lib/composer/installed.json":                   true, // a vendor-dir of another name
		"/var/www/html/composer.lock":                        false,
		"/var/www/html/composer.json":                        false,
		"/var/www/html/vendor/composer/installed.php":        false,
		"/var/www/html/vendor/aws/aws-sdk-php/composer.json": false,
		"/var/www/html/installed.json":                       false,
		"installed.json":                                     false,
	} {
		if got := (composerInstalled{}).Wants(File{Path: path, Size: 10}); got != want {
			t.Errorf("Wants(%s) = %v, want %v", path, got, want)
		}
	}
}

// BenchmarkComposerRead reads an installed.json of 3,000 packages (about
// 4 MiB, a large application's), the SDK last.
func BenchmarkComposerRead(b *testing.B) {
	one := readTestdata(b, "composer/uploader-installed.json")
	var doc struct{ Packages []json.RawMessage }
	if err := json.Unmarshal(one, &doc); err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	buf.WriteString(`{"packages": [`)
	for i := range 3000 {
		// The other packages of the file, renamed.
		p := doc.Packages[1+i%2]
		buf.Write(bytes.Replace(p, []byte(`"name": "`), fmt.Appendf(nil, `"name": "v%d`, i), 1))
		buf.WriteString(",\n")
	}
	buf.Write(doc.Packages[0])
	buf.WriteString("], \"dev\": true, \"dev-package-names\": []}")
	content := buf.Bytes()
	f := fileOf("/app/vendor/composer/installed.json", content)
	b.SetBytes(int64(len(content)))
	b.ReportAllocs()
	for b.Loop() {
		if res, err := (composerInstalled{}).Read(f, bytes.NewReader(content), Limits{}); err != nil || len(res.Found) != 1 {
			b.Fatal(res, err)
		}
	}
}
