package auditsink

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestSinkAuthentication(t *testing.T) {
	verified := &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{{}}}}
	for _, tt := range []struct {
		name   string
		header string
		tls    *tls.ConnectionState
		code   int
	}{
		{name: "nothing", code: 401},
		{name: "wrong token", header: "Bearer nope", code: 401},
		{name: "token prefix", header: "Bearer " + testToken[:5], code: 401},
		{name: "token and more", header: "Bearer " + testToken + "x", code: 401},
		{name: "empty bearer", header: "Bearer ", code: 401},
		{name: "basic", header: "Basic " + testToken, code: 401},
		{name: "token without scheme", header: testToken, code: 401},
		{name: "TLS without a verified client certificate", tls: &tls.ConnectionState{}, code: 401},
		{name: "token", header: "Bearer " + testToken, code: 200},
		{name: "scheme in lower case", header: "bearer " + testToken, code: 200},
		{name: "second token", header: "Bearer other-token", code: 200},
		{name: "verified client certificate", tls: verified, code: 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSink(nil, nil, Options{BearerTokens: []string{"", "other-token"}})
			r := httptest.NewRequest(http.MethodPost, "/audit", strings.NewReader(batch()))
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			r.TLS = tt.tls
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, r)
			if rec.Code != tt.code {
				t.Fatalf("HTTP %d, want %d: %s", rec.Code, tt.code, rec.Body)
			}
			if tt.code == 401 {
				if rec.Header().Get("WWW-Authenticate") == "" {
					t.Error("a 401 without WWW-Authenticate")
				}
				if got := testutil.ToFloat64(s.batches.WithLabelValues("unauthorized")); got != 1 {
					t.Errorf("batches{result=unauthorized} = %v", got)
				}
			}
		})
	}
}

// TestSinkWithoutAuthentication: zero Options accept nobody, not even an
// empty bearer token.
func TestSinkWithoutAuthentication(t *testing.T) {
	s := New(prometheus.NewRegistry(), nil, Options{BearerTokens: []string{""}})
	for _, h := range []string{"", "Bearer ", "Bearer  "} {
		r := httptest.NewRequest(http.MethodPost, "/audit", strings.NewReader(batch()))
		r.Header.Set("Authorization", h)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, r)
		if rec.Code != 401 {
			t.Errorf("Authorization %q: HTTP %d", h, rec.Code)
		}
	}
}

func TestOptionsAuthenticated(t *testing.T) {
	for _, tt := range []struct {
		o    Options
		want bool
	}{
		{Options{}, false},
		{Options{BearerTokens: []string{""}}, false},
		{Options{BearerTokens: []string{"t"}}, true},
		{Options{ClientCertificates: true}, true},
	} {
		if got := tt.o.Authenticated(); got != tt.want {
			t.Errorf("%+v: Authenticated() = %v", tt.o, got)
		}
	}
}

// testCA is a CA that signs client certificates.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (ca *testCA) client(t *testing.T, name string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestSinkMutualTLS: through a real TLS listener configured with
// ClientAuthTLS, a client certificate of the client CA is let in, a
// connection without a certificate needs the token, and a certificate of
// another CA fails the handshake.
func TestSinkMutualTLS(t *testing.T) {
	ca, other := newTestCA(t, "audit clients"), newTestCA(t, "someone else")
	file := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(file, ca.pem, 0o600); err != nil {
		t.Fatal(err)
	}
	pool, err := LoadClientCAs(file)
	if err != nil {
		t.Fatal(err)
	}
	s := newSink(nil, nil, Options{ClientCertificates: true})
	srv := httptest.NewUnstartedServer(s)
	srv.TLS = ClientAuthTLS(nil, pool)
	srv.StartTLS()
	defer srv.Close()

	for _, tt := range []struct {
		name  string
		cert  *tls.Certificate
		token string
		code  int // 0: the handshake fails
	}{
		{name: "client certificate", cert: ptr(ca.client(t, "kube-apiserver")), code: 200},
		{name: "no certificate, no token", code: 401},
		{name: "no certificate, token", token: testToken, code: 200},
		{name: "certificate of another CA", cert: ptr(other.client(t, "kube-apiserver")), token: testToken},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tr := srv.Client().Transport.(*http.Transport).Clone()
			if tt.cert != nil { // sent even when the server names other CAs
				tr.TLSClientConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return tt.cert, nil }
			}
			defer tr.CloseIdleConnections()
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/audit", strings.NewReader(batch(event("ns", "sa", 5, "p"))))
			if err != nil {
				t.Fatal(err)
			}
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := (&http.Client{Transport: tr}).Do(req)
			if tt.code == 0 {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("HTTP %d, want a failed handshake", resp.StatusCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.code {
				t.Errorf("HTTP %d, want %d", resp.StatusCode, tt.code)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestClientAuthTLS(t *testing.T) {
	base := &tls.Config{MinVersion: tls.VersionTLS13, NextProtos: []string{"h2"}}
	pool := x509.NewCertPool()
	cfg := ClientAuthTLS(base, pool)
	if cfg == base || cfg.ClientAuth != tls.VerifyClientCertIfGiven || cfg.ClientCAs != pool || cfg.MinVersion != tls.VersionTLS13 || len(cfg.NextProtos) != 1 {
		t.Errorf("ClientAuthTLS(base, pool) = %+v", cfg)
	}
	if base.ClientAuth != tls.NoClientCert || base.ClientCAs != nil {
		t.Error("ClientAuthTLS changed its base")
	}
	// A nil pool would verify against the system roots: no client
	// certificates then.
	if cfg := ClientAuthTLS(nil, nil); cfg.ClientAuth != tls.NoClientCert || cfg.MinVersion < tls.VersionTLS12 {
		t.Errorf("ClientAuthTLS(nil, nil) = %+v", cfg)
	}
}

func TestLoadClientCAs(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not-pem")
	if err := os.WriteFile(notPEM, []byte("hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{notPEM, filepath.Join(dir, "missing.pem")} {
		if _, err := LoadClientCAs(file); err == nil || !strings.Contains(err.Error(), file) {
			t.Errorf("LoadClientCAs(%s) = %v, want an error naming the file", file, err)
		}
	}
}

func TestLoadTokens(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name, content string
		want          string // tokens joined by ","; "" with errPart
		errPart       string
	}{
		{name: "tokens", content: "# the API server\n\n  abc123  \r\ndef456\n#old\n", want: "abc123,def456"},
		{name: "no final newline", content: "abc", want: "abc"},
		{name: "only comments", content: "# nothing\n\n   \n", errPart: "holds no token"},
		{name: "empty", content: "", errPart: "holds no token"},
		{name: "space inside", content: "abc def\n", errPart: "line 1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			if err := os.WriteFile(file, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := LoadTokens(file)
			if tt.errPart != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errPart) || !strings.Contains(err.Error(), file) {
					t.Fatalf("LoadTokens = %q, %v; want an error naming the file and %q", got, err, tt.errPart)
				}
				return
			}
			if err != nil || strings.Join(got, ",") != tt.want {
				t.Fatalf("LoadTokens = %q, %v; want %s", got, err, tt.want)
			}
		})
	}
	missing := filepath.Join(dir, "missing")
	if _, err := LoadTokens(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("LoadTokens(missing) = %v", err)
	}
}
