package sdkdetect

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// realWorldFiles lists testdata/realworld: SBOMs shaped as real tools write
// them (testdata/realworld/README.md says where each shape comes from),
// with what ParseSBOM must find in each, filtered by the default catalog
// as tokenguard serve does.
var realWorldFiles = []struct {
	file             string
	format, envelope string
	want             []policy.Package
	entries, purls   int
	err              error  // when the document must fail
	errMsg           string // a substring of that error
}{
	{file: "syft-0.60-spdx22.json", format: "spdx", entries: 4, purls: 4,
		want: []policy.Package{pkg("golang", "k8s.io", "client-go", "v12.0.0+incompatible")}},
	{file: "syft-1.18-spdx23.json", format: "spdx", entries: 10, purls: 9,
		want: []policy.Package{
			pkg("golang", "k8s.io", "client-go", "v11.0.0+incompatible"),
			pkg("npm", "@kubernetes", "client-node", "0.18.1"),
			pkg("pypi", "", "kubernetes", "28.1.0"),
			pkg("maven", "io.kubernetes", "client-java-api", "18.0.0"),
			pkg("maven", "io.kubernetes", "client-java", "18.0.0"),
			pkg("nuget", "", "KubernetesClient", "12.1.1"),
			pkg("gem", "", "kubernetes-io", "1.0.0.pre.alpha2"),
			pkg("hackage", "", "kubernetes-client", "0.4.3.0"),
		}},
	{file: "syft-1.19-cyclonedx16.json", format: "cyclonedx", entries: 5, purls: 3,
		want: []policy.Package{pkg("golang", "k8s.io", "client-go", "v0.29.3")}},
	{file: "cyclonedx-gomod-1.4-app.json", format: "cyclonedx", entries: 4, purls: 4,
		want: []policy.Package{pkg("golang", "k8s.io", "client-go", "v0.26.4")}},
	{file: "trivy-0.50-cyclonedx15.json", format: "cyclonedx", entries: 9, purls: 8,
		want: []policy.Package{
			pkg("maven", "io.kubernetes", "client-java", "17.0.2"),
			pkg("maven", "io.kubernetes", "client-java-api", "17.0.2"),
			pkg("npm", "@kubernetes", "client-node", "0.18.1"),
			pkg("pypi", "", "kubernetes", "28.1.0"),
			pkg("nuget", "", "KubernetesClient", "12.1.1"),
			pkg("gem", "", "fluent-plugin-kubernetes_metadata_filter", "2.9.5"),
			pkg("golang", "k8s.io", "client-go", "v0.28.2"),
		}},
	{file: "trivy-0.51-spdx23.json", format: "spdx", entries: 3, purls: 3,
		want: []policy.Package{
			pkg("pypi", "", "kubernetes", "11.0.0"),
			pkg("npm", "@kubernetes", "client-node", "0.10.2"), // purl without version: versionInfo
			pkg("golang", "k8s.io", "client-go", "v0.15.7"),    // k8s.io%2Fclient-go
		}},
	{file: "spdx3.0.1-jsonld.json", format: "spdx3", entries: 2, purls: 2,
		want: []policy.Package{
			pkg("hackage", "", "kubernetes-client", "0.4.3.0"),
			pkg("golang", "k8s.io", "client-go", "v0.30.1"), // the software_File is not a package
		}},
	{file: "buildkit-0.13-attestation-spdx.json", format: "spdx", envelope: "in-toto", entries: 2, purls: 2,
		want: []policy.Package{pkg("golang", "k8s.io", "client-go", "v0.14.10")}},
	{file: "cosign-2.2-att-dsse-cyclonedx.json", format: "cyclonedx", envelope: "dsse/in-toto", entries: 1, purls: 1,
		want: []policy.Package{pkg("npm", "@kubernetes", "client-node", "0.10.2")}},
	{file: "sigstore-bundle-0.2-spdx.json", format: "spdx", envelope: "sigstore-bundle/dsse/in-toto", entries: 1, purls: 1,
		want: []policy.Package{pkg("pypi", "", "kubernetes", "12.0.0a1")}}, // pypi names are lowercased
	{file: "github-dependency-graph-export.json", format: "spdx", envelope: "sbom", entries: 2, purls: 2,
		want: []policy.Package{pkg("golang", "k8s.io", "client-go", "0.29.3")}},
	{file: "syft-1.4-native.syft.json", format: "syft", entries: 2, purls: 2,
		want: []policy.Package{pkg("golang", "k8s.io", "client-go", "v0.19.16")}},
	{file: "sbom-tool-1.1-spdx22.json", format: "spdx", entries: 2, purls: 1,
		want: []policy.Package{pkg("nuget", "", "KubernetesClient", "7.0.4")}},
	{file: "spdx-tools-rdf-converted-spdx22.json", format: "spdx", entries: 1, purls: 1,
		want: []policy.Package{pkg("maven", "io.kubernetes", "client-java", "8.0.2")}},
	{file: "hostile-cyclonedx.json", format: "cyclonedx", entries: 4, purls: 4,
		want: []policy.Package{
			pkg("pypi", "", "kubernetes", "29.0"), // a JSON number as the version
			pkg("golang", "k8s.io", "client-go", "v0.17.0"),
			pkg("hackage", "", "kubernetes-client", "0.3.0.0"),
		}},
	{file: "no-purls-spdx23.json", format: "spdx", entries: 2, purls: 0},
	{file: "syft-1.18-spdx23.spdx", err: ErrUnsupportedFormat, errMsg: "SPDX tag-value"},
	{file: "syft-1.18-cyclonedx15.xml", err: ErrUnsupportedFormat, errMsg: "CycloneDX XML"},
	{file: "cosign-attest-type-spdx-tagvalue.json", err: ErrUnsupportedFormat, errMsg: "SPDX tag-value"},
}

func readRealWorld(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "realworld", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseSBOMRealWorld(t *testing.T) {
	catalog, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	keep := func(p PURL) bool { return catalog.KeepPURL(p.Type, p.Namespace, p.Name) }
	for _, tt := range realWorldFiles {
		t.Run(tt.file, func(t *testing.T) {
			data := readRealWorld(t, tt.file)
			for _, r := range []io.Reader{bytes.NewReader(data), iotest.OneByteReader(bytes.NewReader(data))} {
				got, err := ParseSBOM(r, "", 0, keep)
				if tt.err != nil {
					if !errors.Is(err, tt.err) || !errors.Is(err, ErrUnknownFormat) || !strings.Contains(err.Error(), tt.errMsg) {
						t.Fatalf("ParseSBOM = %+v, %v; want an error wrapping %v and saying %q", got, err, tt.err, tt.errMsg)
					}
					continue
				}
				if err != nil {
					t.Fatalf("ParseSBOM: %v", err)
				}
				if got.Format != tt.format || got.Envelope != tt.envelope {
					t.Errorf("format, envelope = %q, %q; want %q, %q", got.Format, got.Envelope, tt.format, tt.envelope)
				}
				if !reflect.DeepEqual(got.Packages, tt.want) {
					t.Errorf("packages:\n got %v\nwant %v", got.Packages, tt.want)
				}
				if got.Entries != tt.entries || got.PURLs != tt.purls || got.InvalidPURLs != 0 {
					t.Errorf("entries, purls, invalid = %d, %d, %d; want %d, %d, 0", got.Entries, got.PURLs, got.InvalidPURLs, tt.entries, tt.purls)
				}
			}
		})
	}
}

// TestRealWorldREADME checks that every file in testdata/realworld is
// described in its README and asserted above.
func TestRealWorldREADME(t *testing.T) {
	readme := string(readRealWorld(t, "README.md"))
	files, err := os.ReadDir(filepath.Join("testdata", "realworld"))
	if err != nil {
		t.Fatal(err)
	}
	listed := make(map[string]bool)
	for _, tt := range realWorldFiles {
		listed[tt.file] = true
	}
	for _, f := range files {
		if f.Name() == "README.md" {
			continue
		}
		if !strings.Contains(readme, "`"+f.Name()+"`") {
			t.Errorf("%s is not described in README.md", f.Name())
		}
		if !listed[f.Name()] {
			t.Errorf("%s is not asserted in realWorldFiles", f.Name())
		}
	}
}
