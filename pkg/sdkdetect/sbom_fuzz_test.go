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
		case SBOMFormatSPDX, SBOMFormatSPDX3, SBOMFormatCycloneDX:
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

// seedFiles adds the testdata/sbom fixtures whose names match glob.
func seedFiles(f *testing.F, glob string) {
	files, _ := filepath.Glob(filepath.Join("testdata", "sbom", glob))
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
	f.Add([]byte(miniSPDX))
	f.Fuzz(func(t *testing.T, data []byte) { checkParseSBOM(t, data, "application/spdx+json") })
}

func FuzzParseSPDX3(f *testing.F) {
	seedFiles(f, "spdx3*.json")
	f.Fuzz(func(t *testing.T, data []byte) { checkParseSBOM(t, data, "application/spdx3+json") })
}

func FuzzParseCycloneDX(f *testing.F) {
	seedFiles(f, "cyclonedx*.json")
	f.Fuzz(func(t *testing.T, data []byte) { checkParseSBOM(t, data, "application/vnd.cyclonedx+json") })
}

func FuzzParseInToto(f *testing.F) {
	seedFiles(f, "*intoto*.json")
	seedFiles(f, "buildkit*.json")
	seedFiles(f, "slsa*.json")
	f.Fuzz(func(t *testing.T, data []byte) { checkParseSBOM(t, data, "application/vnd.in-toto+json") })
}

func FuzzParseDSSE(f *testing.F) {
	seedFiles(f, "dsse*.json")
	seedFiles(f, "sigstore*.json")
	f.Fuzz(func(t *testing.T, data []byte) { checkParseSBOM(t, data, "application/vnd.dsse.envelope.v1+json") })
}
