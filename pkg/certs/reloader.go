package certs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultReloadInterval is how often a Reloader checks its files.
const DefaultReloadInterval = 10 * time.Second

// ReloaderOption configures a Reloader.
type ReloaderOption func(*Reloader)

// WithInterval sets how often Run checks the files for new content. The
// default is DefaultReloadInterval (10s); a non-positive d keeps the default.
func WithInterval(d time.Duration) ReloaderOption {
	return func(r *Reloader) {
		if d > 0 {
			r.interval = d
		}
	}
}

// WithLogger sets the logger for reloads and reload failures. The default
// discards log records; a nil l keeps the default.
func WithLogger(l *slog.Logger) ReloaderOption {
	return func(r *Reloader) {
		if l != nil {
			r.log = l
		}
	}
}

// WithClock sets the clock that a certificate's validity period is checked
// against. The default is time.Now; a nil now keeps the default.
func WithClock(now func() time.Time) ReloaderOption {
	return func(r *Reloader) {
		if now != nil {
			r.now = now
		}
	}
}

// Reloader serves a certificate and key read from files and picks up new
// content without a restart. It compares a hash of the files' content on
// every tick, which follows symlinks and so also sees the atomic "..data"
// symlink swap of Kubernetes Secret and ConfigMap volumes.
//
// When new content does not load (half-written, mismatched key, deleted
// files, a certificate that is expired or not yet valid) the Reloader keeps serving the last good certificate, records the
// error (see LastError) and reads the files again on every tick; content that
// already failed is not parsed twice, so the error is logged once.
type Reloader struct {
	certFile, keyFile string
	interval          time.Duration
	log               *slog.Logger
	now               func() time.Time

	cert atomic.Pointer[tls.Certificate] // never nil after NewReloader

	mu         sync.Mutex // serializes reloads and guards the fields below
	servedSum  [sha256.Size]byte
	failedSum  [sha256.Size]byte // content that last failed to load, if any
	haveFailed bool
	lastErr    error
}

// NewReloader loads certFile and keyFile (PEM) and returns a Reloader serving
// them. It fails, naming the files, if either is unreadable, they do not
// form a key pair, or the certificate is expired or not yet valid (a
// *ValidityError). Call Run to watch for changes.
func NewReloader(certFile, keyFile string, opts ...ReloaderOption) (*Reloader, error) {
	r := &Reloader{
		certFile: certFile,
		keyFile:  keyFile,
		interval: DefaultReloadInterval,
		log:      slog.New(slog.DiscardHandler),
		now:      time.Now,
	}
	for _, o := range opts {
		o(r)
	}
	certPEM, keyPEM, sum, err := r.read()
	if err != nil {
		return nil, err
	}
	cert, err := r.parse(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	r.cert.Store(cert)
	r.servedSum = sum
	return r, nil
}

// GetCertificate returns the current certificate. It is meant for
// tls.Config.GetCertificate and does no I/O.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.cert.Load(), nil
}

// Certificate returns the certificate currently served, with Leaf set.
func (r *Reloader) Certificate() *tls.Certificate {
	return r.cert.Load()
}

// NotAfter returns the expiry of the leaf certificate currently served.
func (r *Reloader) NotAfter() time.Time {
	if c := r.cert.Load(); c != nil && c.Leaf != nil {
		return c.Leaf.NotAfter
	}
	return time.Time{}
}

// Ready reports whether a certificate is loaded. It is true for any Reloader
// returned by NewReloader and false for a nil one.
func (r *Reloader) Ready() bool {
	return r != nil && r.cert.Load() != nil
}

// LastError returns the error of the most recent check, or nil if the files
// hold the certificate being served.
func (r *Reloader) LastError() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastErr
}

// Run checks the files once, then every interval, until ctx is done.
func (r *Reloader) Run(ctx context.Context) {
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		r.check()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// check reads the files and swaps in their certificate if their content
// changed and loads.
func (r *Reloader) check() {
	r.mu.Lock()
	defer r.mu.Unlock()

	certPEM, keyPEM, sum, err := r.read()
	switch {
	case err != nil:
		r.fail(err)
		return
	case sum == r.servedSum:
		if r.lastErr != nil {
			r.log.Info("certificate files hold the served certificate again",
				"cert", r.certFile, "key", r.keyFile)
		}
		r.lastErr, r.haveFailed = nil, false
		return
	case r.haveFailed && sum == r.failedSum:
		// Same bytes as the last failure: loading them again gives the same
		// error, already recorded and logged.
		return
	}
	cert, err := r.parse(certPEM, keyPEM)
	if err != nil {
		// A certificate not yet valid (issued on a node whose clock runs
		// ahead) becomes valid without changing: read it again next tick.
		// Other failures are a property of the bytes.
		var ve *ValidityError
		if !errors.As(err, &ve) || !ve.NotYetValid() {
			r.failedSum, r.haveFailed = sum, true
		}
		r.fail(err)
		return
	}
	r.cert.Store(cert)
	r.servedSum = sum
	r.lastErr, r.haveFailed = nil, false
	r.log.Info("loaded new serving certificate",
		"cert", r.certFile, "key", r.keyFile,
		"serial", cert.Leaf.SerialNumber.Text(16),
		"notAfter", cert.Leaf.NotAfter)
}

// fail records err, logging it unless it repeats the previous error.
func (r *Reloader) fail(err error) {
	if r.lastErr == nil || r.lastErr.Error() != err.Error() {
		r.log.Warn("keeping the served certificate; new files do not load",
			"cert", r.certFile, "key", r.keyFile, "error", err)
	}
	r.lastErr = err
}

// errUnstable means the files kept changing while being read.
var errUnstable = errors.New("files changed while being read")

// read returns the content of both files and a hash over them. It reads the
// certificate again after the key and retries if it changed, so that a
// rotation between the two reads is not mistaken for a mismatched pair.
func (r *Reloader) read() (certPEM, keyPEM []byte, sum [sha256.Size]byte, err error) {
	for range 3 {
		certPEM, err = os.ReadFile(r.certFile)
		if err != nil {
			return nil, nil, sum, fmt.Errorf("certs: reading certificate: %w", err)
		}
		keyPEM, err = os.ReadFile(r.keyFile)
		if err != nil {
			return nil, nil, sum, fmt.Errorf("certs: reading key: %w", err)
		}
		again, err := os.ReadFile(r.certFile)
		if err != nil {
			return nil, nil, sum, fmt.Errorf("certs: reading certificate: %w", err)
		}
		if bytes.Equal(certPEM, again) {
			h := sha256.New()
			var n [8]byte
			binary.BigEndian.PutUint64(n[:], uint64(len(certPEM)))
			h.Write(n[:])
			h.Write(certPEM)
			h.Write(keyPEM)
			h.Sum(sum[:0])
			return certPEM, keyPEM, sum, nil
		}
	}
	return nil, nil, sum, fmt.Errorf("certs: reading %s and %s: %w", r.certFile, r.keyFile, errUnstable)
}

func (r *Reloader) parse(certPEM, keyPEM []byte) (*tls.Certificate, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("certs: loading key pair from %s and %s: %w", r.certFile, r.keyFile, err)
	}
	if cert.Leaf == nil {
		leaf, err := x509.ParseCertificate(cert.Certificate[0])
		if err != nil {
			return nil, fmt.Errorf("certs: parsing certificate %s: %w", r.certFile, err)
		}
		cert.Leaf = leaf
	}
	if err := checkValidity(r.certFile, cert.Leaf, r.now()); err != nil {
		return nil, err
	}
	return &cert, nil
}

// ValidityError says that a certificate file holds a certificate outside its
// validity period at the time it was loaded.
type ValidityError struct {
	File                string
	NotBefore, NotAfter time.Time
	Now                 time.Time
}

// NotYetValid reports whether the certificate's period has not begun.
func (e *ValidityError) NotYetValid() bool { return e.Now.Before(e.NotBefore) }

func (e *ValidityError) Error() string {
	if e.NotYetValid() {
		return fmt.Sprintf("certs: certificate %s is not valid yet: NotBefore %s, now %s; check the clocks of the issuer and this node",
			e.File, e.NotBefore.UTC().Format(time.RFC3339), e.Now.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("certs: certificate %s expired: NotAfter %s, now %s; issue a new serving certificate",
		e.File, e.NotAfter.UTC().Format(time.RFC3339), e.Now.UTC().Format(time.RFC3339))
}

// checkValidity returns a *ValidityError when now is outside leaf's validity
// period (both ends inclusive, as crypto/x509 verifies).
func checkValidity(file string, leaf *x509.Certificate, now time.Time) error {
	if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return &ValidityError{File: file, NotBefore: leaf.NotBefore, NotAfter: leaf.NotAfter, Now: now}
	}
	return nil
}
