package certs

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// secretVolume lays files out as the kubelet does for a Secret volume:
// dir/..<timestamp>/<files>, dir/..data -> ..<timestamp>, and
// dir/<file> -> ..data/<file>. Each update writes a new timestamped
// directory and swaps ..data atomically with a rename.
type secretVolume struct {
	t    *testing.T
	dir  string
	n    int
	prev string
}

func newSecretVolume(t *testing.T) *secretVolume {
	return &secretVolume{t: t, dir: t.TempDir()}
}

func (v *secretVolume) certFile() string { return filepath.Join(v.dir, CertFile) }
func (v *secretVolume) keyFile() string  { return filepath.Join(v.dir, KeyFile) }

func (v *secretVolume) update(certPEM, keyPEM []byte) {
	t := v.t
	t.Helper()
	v.n++
	ts := fmt.Sprintf("..2026_03_14_15_09_%02d.%09d", v.n, v.n)
	if err := os.Mkdir(filepath.Join(v.dir, ts), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{CertFile: certPEM, KeyFile: keyPEM} {
		if err := os.WriteFile(filepath.Join(v.dir, ts, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tmp := filepath.Join(v.dir, "..data_tmp")
	if err := os.Symlink(ts, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(v.dir, "..data")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{CertFile, KeyFile} {
		link := filepath.Join(v.dir, name)
		if _, err := os.Lstat(link); os.IsNotExist(err) {
			if err := os.Symlink(filepath.Join("..data", name), link); err != nil {
				t.Fatal(err)
			}
		}
	}
	if v.prev != "" {
		if err := os.RemoveAll(filepath.Join(v.dir, v.prev)); err != nil {
			t.Fatal(err)
		}
	}
	v.prev = ts
}

// pair is a generated serving certificate with its CA and serial.
type pair struct {
	b      *Bundle
	serial *big.Int
}

func newPair(t *testing.T) pair {
	t.Helper()
	b, err := Generate([]string{"localhost", "127.0.0.1"}, time.Now().Add(-time.Minute), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return pair{b: b, serial: parseCertPEM(t, b.CertPEM).SerialNumber}
}

// tlsServer serves handshakes with r's certificate and reports the serial a
// client sees.
type tlsServer struct {
	t     *testing.T
	addr  string
	roots *x509.CertPool
}

func startTLSServer(t *testing.T, r *Reloader, pairs ...pair) *tlsServer {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		GetCertificate: r.GetCertificate,
		MinVersion:     tls.VersionTLS12,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(serveHandshakes(t, ln))
	roots := x509.NewCertPool()
	for _, p := range pairs {
		roots.AppendCertsFromPEM(p.b.CACertPEM)
	}
	return &tlsServer{t: t, addr: ln.Addr().String(), roots: roots}
}

func (s *tlsServer) serial() *big.Int {
	s.t.Helper()
	conn, err := tls.Dial("tcp", s.addr, &tls.Config{
		RootCAs:    s.roots,
		ServerName: "127.0.0.1",
		MinVersion: tls.VersionTLS12,
	})
	if err != nil {
		s.t.Fatalf("handshake: %v", err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber
}

// eventually polls cond until it holds or a deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func runReloader(t *testing.T, r *Reloader) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

func TestReloaderRotation(t *testing.T) {
	a, b, c, d := newPair(t), newPair(t), newPair(t), newPair(t)
	vol := newSecretVolume(t)
	vol.update(a.b.CertPEM, a.b.KeyPEM)

	var logs syncBuffer
	r, err := NewReloader(vol.certFile(), vol.keyFile(),
		WithInterval(20*time.Millisecond),
		WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Ready() {
		t.Fatal("not ready after NewReloader")
	}
	if r.LastError() != nil {
		t.Fatalf("LastError = %v", r.LastError())
	}
	srv := startTLSServer(t, r, a, b)
	if got := srv.serial(); got.Cmp(a.serial) != 0 {
		t.Fatalf("serving serial %x, want A %x", got, a.serial)
	}
	runReloader(t, r)

	// Rotate to B the way the kubelet does.
	vol.update(b.b.CertPEM, b.b.KeyPEM)
	eventually(t, "B is served", func() bool { return srv.serial().Cmp(b.serial) == 0 })
	if got, want := r.NotAfter(), parseCertPEM(t, b.b.CertPEM).NotAfter; !got.Equal(want) {
		t.Errorf("NotAfter = %v, want %v", got, want)
	}
	if got := r.Certificate().Leaf.SerialNumber; got.Cmp(b.serial) != 0 {
		t.Errorf("Certificate() serial %x, want B %x", got, b.serial)
	}
	if r.LastError() != nil {
		t.Errorf("LastError = %v after a good rotation", r.LastError())
	}

	// A mismatched pair (C's certificate, D's key) keeps B.
	vol.update(c.b.CertPEM, d.b.KeyPEM)
	eventually(t, "the mismatch is recorded", func() bool { return r.LastError() != nil })
	if err := r.LastError(); !strings.Contains(err.Error(), vol.certFile()) || !strings.Contains(err.Error(), vol.keyFile()) {
		t.Errorf("LastError = %v, want it to name both files", err)
	}
	if got := srv.serial(); got.Cmp(b.serial) != 0 {
		t.Errorf("after mismatch serving %x, want B %x", got, b.serial)
	}
	if !r.Ready() {
		t.Error("not ready after a failed reload")
	}

	// Half-written content keeps B too.
	vol.update(c.b.CertPEM[:len(c.b.CertPEM)/2], c.b.KeyPEM)
	eventually(t, "the truncated certificate is recorded", func() bool {
		err := r.LastError()
		return err != nil && !strings.Contains(err.Error(), "private key does not match")
	})
	if got := srv.serial(); got.Cmp(b.serial) != 0 {
		t.Errorf("after truncated write serving %x, want B %x", got, b.serial)
	}

	// Deleted files keep B.
	for _, name := range []string{CertFile, KeyFile, "..data", vol.prev} {
		if err := os.RemoveAll(filepath.Join(vol.dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the missing files are recorded", func() bool {
		err := r.LastError()
		return err != nil && os.IsNotExist(unwrapAll(err))
	})
	if got := srv.serial(); got.Cmp(b.serial) != 0 {
		t.Errorf("after deletion serving %x, want B %x", got, b.serial)
	}

	// A good pair again clears the error.
	vol.prev = ""
	vol.update(c.b.CertPEM, c.b.KeyPEM)
	srvC := startTLSServer(t, r, c)
	eventually(t, "C is served", func() bool { return r.Certificate().Leaf.SerialNumber.Cmp(c.serial) == 0 })
	if got := srvC.serial(); got.Cmp(c.serial) != 0 {
		t.Errorf("serving %x, want C %x", got, c.serial)
	}
	if r.LastError() != nil {
		t.Errorf("LastError = %v after recovery", r.LastError())
	}

	out := logs.String()
	for _, want := range []string{"loaded new serving certificate", "keeping the served certificate"} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q:\n%s", want, out)
		}
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

// TestReloaderRevertClearsError: files going back to the served content after
// a bad write clear LastError without a reload.
func TestReloaderRevertClearsError(t *testing.T) {
	a, c := newPair(t), newPair(t)
	vol := newSecretVolume(t)
	vol.update(a.b.CertPEM, a.b.KeyPEM)
	r, err := NewReloader(vol.certFile(), vol.keyFile(), WithInterval(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	runReloader(t, r)
	vol.update(a.b.CertPEM, c.b.KeyPEM)
	eventually(t, "the mismatch is recorded", func() bool { return r.LastError() != nil })
	vol.update(a.b.CertPEM, a.b.KeyPEM)
	eventually(t, "the error clears", func() bool { return r.LastError() == nil })
	if got := r.Certificate().Leaf.SerialNumber; got.Cmp(a.serial) != 0 {
		t.Errorf("serving %x, want A %x", got, a.serial)
	}
}

// TestReloaderPlainFiles: files replaced in place (WriteFiles) are picked up.
func TestReloaderPlainFiles(t *testing.T) {
	a, b := newPair(t), newPair(t)
	dir := t.TempDir()
	if err := WriteFiles(dir, a.b); err != nil {
		t.Fatal(err)
	}
	r, err := NewReloader(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile), WithInterval(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	runReloader(t, r)
	if err := WriteFiles(dir, b.b); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B is served", func() bool { return r.Certificate().Leaf.SerialNumber.Cmp(b.serial) == 0 })
}

func TestNewReloaderErrors(t *testing.T) {
	a, b := newPair(t), newPair(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	certA := write("a.crt", a.b.CertPEM)
	keyA := write("a.key", a.b.KeyPEM)
	keyB := write("b.key", b.b.KeyPEM)
	garbage := write("garbage.crt", []byte("not pem"))
	missing := filepath.Join(dir, "missing.crt")

	tests := []struct {
		name      string
		cert, key string
		wantIn    []string
	}{
		{"mismatched key", certA, keyB, []string{certA, keyB, "private key does not match"}},
		{"missing cert", missing, keyA, []string{missing}},
		{"missing key", certA, missing, []string{missing}},
		{"garbage cert", garbage, keyA, []string{garbage, keyA}},
		{"swapped", keyA, certA, []string{keyA, certA}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReloader(tt.cert, tt.key)
			if err == nil {
				t.Fatal("no error")
			}
			if r != nil {
				t.Error("Reloader returned with error")
			}
			for _, s := range tt.wantIn {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}

	if (*Reloader)(nil).Ready() {
		t.Error("nil Reloader is ready")
	}
}

func TestReloaderDefaults(t *testing.T) {
	a := newPair(t)
	dir := t.TempDir()
	if err := WriteFiles(dir, a.b); err != nil {
		t.Fatal(err)
	}
	r, err := NewReloader(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile), WithInterval(0), WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	if r.interval != DefaultReloadInterval {
		t.Errorf("interval = %v, want %v", r.interval, DefaultReloadInterval)
	}
	if r.log == nil {
		t.Error("nil logger")
	}
	got, err := r.GetCertificate(&tls.ClientHelloInfo{})
	if err != nil || got == nil || got.Leaf.SerialNumber.Cmp(a.serial) != 0 {
		t.Errorf("GetCertificate = %v, %v", got, err)
	}
}
