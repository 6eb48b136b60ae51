package certs

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"slices"
	"testing"
	"time"
)

var testNow = time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC)

func parseCertPEM(t *testing.T, data []byte) *x509.Certificate {
	t.Helper()
	block, rest := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" || len(rest) != 0 {
		t.Fatalf("not a single CERTIFICATE PEM block: %q", data)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGenerate(t *testing.T) {
	tests := []struct {
		name     string
		sans     []string
		validity time.Duration
		wantDNS  []string
		wantIPs  []string
		wantCN   string
		wantLife time.Duration
	}{
		{
			name:     "service names",
			sans:     ServiceSANs("tokenguard", "tokenguard-system"),
			validity: 90 * 24 * time.Hour,
			wantDNS:  ServiceSANs("tokenguard", "tokenguard-system"),
			wantCN:   "tokenguard",
			wantLife: 90 * 24 * time.Hour,
		},
		{
			name:     "ips and names, default validity",
			sans:     []string{"localhost", "127.0.0.1", "::1", "localhost"},
			wantDNS:  []string{"localhost"},
			wantIPs:  []string{"127.0.0.1", "::1"},
			wantCN:   "localhost",
			wantLife: DefaultServingValidity,
		},
		{
			name:     "ip first",
			sans:     []string{"10.0.0.1", "webhook.example.com"},
			validity: time.Hour,
			wantDNS:  []string{"webhook.example.com"},
			wantIPs:  []string{"10.0.0.1"},
			wantCN:   "10.0.0.1",
			wantLife: time.Hour,
		},
		{
			name:     "wildcard",
			sans:     []string{"*.tokenguard.svc"},
			validity: time.Hour,
			wantDNS:  []string{"*.tokenguard.svc"},
			wantCN:   "*.tokenguard.svc",
			wantLife: time.Hour,
		},
		{
			name:     "serving longer than CA default",
			sans:     []string{"a"},
			validity: 2 * DefaultCAValidity,
			wantDNS:  []string{"a"},
			wantCN:   "a",
			wantLife: 2 * DefaultCAValidity,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Generate(tt.sans, testNow, tt.validity)
			if err != nil {
				t.Fatal(err)
			}
			ca := parseCertPEM(t, b.CACertPEM)
			leaf := parseCertPEM(t, b.CertPEM)

			if _, err := tls.X509KeyPair(b.CertPEM, b.KeyPEM); err != nil {
				t.Errorf("serving pair: %v", err)
			}
			if _, err := tls.X509KeyPair(b.CACertPEM, b.CAKeyPEM); err != nil {
				t.Errorf("CA pair: %v", err)
			}
			for _, k := range [][]byte{b.KeyPEM, b.CAKeyPEM} {
				block, _ := pem.Decode(k)
				if block == nil || block.Type != "PRIVATE KEY" {
					t.Fatalf("key is not a PRIVATE KEY PEM block")
				}
				key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
				if err != nil {
					t.Fatal(err)
				}
				if ek, ok := key.(*ecdsa.PrivateKey); !ok || ek.Curve.Params().Name != "P-256" {
					t.Errorf("key is %T, want ECDSA P-256", key)
				}
			}

			// CA properties.
			if !ca.IsCA || !ca.BasicConstraintsValid || ca.KeyUsage&x509.KeyUsageCertSign == 0 {
				t.Errorf("CA: IsCA=%v BasicConstraintsValid=%v KeyUsage=%v", ca.IsCA, ca.BasicConstraintsValid, ca.KeyUsage)
			}
			if want := testNow.Truncate(time.Second); !ca.NotBefore.Equal(want) {
				t.Errorf("CA NotBefore = %v, want %v", ca.NotBefore, want)
			}
			if ca.NotAfter.Before(leaf.NotAfter) || ca.NotAfter.Sub(ca.NotBefore) < DefaultCAValidity {
				t.Errorf("CA NotAfter = %v, leaf NotAfter = %v", ca.NotAfter, leaf.NotAfter)
			}

			// Leaf properties.
			if leaf.IsCA {
				t.Error("leaf is a CA")
			}
			if !slices.Equal(leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
				t.Errorf("ExtKeyUsage = %v, want [ServerAuth]", leaf.ExtKeyUsage)
			}
			if leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
				t.Errorf("KeyUsage = %v, want DigitalSignature", leaf.KeyUsage)
			}
			if got, want := leaf.NotBefore, testNow.Truncate(time.Second); !got.Equal(want) {
				t.Errorf("NotBefore = %v, want %v", got, want)
			}
			if got, want := leaf.NotAfter, testNow.Truncate(time.Second).Add(tt.wantLife); !got.Equal(want) {
				t.Errorf("NotAfter = %v, want %v", got, want)
			}
			if leaf.Subject.CommonName != tt.wantCN {
				t.Errorf("CommonName = %q, want %q", leaf.Subject.CommonName, tt.wantCN)
			}
			if !slices.Equal(leaf.DNSNames, tt.wantDNS) {
				t.Errorf("DNSNames = %q, want %q", leaf.DNSNames, tt.wantDNS)
			}
			var ips []string
			for _, ip := range leaf.IPAddresses {
				ips = append(ips, ip.String())
			}
			if !slices.Equal(ips, tt.wantIPs) {
				t.Errorf("IPAddresses = %q, want %q", ips, tt.wantIPs)
			}
			if len(leaf.SubjectKeyId) == 0 || len(ca.SubjectKeyId) == 0 {
				t.Error("SubjectKeyId not set")
			}
			if !slices.Equal(leaf.AuthorityKeyId, ca.SubjectKeyId) {
				t.Errorf("leaf AuthorityKeyId = %x, want CA SubjectKeyId %x", leaf.AuthorityKeyId, ca.SubjectKeyId)
			}
			for _, s := range []*x509.Certificate{ca, leaf} {
				if s.SerialNumber.Sign() <= 0 || s.SerialNumber.BitLen() > 128 {
					t.Errorf("serial %x not in [1, 2^128)", s.SerialNumber)
				}
			}
			if ca.SerialNumber.Cmp(leaf.SerialNumber) == 0 {
				t.Error("CA and leaf share a serial number")
			}

			// Every SAN verifies against the CA.
			roots := x509.NewCertPool()
			roots.AddCert(ca)
			at := testNow.Add(time.Minute)
			for _, san := range tt.sans {
				name := san
				if san == "*.tokenguard.svc" {
					name = "webhook.tokenguard.svc"
				}
				_, err := leaf.Verify(x509.VerifyOptions{
					DNSName:     name,
					Roots:       roots,
					CurrentTime: at,
					KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
				})
				if err != nil {
					t.Errorf("verify for %q: %v", name, err)
				}
			}
			if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "other.example.com", Roots: roots, CurrentTime: at}); err == nil {
				t.Error("verified for a name not in the SANs")
			}
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: testNow.Add(tt.wantLife + time.Second)}); err == nil {
				t.Error("verified after NotAfter")
			}
		})
	}
}

func TestGenerateSerialsDiffer(t *testing.T) {
	a, err := Generate([]string{"a"}, testNow, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate([]string{"a"}, testNow, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if parseCertPEM(t, a.CertPEM).SerialNumber.Cmp(parseCertPEM(t, b.CertPEM).SerialNumber) == 0 {
		t.Error("two generated certificates share a serial number")
	}
}

func TestGenerateLongCommonName(t *testing.T) {
	long := "a-very-long-service-name-that-goes-on.some-namespace.svc.cluster.local"
	b, err := Generate([]string{long}, testNow, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	leaf := parseCertPEM(t, b.CertPEM)
	if leaf.Subject.CommonName != "" {
		t.Errorf("CommonName = %q, want empty for a name over 64 bytes", leaf.Subject.CommonName)
	}
	if !slices.Equal(leaf.DNSNames, []string{long}) {
		t.Errorf("DNSNames = %q", leaf.DNSNames)
	}
}

func TestGenerateErrors(t *testing.T) {
	tests := []struct {
		name     string
		sans     []string
		validity time.Duration
		want     error
	}{
		{"nil", nil, time.Hour, ErrNoSANs},
		{"empty", []string{}, time.Hour, ErrNoSANs},
		{"empty name", []string{"ok", ""}, time.Hour, ErrInvalidSAN},
		{"uppercase", []string{"Tokenguard.svc"}, time.Hour, ErrInvalidSAN},
		{"underscore", []string{"token_guard"}, time.Hour, ErrInvalidSAN},
		{"space", []string{"token guard"}, time.Hour, ErrInvalidSAN},
		{"trailing dot", []string{"tokenguard.svc."}, time.Hour, ErrInvalidSAN},
		{"leading hyphen", []string{"-tokenguard"}, time.Hour, ErrInvalidSAN},
		{"double wildcard", []string{"*.*.svc"}, time.Hour, ErrInvalidSAN},
		{"inner wildcard", []string{"a.*.svc"}, time.Hour, ErrInvalidSAN},
		{"bare wildcard", []string{"*"}, time.Hour, ErrInvalidSAN},
		{"url", []string{"https://tokenguard"}, time.Hour, ErrInvalidSAN},
		{"ip with port", []string{"127.0.0.1:8443"}, time.Hour, ErrInvalidSAN},
		{"negative validity", []string{"a"}, -time.Hour, ErrInvalidValidity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Generate(tt.sans, testNow, tt.validity)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Generate(%q) error = %v, want %v", tt.sans, err, tt.want)
			}
			if b != nil {
				t.Error("bundle returned with error")
			}
		})
	}
}

func TestServiceSANs(t *testing.T) {
	got := ServiceSANs("tokenguard", "tokenguard-system")
	want := []string{
		"tokenguard",
		"tokenguard.tokenguard-system",
		"tokenguard.tokenguard-system.svc",
		"tokenguard.tokenguard-system.svc.cluster.local",
	}
	if !slices.Equal(got, want) {
		t.Errorf("ServiceSANs = %q, want %q", got, want)
	}
}

func TestSelfSigned(t *testing.T) {
	now := time.Now()
	cert, caPEM, err := SelfSigned([]string{"localhost", "127.0.0.1"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Leaf == nil {
		t.Fatal("Leaf not set")
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("caPEM holds no certificate")
	}
	if got, want := cert.Leaf.NotAfter, now.UTC().Truncate(time.Second).Add(DefaultServingValidity); !got.Equal(want) {
		t.Errorf("NotAfter = %v, want %v", got, want)
	}

	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{*cert},
		MinVersion:   tls.VersionTLS12,
	})
	if err != nil {
		t.Fatal(err)
	}
	stop := serveHandshakes(t, ln)
	defer stop()
	for _, name := range []string{"localhost", "127.0.0.1"} {
		conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: roots, ServerName: name, MinVersion: tls.VersionTLS12})
		if err != nil {
			t.Errorf("handshake as %q: %v", name, err)
			continue
		}
		conn.Close()
	}

	if _, _, err := SelfSigned(nil, now); !errors.Is(err, ErrNoSANs) {
		t.Errorf("SelfSigned(nil) error = %v, want ErrNoSANs", err)
	}
}

// serveHandshakes completes TLS handshakes on ln until the returned stop
// function closes it.
func serveHandshakes(t *testing.T, ln net.Listener) (stop func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	return func() {
		ln.Close()
		<-done
	}
}
