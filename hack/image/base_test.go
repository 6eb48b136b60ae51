package main

import (
	"archive/tar"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCert is a PEM self-signed CA certificate named cn.
func testCert(t *testing.T, cn string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0), IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// debTar is a package's filesystem tar, as dpkg-deb --fsys-tarfile writes
// it ("./" prefixes, directories first).
func debTar(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755})
	for name, data := range files {
		if err := tw.WriteHeader(&tar.Header{Name: "./" + name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data))}); err != nil {
			t.Fatal(err)
		}
		tw.Write(data)
	}
	tw.Close()
	return buf.Bytes()
}

func TestCABundle(t *testing.T) {
	a, b := testCert(t, "a"), testCert(t, "b")
	bTrimmed := bytes.TrimSuffix(b, []byte("\n")) // no final newline: one is added
	copyright := []byte("Mozilla Public License 2.0")
	tarball := debTar(t, map[string][]byte{
		"usr/share/ca-certificates/mozilla/B.crt": bTrimmed,
		"usr/share/ca-certificates/mozilla/A.crt": a,
		// Not a trusted certificate: the package's example of a local CA.
		"usr/share/doc/ca-certificates/examples/local/Local_Root_CA.crt": testCert(t, "local"),
		"usr/share/doc/ca-certificates/copyright":                        copyright,
		"usr/sbin/update-ca-certificates":                                []byte("#!/bin/sh"),
	})
	bundle, n, gotCopyright, err := caBundle(bytes.NewReader(tarball))
	if err != nil {
		t.Fatal(err)
	}
	if want := string(a) + string(b); string(bundle) != want || n != 2 {
		t.Errorf("bundle of %d certificates:\n%s\nwant A then B:\n%s", n, bundle, want)
	}
	if !bytes.Equal(gotCopyright, copyright) {
		t.Errorf("copyright %q", gotCopyright)
	}

	tests := []struct {
		name  string
		files map[string][]byte
		want  string
	}{
		{"no certificates", map[string][]byte{"usr/share/doc/ca-certificates/copyright": copyright}, "no certificates"},
		{"no copyright", map[string][]byte{"usr/share/ca-certificates/mozilla/A.crt": a}, "copyright"},
		{"not PEM", map[string][]byte{"usr/share/ca-certificates/mozilla/A.crt": append(a, "junk"...), "usr/share/doc/ca-certificates/copyright": copyright}, "A.crt: text that is not PEM"},
		{"a key", map[string][]byte{"usr/share/ca-certificates/mozilla/A.crt": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}}), "usr/share/doc/ca-certificates/copyright": copyright}, "PRIVATE KEY"},
		{"bad certificate", map[string][]byte{"usr/share/ca-certificates/mozilla/A.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2}}), "usr/share/doc/ca-certificates/copyright": copyright}, "A.crt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := caBundle(bytes.NewReader(debTar(t, tt.files)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
}

func TestParsePins(t *testing.T) {
	pins, err := parsePins(basePins)
	if err != nil {
		t.Fatal(err)
	}
	if len(pins) != 1 || pins[0].Name != caCertificates || pins[0].Version == "" {
		t.Errorf("base.txt pins %+v, want ca-certificates", pins)
	}
	sum := strings.Repeat("ab", 32)
	tests := []struct {
		name, text, want string
	}{
		{"comments and blank lines", "# x\n\ndeb a 1 " + sum + "\n", ""},
		{"short", "deb a 1\n", "base.txt:1"},
		{"not a deb", "npm a 1 " + sum + "\n", "base.txt:1"},
		{"bad sum", "# x\ndeb a 1 abc\n", "base.txt:2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parsePins([]byte(tt.text))
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// TestLoadBase builds the base from a fake package in a folder as
// fetch-base.sh fills it, and refuses a .deb of another checksum or a
// package for one architecture.
func TestLoadBase(t *testing.T) {
	dir := t.TempDir()
	deb := []byte("a .deb")
	sum := sha256.Sum256(deb)
	pin := debPin{Name: caCertificates, Version: "1", SHA256: hex.EncodeToString(sum[:])}
	write := func(ext string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, "ca-certificates_1."+ext), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("deb", deb)
	write("control", []byte("Package: ca-certificates\nVersion: 1\nArchitecture: all\n"))
	write("tar", debTar(t, map[string][]byte{
		"usr/share/ca-certificates/mozilla/A.crt": testCert(t, "a"),
		"usr/share/doc/ca-certificates/copyright": []byte("MPL-2.0"),
	}))
	b, err := loadBase(dir, []debPin{pin}, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if b.certs != 1 || len(b.packages) != 1 || b.packages[0].Arch != "all" {
		t.Errorf("base: %d certificates, packages %+v", b.certs, b.packages)
	}
	files := map[string]*tar.Header{}
	contents := map[string][]byte{}
	readLayer(t, b.layer, files, contents)
	for _, name := range []string{"etc/passwd", "etc/group", "etc/nsswitch.conf", caBundlePath, "tmp/", "home/nonroot/", debCopyright, "var/lib/dpkg/status.d/ca-certificates"} {
		if files[name] == nil {
			t.Errorf("no /%s in the base", name)
		}
	}

	other := pin
	other.SHA256 = strings.Repeat("0", 64)
	if _, err := loadBase(dir, []debPin{other}, time.Unix(0, 0)); err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Errorf("a .deb of another checksum: %v", err)
	}
	if _, err := loadBase(dir, []debPin{pin, {Name: "tzdata"}}, time.Unix(0, 0)); err == nil {
		t.Error("a second package was taken")
	}
	write("control", []byte("Package: ca-certificates\nArchitecture: arm64\n"))
	if _, err := loadBase(dir, []debPin{pin}, time.Unix(0, 0)); err == nil || !strings.Contains(err.Error(), "arm64") {
		t.Errorf("a package for one architecture: %v", err)
	}
}
