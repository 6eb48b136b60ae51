package main

import (
	"encoding/json"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The SBOM of each platform image: SPDX 2.3 JSON, written from the Go
// build information of the image's own binary (debug/buildinfo: the main
// module, every module linked in, the Go standard library) and the Debian
// packages of the base. Every package has a purl, which is what tokenguard's
// registry evidence matches against its catalog.

// sbomMediaType is the SBOM's media type, as artifact type and layer type:
// IANA's type for SPDX JSON, which tokenguard's registry evidence reads.
const sbomMediaType = "application/spdx+json"

// sbomFileName names the SBOM layer (org.opencontainers.image.title), as
// oras pull would save it.
const sbomFileName = "tokenguard.spdx.json"

// toolName is the SBOM's creator.
const toolName = "tokenguard-hack-image"

type spdxDocument struct {
	SPDXVersion       string             `json:"spdxVersion"`
	DataLicense       string             `json:"dataLicense"`
	SPDXID            string             `json:"SPDXID"`
	Name              string             `json:"name"`
	DocumentNamespace string             `json:"documentNamespace"`
	CreationInfo      spdxCreationInfo   `json:"creationInfo"`
	Packages          []spdxPackage      `json:"packages"`
	Relationships     []spdxRelationship `json:"relationships"`
}

type spdxCreationInfo struct {
	Created  string   `json:"created"`
	Creators []string `json:"creators"`
}

type spdxPackage struct {
	Name                  string            `json:"name"`
	SPDXID                string            `json:"SPDXID"`
	VersionInfo           string            `json:"versionInfo,omitempty"`
	PackageFileName       string            `json:"packageFileName,omitempty"`
	DownloadLocation      string            `json:"downloadLocation"`
	FilesAnalyzed         bool              `json:"filesAnalyzed"`
	Checksums             []spdxChecksum    `json:"checksums,omitempty"`
	LicenseConcluded      string            `json:"licenseConcluded"`
	LicenseDeclared       string            `json:"licenseDeclared"`
	CopyrightText         string            `json:"copyrightText"`
	Comment               string            `json:"comment,omitempty"`
	PrimaryPackagePurpose string            `json:"primaryPackagePurpose,omitempty"`
	ExternalRefs          []spdxExternalRef `json:"externalRefs,omitempty"`
}

type spdxChecksum struct {
	Algorithm     string `json:"algorithm"`
	ChecksumValue string `json:"checksumValue"`
}

type spdxExternalRef struct {
	ReferenceCategory string `json:"referenceCategory"`
	ReferenceType     string `json:"referenceType"`
	ReferenceLocator  string `json:"referenceLocator"`
}

type spdxRelationship struct {
	SPDXElementID      string `json:"spdxElementId"`
	RelationshipType   string `json:"relationshipType"`
	RelatedSPDXElement string `json:"relatedSpdxElement"`
}

const noAssertion = "NOASSERTION"

// sbomInput is what one platform image's SBOM describes.
type sbomInput struct {
	meta     meta
	platform v1.Platform
	// image is the digest of the platform image the SBOM is attached to.
	image v1.Hash
	// binary is the SHA-256 of the binary, and build its build information.
	binary v1.Hash
	build  *debug.BuildInfo
	debs   []debPackage
}

// spdxJSON writes the SBOM: the same input gives the same bytes.
//
// The document describes the image (purl pkg:oci, by digest), which
// contains the binary and the Debian packages; the binary depends on the
// Go standard library and on each module linked in. The binary is the main
// module at the build's version: the version Go stamped when it is a module
// version, else the release (go build stamps none with -buildvcs=false).
func spdxJSON(in sbomInput) ([]byte, error) {
	if in.build == nil {
		return nil, fmt.Errorf("no Go build information")
	}
	ids := map[string]bool{}
	newID := func(kind, name string) string {
		id := "SPDXRef-" + kind + "-" + spdxIDPart(name)
		for i := 2; ids[id]; i++ {
			id = fmt.Sprintf("SPDXRef-%s-%s-%d", kind, spdxIDPart(name), i)
		}
		ids[id] = true
		return id
	}
	arch := in.platform.Architecture
	if in.platform.Variant != "" {
		arch += "/" + in.platform.Variant
	}
	imageID := newID("Image", title)
	doc := spdxDocument{
		SPDXVersion: "SPDX-2.3",
		DataLicense: "CC0-1.0",
		SPDXID:      "SPDXRef-DOCUMENT",
		Name:        fmt.Sprintf("%s %s %s", title, in.meta.Version, in.platform.String()),
		// Unique per image: its digest names it.
		DocumentNamespace: fmt.Sprintf("%s/spdx/image/%s-%s", sourceURL, in.image.Algorithm, in.image.Hex),
		CreationInfo: spdxCreationInfo{
			Created:  in.meta.Created.UTC().Format(time.RFC3339),
			Creators: []string{"Tool: " + toolName},
		},
	}
	rel := func(a, typ, b string) {
		doc.Relationships = append(doc.Relationships, spdxRelationship{a, typ, b})
	}
	add := func(p spdxPackage, purl string) {
		p.LicenseConcluded, p.LicenseDeclared, p.CopyrightText = noAssertion, noAssertion, noAssertion
		if p.DownloadLocation == "" {
			p.DownloadLocation = noAssertion
		}
		if purl != "" {
			p.ExternalRefs = []spdxExternalRef{{ReferenceCategory: "PACKAGE-MANAGER", ReferenceType: "purl", ReferenceLocator: purl}}
		}
		doc.Packages = append(doc.Packages, p)
	}

	add(spdxPackage{
		Name: title, SPDXID: imageID, VersionInfo: in.meta.Version, PrimaryPackagePurpose: "CONTAINER",
		Checksums: []spdxChecksum{{Algorithm: "SHA256", ChecksumValue: in.image.Hex}},
		Comment:   "the " + in.platform.String() + " image of the " + title + " index",
	}, "pkg:oci/"+title+"@"+purlEscape(in.image.String())+"?arch="+purlEscape(arch))
	rel("SPDXRef-DOCUMENT", "DESCRIBES", imageID)

	mod := in.build.Main
	version := mod.Version
	if version == "" || version == "(devel)" {
		version = in.meta.Version
	}
	binID := newID("Package", mod.Path)
	download := noAssertion
	if in.meta.Revision != "" {
		download = "git+" + sourceURL + ".git@" + in.meta.Revision
	}
	add(spdxPackage{
		Name: mod.Path, SPDXID: binID, VersionInfo: version, PackageFileName: binaryPath,
		DownloadLocation: download, PrimaryPackagePurpose: "APPLICATION",
		Checksums: []spdxChecksum{{Algorithm: "SHA256", ChecksumValue: in.binary.Hex}},
		Comment:   "the binary " + binaryPath + ", built from " + in.build.Path + " with " + in.build.GoVersion,
	}, golangPURL(mod.Path, version))
	rel(imageID, "CONTAINS", binID)

	goVersion, _, _ := strings.Cut(in.build.GoVersion, " ") // "go1.26.8 X:..." → "go1.26.8"
	stdID := newID("Package", "go-stdlib")
	add(spdxPackage{
		Name: "stdlib", SPDXID: stdID, VersionInfo: goVersion, PrimaryPackagePurpose: "LIBRARY",
		Comment: "the Go standard library linked into " + binaryPath,
	}, "pkg:golang/stdlib@"+purlEscape(strings.TrimPrefix(goVersion, "go")))
	rel(binID, "DEPENDS_ON", stdID)

	for _, dep := range in.build.Deps {
		p := spdxPackage{Name: dep.Path, VersionInfo: dep.Version, PrimaryPackagePurpose: "LIBRARY"}
		if r := dep.Replace; r != nil {
			p.Comment = "replaced by " + strings.TrimSpace(r.Path+" "+r.Version)
			if r.Version != "" {
				p.VersionInfo = r.Version
			}
		}
		p.SPDXID = newID("Package", dep.Path)
		add(p, golangPURL(dep.Path, p.VersionInfo))
		rel(binID, "DEPENDS_ON", p.SPDXID)
	}

	for _, deb := range in.debs {
		id := newID("Package", "deb-"+deb.Name)
		add(spdxPackage{
			Name: deb.Name, SPDXID: id, VersionInfo: deb.Version, PackageFileName: deb.Name + "_" + deb.Version + "_" + deb.Arch + ".deb",
			Checksums: []spdxChecksum{{Algorithm: "SHA256", ChecksumValue: deb.SHA256}},
			Comment:   "Debian package; its certificates are bundled in /" + caBundlePath,
		}, "pkg:deb/debian/"+purlEscape(deb.Name)+"@"+purlEscape(deb.Version)+"?arch="+purlEscape(deb.Arch))
		rel(imageID, "CONTAINS", id)
	}
	return json.MarshalIndent(doc, "", "  ")
}

// golangPURL is the purl of a Go module: pkg:golang/k8s.io/client-go@v0.37.2.
func golangPURL(path, version string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = purlEscape(s)
	}
	p := "pkg:golang/" + strings.Join(segs, "/")
	if version != "" {
		p += "@" + purlEscape(version)
	}
	return p
}

// purlEscape percent-encodes all but the unreserved characters, as the purl
// specification asks of versions and name segments ("+" becomes "%2B").
func purlEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// spdxIDPart makes s fit an SPDX identifier: letters, digits, "." and "-".
func spdxIDPart(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			b[i] = '-'
		}
	}
	return string(b)
}
