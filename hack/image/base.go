package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	_ "embed"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The base stands in for gcr.io/distroless/static:nonroot, the Dockerfile's
// final stage (dockerfile_test.go keeps the two in step): CA certificates,
// a nonroot user, /tmp, nothing else. No shell, no libc, no tzdata (the
// binary is static and uses no time zones).

// basePins is base.txt, the Debian packages the base is made from.
//
//go:embed base.txt
var basePins []byte

// debPin is one line of base.txt: a Debian package and its .deb's SHA-256.
type debPin struct {
	Name, Version, SHA256 string
}

// parsePins reads base.txt.
func parsePins(data []byte) ([]debPin, error) {
	var pins []debPin
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) != 4 || f[0] != "deb" {
			return nil, fmt.Errorf("base.txt:%d: want \"deb NAME VERSION SHA256\"", n)
		}
		if _, err := hex.DecodeString(f[3]); err != nil || len(f[3]) != 64 {
			return nil, fmt.Errorf("base.txt:%d: %q is not a SHA-256", n, f[3])
		}
		pins = append(pins, debPin{Name: f[1], Version: f[2], SHA256: f[3]})
	}
	return pins, sc.Err()
}

// The one package the base is made from.
const caCertificates = "ca-certificates"

// Files of the base.
const (
	caBundlePath = "etc/ssl/certs/ca-certificates.crt"
	// Where Debian keeps the certificates update-ca-certificates bundles.
	debCertDir = "usr/share/ca-certificates/"
	// The license of the certificates, which their distribution requires.
	debCopyright = "usr/share/doc/ca-certificates/copyright"
)

// The users and groups of distroless's nonroot images.
const (
	etcPasswd = "root:x:0:0:root:/root:/sbin/nologin\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n" +
		"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
	etcGroup = "root:x:0:\n" +
		"nobody:x:65534:\n" +
		"nonroot:x:65532:\n"
	// Go's resolver reads it: /etc/hosts before DNS, as glibc's default
	// and distroless have it.
	etcNsswitch = "hosts: files dns\n"
	nonrootUID  = 65532
)

// debPackage is a Debian package in the base, for the SBOM.
type debPackage struct {
	debPin
	Arch string
}

// base is the base layer and what it was made from.
type base struct {
	layer    v1.Layer
	packages []debPackage
	// certs counts the certificates in the CA bundle.
	certs int
}

// loadBase builds the base layer from the packages of pins, unpacked by
// hack/image/fetch-base.sh into dir (NAME_VERSION.{deb,tar,control}). The
// .deb must have the pinned SHA-256. The CA bundle is made as Debian's
// update-ca-certificates makes /etc/ssl/certs/ca-certificates.crt at install
// time (the package does not ship it): every certificate of
// /usr/share/ca-certificates, in name order, each ending in a newline.
func loadBase(dir string, pins []debPin, mtime time.Time) (*base, error) {
	if len(pins) != 1 || pins[0].Name != caCertificates {
		return nil, fmt.Errorf("base.txt pins %v: the base is made from %s alone", pins, caCertificates)
	}
	pin := pins[0]
	stem := filepath.Join(dir, pin.Name+"_"+pin.Version)
	if err := checkSHA256(stem+".deb", pin.SHA256); err != nil {
		return nil, err
	}
	control, err := os.ReadFile(stem + ".control")
	if err != nil {
		return nil, fmt.Errorf("%w (run hack/image/fetch-base.sh)", err)
	}
	arch := controlField(control, "Architecture")
	if arch != "all" {
		return nil, fmt.Errorf("%s.control: Architecture %q; the base takes packages for all architectures only", stem, arch)
	}
	f, err := os.Open(stem + ".tar")
	if err != nil {
		return nil, fmt.Errorf("%w (run hack/image/fetch-base.sh)", err)
	}
	defer f.Close()
	bundle, n, copyright, err := caBundle(f)
	if err != nil {
		return nil, fmt.Errorf("%s.tar: %w", stem, err)
	}
	layer, err := tarLayer([]tarEntry{
		{Name: "etc/passwd", Mode: 0o644, Data: []byte(etcPasswd)},
		{Name: "etc/group", Mode: 0o644, Data: []byte(etcGroup)},
		{Name: "etc/nsswitch.conf", Mode: 0o644, Data: []byte(etcNsswitch)},
		{Name: caBundlePath, Mode: 0o644, Data: bundle},
		{Name: "home/nonroot/", Mode: 0o700, UID: nonrootUID, GID: nonrootUID},
		{Name: "tmp/", Mode: 0o1777},
		{Name: debCopyright, Mode: 0o644, Data: copyright},
		// Where distroless records its Debian packages, so that image
		// scanners (syft, trivy) see this one.
		{Name: "var/lib/dpkg/status.d/" + pin.Name, Mode: 0o644, Data: control},
	}, mtime)
	if err != nil {
		return nil, err
	}
	return &base{layer: layer, packages: []debPackage{{debPin: pin, Arch: arch}}, certs: n}, nil
}

// checkSHA256 fails unless the file's SHA-256 is want.
func checkSHA256(file, want string) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("%w (run hack/image/fetch-base.sh)", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%s: SHA-256 %s, base.txt pins %s", file, got, want)
	}
	return nil
}

// controlField returns a field of a Debian control file ("" if absent).
func controlField(control []byte, name string) string {
	for _, line := range strings.Split(string(control), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// caBundle reads the filesystem tar of the ca-certificates package and
// returns the CA bundle, the number of certificates in it and the
// package's copyright file. Every certificate must parse.
func caBundle(r io.Reader) (bundle []byte, n int, copyright []byte, err error) {
	certs := map[string][]byte{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, nil, err
		}
		name := strings.TrimPrefix(h.Name, "./")
		isCert := strings.HasPrefix(name, debCertDir) && strings.HasSuffix(name, ".crt")
		if h.Typeflag != tar.TypeReg || !isCert && name != debCopyright {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(tr, 1<<20))
		if err != nil {
			return nil, 0, nil, err
		}
		if name == debCopyright {
			copyright = data
			continue
		}
		certs[strings.TrimPrefix(name, debCertDir)] = data
	}
	if len(certs) == 0 {
		return nil, 0, nil, fmt.Errorf("no certificates under /%s", debCertDir)
	}
	if copyright == nil {
		return nil, 0, nil, fmt.Errorf("no /%s", debCopyright)
	}
	names := make([]string, 0, len(certs))
	for name := range certs {
		names = append(names, name)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	for _, name := range names {
		data := certs[name]
		k, err := countCerts(data)
		if err != nil {
			return nil, 0, nil, fmt.Errorf("%s: %w", name, err)
		}
		n += k
		buf.Write(data)
		if !bytes.HasSuffix(data, []byte("\n")) {
			buf.WriteByte('\n')
		}
	}
	return buf.Bytes(), n, copyright, nil
}

// countCerts counts the PEM certificates of data; anything else in it, or
// a certificate that does not parse, is an error.
func countCerts(data []byte) (int, error) {
	n := 0
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			if len(bytes.TrimSpace(rest)) > 0 {
				return 0, errors.New("text that is not PEM")
			}
			break
		}
		if b.Type != "CERTIFICATE" {
			return 0, fmt.Errorf("a PEM block of type %q", b.Type)
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return 0, err
		}
		n++
	}
	if n == 0 {
		return 0, errors.New("no certificate")
	}
	return n, nil
}
