package main

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"sigs.k8s.io/yaml"
)

func TestCertsCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	code, out, errOut := runCLI(t, "", "certs", "--service", "tokenguard", "--namespace", "tokenguard-system", "--out", dir)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "tokenguard.tokenguard-system.svc") {
		t.Errorf("output: %s", out)
	}
	caPEM, _ := os.ReadFile(filepath.Join(dir, "ca.crt"))
	certPEM, _ := os.ReadFile(filepath.Join(dir, "tls.crt"))
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("no CA")
	}
	block, _ := pem.Decode(certPEM)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"tokenguard.tokenguard-system.svc", "tokenguard.tokenguard-system.svc.cluster.local"} {
		if _, err := cert.Verify(x509.VerifyOptions{DNSName: name, Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if st, err := os.Stat(filepath.Join(dir, "tls.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("tls.key mode: %v %v", st.Mode(), err)
	}
	// The patch names every entry of the shipped configuration.
	var patch, base admissionregistrationv1.ValidatingWebhookConfiguration
	data, _ := os.ReadFile(filepath.Join(dir, CABundlePatchFile))
	if err := yaml.UnmarshalStrict(data, &patch); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile("../../deploy/base/validatingwebhookconfiguration.yaml")
	if err := yaml.UnmarshalStrict(data, &base); err != nil {
		t.Fatal(err)
	}
	if len(patch.Webhooks) != len(base.Webhooks) {
		t.Fatalf("patch has %d entries, deploy/base %d", len(patch.Webhooks), len(base.Webhooks))
	}
	for i := range base.Webhooks {
		if patch.Webhooks[i].Name != base.Webhooks[i].Name || string(patch.Webhooks[i].ClientConfig.CABundle) != string(caPEM) {
			t.Errorf("entry %d: %s, caBundle matches %v", i, patch.Webhooks[i].Name, string(patch.Webhooks[i].ClientConfig.CABundle) == string(caPEM))
		}
	}
	if code, _, _ := runCLI(t, "", "certs"); code != exitUsage {
		t.Errorf("no --out: exit %d", code)
	}
}

// TestCertsRefusesShortValidity: `certs --validity 1ns` made a certificate
// expired on arrival (issue #13); below certs.MinServingValidity it is a
// usage error and nothing is written.
func TestCertsRefusesShortValidity(t *testing.T) {
	for _, validity := range []string{"1ns", "59m59s", "-1h"} {
		t.Run(validity, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "certs")
			code, _, errOut := runCLI(t, "", "certs", "--out", dir, "--validity", validity)
			if code != exitUsage || !strings.Contains(errOut, "--validity") || !strings.Contains(errOut, "1h0m0s") {
				t.Errorf("exit %d, stderr %q; want 2 naming --validity and the minimum", code, errOut)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("%s was written: %v", dir, err)
			}
		})
	}
	if code, _, errOut := runCLI(t, "", "certs", "--out", t.TempDir(), "--validity", "1h"); code != exitOK {
		t.Errorf("--validity 1h: exit %d: %s", code, errOut)
	}
}
