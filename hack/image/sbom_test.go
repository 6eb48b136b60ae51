package main

import (
	"bytes"
	"encoding/json"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/tokenguard/tokenguard/pkg/sdkdetect"
)

func testSBOMInput() sbomInput {
	return sbomInput{
		meta:     meta{Version: "v1.2.3", Revision: "abc", Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		platform: v1.Platform{OS: "linux", Architecture: "arm64"},
		image:    v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("1", 64)},
		binary:   v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("2", 64)},
		build: &debug.BuildInfo{
			GoVersion: "go1.26.8 X:nocoverageredesign",
			Path:      "github.com/tokenguard/tokenguard/cmd/webhook",
			Main:      debug.Module{Path: "github.com/tokenguard/tokenguard", Version: "(devel)"},
			Deps: []*debug.Module{
				{Path: "github.com/docker/cli", Version: "v29.7.2+incompatible"},
				{Path: "k8s.io/client-go", Version: "v0.37.2"},
				{Path: "example.com/old", Version: "v1.0.0", Replace: &debug.Module{Path: "example.com/new", Version: "v1.1.0"}},
				{Path: "example.com/local", Version: "v1.0.0", Replace: &debug.Module{Path: "../local"}},
			},
		},
		debs: []debPackage{{debPin: debPin{Name: "ca-certificates", Version: "20250419~deb12u2", SHA256: strings.Repeat("3", 64)}, Arch: "all"}},
	}
}

// TestSPDX: the SBOM is SPDX 2.3 as tokenguard's parser reads it, with the
// purls of every module, the standard library, the image and the Debian
// package.
func TestSPDX(t *testing.T) {
	in := testSBOMInput()
	doc, err := spdxJSON(in)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := spdxJSON(in)
	if !bytes.Equal(doc, again) {
		t.Error("two SBOMs of the same input differ")
	}
	sb, err := sdkdetect.ParseSBOM(bytes.NewReader(doc), sbomMediaType, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sb.Format != sdkdetect.SBOMFormatSPDX || sb.Entries != 8 || sb.PURLs != 8 || sb.InvalidPURLs != 0 {
		t.Errorf("read as %s: %d entries, %d purls, %d invalid; want spdx, 8, 8, 0", sb.Format, sb.Entries, sb.PURLs, sb.InvalidPURLs)
	}
	got := map[string]string{}
	for _, p := range sb.Packages {
		got[p.Type+":"+strings.TrimPrefix(p.Namespace+"/", "/")+p.Name] = p.Version
	}
	want := map[string]string{
		"oci:tokenguard": "sha256:" + strings.Repeat("1", 64),
		"golang:github.com/tokenguard/tokenguard": "v1.2.3", // Go stamped no version: the release's
		"golang:stdlib":                "1.26.8",
		"golang:github.com/docker/cli": "v29.7.2+incompatible",
		"golang:k8s.io/client-go":      "v0.37.2",
		"golang:example.com/old":       "v1.1.0", // the replacement's version
		"golang:example.com/local":     "v1.0.0", // a directory replacement has none
		"deb:debian/ca-certificates":   "20250419~deb12u2",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("package %s: version %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("packages %v, want %v", got, want)
	}
	if !bytes.Contains(doc, []byte(`"pkg:golang/github.com/docker/cli@v29.7.2%2Bincompatible"`)) {
		t.Error(`"+" in a purl version is not "%2B"`)
	}
}

// TestSPDXStructure: the fields SPDX 2.3 requires, identifiers that are
// unique and valid, and relationships between elements that exist.
func TestSPDXStructure(t *testing.T) {
	in := testSBOMInput()
	// Two modules whose identifiers would collide.
	in.build.Deps = append(in.build.Deps, &debug.Module{Path: "example.com/a-b", Version: "v1.0.0"}, &debug.Module{Path: "example.com/a/b", Version: "v1.0.0"})
	raw, err := spdxJSON(in)
	if err != nil {
		t.Fatal(err)
	}
	var doc spdxDocument
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.SPDXVersion != "SPDX-2.3" || doc.DataLicense != "CC0-1.0" || doc.SPDXID != "SPDXRef-DOCUMENT" || doc.Name == "" ||
		!strings.HasPrefix(doc.DocumentNamespace, "https://") || doc.CreationInfo.Created != "2026-01-02T03:04:05Z" || len(doc.CreationInfo.Creators) == 0 {
		t.Errorf("document fields: %+v", doc)
	}
	idRE := regexp.MustCompile(`^SPDXRef-[A-Za-z0-9.-]+$`)
	ids := map[string]bool{"SPDXRef-DOCUMENT": true}
	for _, p := range doc.Packages {
		if !idRE.MatchString(p.SPDXID) || ids[p.SPDXID] {
			t.Errorf("package %s: SPDXID %q invalid or repeated", p.Name, p.SPDXID)
		}
		ids[p.SPDXID] = true
		if p.Name == "" || p.DownloadLocation == "" || p.LicenseConcluded == "" || p.LicenseDeclared == "" || p.CopyrightText == "" {
			t.Errorf("package %s lacks a required field: %+v", p.Name, p)
		}
	}
	describes := 0
	for _, r := range doc.Relationships {
		if !ids[r.SPDXElementID] || !ids[r.RelatedSPDXElement] {
			t.Errorf("relationship %+v names an element that does not exist", r)
		}
		if r.SPDXElementID == "SPDXRef-DOCUMENT" && r.RelationshipType == "DESCRIBES" {
			describes++
		}
	}
	if describes != 1 {
		t.Errorf("the document describes %d elements, want the image", describes)
	}
	if len(doc.Relationships) != len(doc.Packages) {
		t.Errorf("%d relationships for %d packages: each package is related once", len(doc.Relationships), len(doc.Packages))
	}
}

func TestPurlEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"v0.37.2", "v0.37.2"},
		{"v29.7.2+incompatible", "v29.7.2%2Bincompatible"},
		{"20250419~deb12u2", "20250419~deb12u2"},
		{"sha256:abc", "sha256%3Aabc"},
		{"a b/c", "a%20b%2Fc"},
	}
	for _, tt := range tests {
		if got := purlEscape(tt.in); got != tt.want {
			t.Errorf("purlEscape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
