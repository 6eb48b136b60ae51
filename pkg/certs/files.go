package certs

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// File names written by WriteFiles, as in a kubernetes.io/tls Secret plus
// the CA.
const (
	CACertFile = "ca.crt"
	CAKeyFile  = "ca.key"
	CertFile   = "tls.crt"
	KeyFile    = "tls.key"
)

// WriteFiles writes b into dir as ca.crt, ca.key, tls.crt and tls.key,
// creating dir with mode 0700 if needed. Certificates get mode 0644 and keys
// 0600. Each file is replaced atomically (temporary file, then rename), so a
// reader sees the old or the new content, never a mix; existing files are
// overwritten.
func WriteFiles(dir string, b *Bundle) error {
	if b == nil {
		return errors.New("certs: nil bundle")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("certs: creating directory: %w", err)
	}
	// Key before certificate, so that a reloader watching tls.crt/tls.key sees
	// at most one transient mismatch and then the new pair.
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{CACertFile, b.CACertPEM, 0o644},
		{CAKeyFile, b.CAKeyPEM, 0o600},
		{KeyFile, b.KeyPEM, 0o600},
		{CertFile, b.CertPEM, 0o644},
	}
	for _, f := range files {
		if len(f.data) == 0 {
			return fmt.Errorf("certs: bundle has no content for %s", f.name)
		}
	}
	for _, f := range files {
		if err := writeAtomic(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			return err
		}
	}
	return syncDir(dir)
}

func writeAtomic(path string, data []byte, mode os.FileMode) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("certs: writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	// Set the mode before any key bytes are written; CreateTemp uses 0600.
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("certs: writing %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("certs: writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("certs: writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("certs: writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("certs: writing %s: %w", path, err)
	}
	return nil
}

// syncDir makes the renames durable. Platforms that cannot sync a directory
// are not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	defer d.Close()
	_ = d.Sync()
	return nil
}

// CABundlePatch is a kustomize strategic-merge patch that sets the caBundle
// of the named entries of a ValidatingWebhookConfiguration (entries merge by
// name), for deploy/overlays/self-signed.
func CABundlePatch(configuration string, webhooks []string, caPEM []byte) string {
	bundle := base64.StdEncoding.EncodeToString(caPEM)
	var b strings.Builder
	b.WriteString("# Written by tokenguard certs: the CA bundle of every webhook entry.\n")
	fmt.Fprintf(&b, "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata:\n  name: %s\nwebhooks:\n", configuration)
	for _, n := range webhooks {
		fmt.Fprintf(&b, "- name: %s\n  clientConfig:\n    caBundle: %s\n", n, bundle)
	}
	return b.String()
}
