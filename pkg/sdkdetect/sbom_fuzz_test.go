package sdkdetect

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"testing/iotest"
)

func FuzzParseSBOM(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "sbom", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds: %v", err)
	}
	real, _ := filepath.Glob(filepath.Join("testdata", "realworld", "*"))
	files = append(files, real...)
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"", "{}", "[]", "null", `"x"`, "1e5", "{", `{"packages":[{"externalRefs":[{}]}]}`, miniSPDX,
		`{"payloadType":"application/vnd.in-toto+json","payload":"` + b64(miniSPDX) + `"}`,
		`{"predicate":"{\"bomFormat\":\"CycloneDX\",\"components\":[{\"purl\":\"pkg:a/b@1\"}]}","predicateType":"https://cyclonedx.org/bom"}`,
		`{"@graph":[{"type":"software_Package","software_packageUrl":"pkg:a/b"}]}`,
		`{"bomFormat":"CycloneDX","components":[{"purl":"pkg:a/b\ud800\u0041@1","components":[{"purl":"pkg:c/d"}]}]}`,
		`{"sbom":{"spdxVersion":"SPDX-2.3","packages":[{"externalRefs":[{"referenceType":"http://spdx.org/rdf/references/purl","referenceLocator":"pkg:golang/k8s.io%2Fclient-go@v1"}]}]}}`,
		`{"artifacts":[{"purl":"pkg:npm/%40a%2Fb","version":1.5e2}],"descriptor":{}}`,
		`{"predicateType":"https://spdx.dev/Document","predicate":"SPDXVersion: SPDX-2.3\n"}`,
		"\xEF\xBB\xBF<?xml version=\"1.0\"?><bom xmlns=\"http://cyclonedx.org/schema/bom/1.5\"/>",
		"\x1f\x8b\x08", "\xff\xfe{\x00}\x00", "## SPDX\nSPDXVersion: SPDX-2.2",
		`{"@graph":[{"type":"software_Package","spdx:Software/packageUrl":"pkg:a/b","software_packageVersion":-1.0}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkParseSBOM(t, data, "") })
}

// checkParseSBOM is the property every SBOM fuzz target checks: an error
// wraps a sentinel and comes without a result; a result has a known format
// and packages with a type and a name; the outcome does not depend on how
// the input is split into reads.
func checkParseSBOM(t *testing.T, data []byte, mediaType string) {
	got, err := ParseSBOM(bytes.NewReader(data), mediaType, 1<<20, nil)
	if err != nil {
		if got != nil {
			t.Fatalf("result %+v with error %v", got, err)
		}
		if !errors.Is(err, ErrInvalidSBOM) && !errors.Is(err, ErrUnknownFormat) &&
			!errors.Is(err, ErrNotSBOM) && !errors.Is(err, ErrTooLarge) {
			t.Fatalf("error %v wraps none of the sentinel errors", err)
		}
	} else {
		if got == nil {
			t.Fatal("no result and no error")
		}
		switch got.Format {
		case SBOMFormatSPDX, SBOMFormatSPDX3, SBOMFormatCycloneDX, SBOMFormatSyft:
		default:
			t.Fatalf("format %q", got.Format)
		}
		for _, p := range got.Packages {
			if p.Type == "" || p.Name == "" {
				t.Fatalf("package without type or name: %+v", p)
			}
		}
	}
	// The result does not depend on how the input is split into reads.
	again, err2 := ParseSBOM(iotest.OneByteReader(bytes.NewReader(data)), mediaType, 1<<20, nil)
	if (err == nil) != (err2 == nil) {
		t.Fatalf("whole reads: %v; one-byte reads: %v", err, err2)
	}
	if err == nil && !reflect.DeepEqual(got, again) {
		t.Fatalf("whole reads: %+v; one-byte reads: %+v", got, again)
	}

}

// seedFiles adds the testdata/sbom and testdata/realworld fixtures whose
// names match glob.
func seedFiles(f *testing.F, glob string) {
	files, _ := filepath.Glob(filepath.Join("testdata", "sbom", glob))
	real, _ := filepath.Glob(filepath.Join("testdata", "realworld", glob))
	files = append(files, real...)
	if len(files) == 0 {
		f.Fatalf("no seeds for %s", glob)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// One target per parser, each seeded with its own format and hinted with
// its media type, so the fuzzer explores that parser's states.

func FuzzParseSPDX(f *testing.F) {
	seedFiles(f, "spdx23*.json")
	seedFiles(f, "*spdx2[23].json")
	seedFiles(f, "*.spdx")
	seedFiles(f, "github-*.json")
	f.Add([]byte(miniSPDX))
	f.Fuzz(func(t *testing.T, data []byte) { checkParseSBOM(t, data, "application/spdx+json") })
}

func FuzzParseSPDX3(f *testing.F) {
	seedFiles(f, "spdx3*.json")
	f.Fuzz(func(t *testing.T, data []byte) { checkParseSBOM(t, data, "application/spdx3+json") })
}

func FuzzParseCycloneDX(f *testing.F) {
	seedFiles(f, "*cyclonedx*.json")
	seedFiles(f, "*.xml")
	seedFiles(f, "*.syft.json")
	f.Fuzz(func(t *testing.T, data []byte) { checkParseSBOM(t, data, "application/vnd.cyclonedx+json") })
}

func FuzzParseInToto(f *testing.F) {
	seedFiles(f, "*intoto*.json")
	seedFiles(f, "buildkit*.json")
	seedFiles(f, "slsa*.json")
	seedFiles(f, "cosign-attest-*.json")
	f.Fuzz(func(t *testing.T, data []byte) { checkParseSBOM(t, data, "application/vnd.in-toto+json") })
}

func FuzzParseDSSE(f *testing.F) {
	seedFiles(f, "dsse*.json")
	seedFiles(f, "sigstore*.json")
	seedFiles(f, "cosign-*-att-dsse-*.json")
	f.Fuzz(func(t *testing.T, data []byte) { checkParseSBOM(t, data, "application/vnd.dsse.envelope.v1+json") })
}
