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
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseSBOM(bytes.NewReader(data), "", 1<<20, nil)
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
		again, err2 := ParseSBOM(iotest.OneByteReader(bytes.NewReader(data)), "", 1<<20, nil)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("whole reads: %v; one-byte reads: %v", err, err2)
		}
		if err == nil && !reflect.DeepEqual(got, again) {
			t.Fatalf("whole reads: %+v; one-byte reads: %+v", got, again)
		}
	})
}
