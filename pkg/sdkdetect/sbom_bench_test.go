package sdkdetect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"sync"
	"testing"
)

// genSPDX returns an SPDX 2.3 document shaped like syft's output for an
// image with n packages (mostly Go modules, npm, deb and Python packages,
// with a checksum, a CPE and a purl each, and a relationship per ten
// packages), among them three k8s.io/client-go. n = 40,000 gives 24 MB.
func genSPDX(n int) []byte {
	var b bytes.Buffer
	b.Grow(n * 560)
	b.WriteString(`{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"registry.example.com/big/image",` +
		`"documentNamespace":"https://anchore.com/syft/image/registry.example.com/big/image-0f1e2d3c","creationInfo":{"licenseListVersion":"3.22",` +
		`"creators":["Organization: Anchore, Inc","Tool: syft-0.98.0"],"created":"2024-01-15T10:22:33Z"},"packages":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		name, version, purl := genPackage(i)
		id := "SPDXRef-Package-" + strconv.Itoa(i) + "-" + strconv.FormatUint(uint64(i)*2654435761%(1<<32), 16)
		fmt.Fprintf(&b, `{"name":%q,"SPDXID":%q,"versionInfo":%q,"downloadLocation":"NOASSERTION",`+
			`"licenseConcluded":"NOASSERTION","copyrightText":"NOASSERTION",`+
			`"checksums":[{"algorithm":"SHA256","checksumValue":"%016x%016x%016x%016x"}],"externalRefs":[`+
			`{"referenceCategory":"SECURITY","referenceType":"cpe23Type","referenceLocator":"cpe:2.3:a:%s:%s:%s:*:*:*:*:*:*:*"},`+
			`{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":%q}]}`,
			name, id, version, uint64(i)*0x9e3779b97f4a7c15, uint64(i)*31, uint64(i)*0x9e3779b9, uint64(i)^0x5bd1e995, "vendor"+strconv.Itoa(i%97), "product"+strconv.Itoa(i), version, purl)
	}
	b.WriteString(`],"relationships":[`)
	for i := 0; i < n; i += 10 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"spdxElementId":"SPDXRef-DocumentRoot-Image","relatedSpdxElement":"SPDXRef-Package-%d","relationshipType":"CONTAINS"}`, i)
	}
	b.WriteString("]}\n")
	return b.Bytes()
}

// genPackage returns the name, version and purl of generated package i.
func genPackage(i int) (name, version, purl string) {
	switch {
	case i == 100:
		return "k8s.io/client-go", "v0.28.4", "pkg:golang/k8s.io/client-go@v0.28.4"
	case i == 20000:
		return "k8s.io/client-go", "v0.23.17", "pkg:golang/k8s.io/client-go@v0.23.17"
	case i == 30000:
		return "k8s.io/client-go", "v11.0.0+incompatible", "pkg:golang/k8s.io/client-go@v11.0.0%2Bincompatible"
	}
	v := strconv.Itoa(i%5) + "." + strconv.Itoa(i%13) + "." + strconv.Itoa(i%31)
	switch i % 4 {
	case 0:
		name = "github.com/org" + strconv.Itoa(i%300) + "/module-" + strconv.Itoa(i)
		return name, "v" + v, "pkg:golang/" + name + "@v" + v
	case 1:
		name = "@scope" + strconv.Itoa(i%50) + "/pkg-" + strconv.Itoa(i)
		return name, v, "pkg:npm/%40scope" + strconv.Itoa(i%50) + "/pkg-" + strconv.Itoa(i) + "@" + v
	case 2:
		name = "libpkg" + strconv.Itoa(i)
		return name, v + "-1+deb12u1", "pkg:deb/debian/" + name + "@" + v + "-1%2Bdeb12u1?arch=amd64&distro=debian-12"
	default:
		name = "py_pkg" + strconv.Itoa(i)
		return name, v, "pkg:pypi/" + name + "@" + v
	}
}

// genCycloneDX returns a CycloneDX 1.5 document shaped like trivy's
// output, with n components (nested two deep under applications), about
// 20 MB for n = 40,000.
func genCycloneDX(n int) []byte {
	var b bytes.Buffer
	b.Grow(n * 560)
	b.WriteString(`{"$schema":"http://cyclonedx.org/schema/bom-1.5.schema.json","bomFormat":"CycloneDX","specVersion":"1.5",` +
		`"serialNumber":"urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79","version":1,"metadata":{"timestamp":"2024-05-02T09:12:45+00:00",` +
		`"component":{"type":"container","name":"registry.example.com/big/image","purl":"pkg:oci/image@sha256%3A0f1e"}},"components":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		if i%100 == 0 {
			fmt.Fprintf(&b, `{"bom-ref":"app-%d","type":"application","name":"usr/local/bin/app-%d","components":[`, i, i)
		}
		name, version, purl := genPackage(i)
		fmt.Fprintf(&b, `{"bom-ref":%q,"type":"library","name":%q,"version":%q,"purl":%q,"hashes":[{"alg":"SHA-256","content":"%064x"}],`+
			`"licenses":[{"license":{"id":"Apache-2.0"}}],"properties":[{"name":"aquasecurity:trivy:PkgID","value":"%s@%s"},`+
			`{"name":"aquasecurity:trivy:PkgType","value":"gobinary"},{"name":"aquasecurity:trivy:LayerDigest","value":"sha256:%064x"}]}`,
			purl, name, version, purl, uint64(i)*0x9e3779b97f4a7c15, name, version, uint64(i)*31)
		if i%100 == 99 || i == n-1 {
			b.WriteString(`]}`)
		}
	}
	b.WriteString(`],"dependencies":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"ref":"dep-%d","dependsOn":["dep-%d","dep-%d"]}`, i, i+1, i+2)
	}
	b.WriteString("]}\n")
	return b.Bytes()
}

var (
	bigSPDXOnce, bigCDXOnce sync.Once
	bigSPDX, bigCDX         []byte
)

func bigSPDXDoc() []byte { bigSPDXOnce.Do(func() { bigSPDX = genSPDX(40000) }); return bigSPDX }
func bigCDXDoc() []byte  { bigCDXOnce.Do(func() { bigCDX = genCycloneDX(40000) }); return bigCDX }

var sinkSBOM *SBOM

func benchParse(b *testing.B, doc []byte, keep func(PURL) bool, wantPackages int) {
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		got, err := ParseSBOM(bytes.NewReader(doc), "", 100<<20, keep)
		if err != nil {
			b.Fatal(err)
		}
		if len(got.Packages) != wantPackages {
			b.Fatalf("%d packages, want %d", len(got.Packages), wantPackages)
		}
		sinkSBOM = got
	}
}

// BenchmarkParseSBOMSPDX20MB is the real case: a big SPDX document, a
// catalog filter that keeps three client-go packages.
func BenchmarkParseSBOMSPDX20MB(b *testing.B) {
	doc := bigSPDXDoc()
	b.Run("catalog", func(b *testing.B) { benchParse(b, doc, keepCatalog, 3) })
	b.Run("all", func(b *testing.B) { benchParse(b, doc, nil, 40000) })
}

func BenchmarkParseSBOMCycloneDX20MB(b *testing.B) {
	doc := bigCDXDoc()
	b.Run("catalog", func(b *testing.B) { benchParse(b, doc, keepCatalog, 3) })
	b.Run("all", func(b *testing.B) { benchParse(b, doc, nil, 40001) })
}

// BenchmarkDecoderTokenBaseline20MB walks the same SPDX document with
// encoding/json's Decoder.Token and does nothing else: the floor of a
// Token-based parser.
func BenchmarkDecoderTokenBaseline20MB(b *testing.B) {
	doc := bigSPDXDoc()
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		dec := json.NewDecoder(bytes.NewReader(doc))
		n := 0
		for {
			_, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
	}
}

// BenchmarkUnmarshalNeededFieldsBaseline20MB decodes the same SPDX
// document with json.Unmarshal into a struct of only the needed fields.
func BenchmarkUnmarshalNeededFieldsBaseline20MB(b *testing.B) {
	doc := bigSPDXDoc()
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		var d struct {
			Packages []struct {
				VersionInfo  string `json:"versionInfo"`
				ExternalRefs []struct {
					ReferenceType    string `json:"referenceType"`
					ReferenceLocator string `json:"referenceLocator"`
				} `json:"externalRefs"`
			} `json:"packages"`
		}
		if err := json.NewDecoder(bytes.NewReader(doc)).Decode(&d); err != nil {
			b.Fatal(err)
		}
	}
}

// TestParseSBOMSPDX20MBMemory pins the memory budget of the real case:
// at most 16 MB allocated in all (which bounds the peak heap growth) for a
// 20 MB SPDX document.
func TestParseSBOMSPDX20MBMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 20 MB")
	}
	for _, c := range []struct {
		name string
		doc  []byte
	}{{"spdx", bigSPDXDoc()}, {"cyclonedx", bigCDXDoc()}} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		got, err := ParseSBOM(bytes.NewReader(c.doc), "", 100<<20, keepClientGo)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Packages) != 3 {
			t.Errorf("%s: packages %v, want 3 client-go", c.name, got.Packages)
		}
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("%s: %.1f MB document: %.2f MB allocated in %d allocations; heap in use %.2f MB -> %.2f MB",
			c.name, float64(len(c.doc))/1e6, float64(alloc)/1e6, after.Mallocs-before.Mallocs,
			float64(before.HeapInuse)/1e6, float64(after.HeapInuse)/1e6)
		if alloc > 16<<20 {
			t.Errorf("%s: %d bytes allocated, budget 16 MiB", c.name, alloc)
		}
		all, err := ParseSBOM(bytes.NewReader(c.doc), "", 100<<20, nil)
		if err != nil || len(all.Packages) < 40000 {
			t.Errorf("%s: all packages: %d, %v; want 40,000 or more", c.name, len(all.Packages), err)
		}
	}
}
