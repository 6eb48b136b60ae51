package certs

import (
	"bytes"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// validityClock is a settable clock for the Reloader.
type validityClock struct{ t time.Time }

func (c *validityClock) now() time.Time { return c.t }

func writeBundle(t *testing.T, dir string, notBefore time.Time, validity time.Duration) *Bundle {
	t.Helper()
	b, err := Generate([]string{"localhost"}, notBefore, validity)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteFiles(dir, b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNewReloaderRefusesOutOfPeriod: serve must not start on a certificate
// that the API server would refuse (issue #13: `certs --validity 1ns` made
// one, and serve loaded it).
func TestNewReloaderRefusesOutOfPeriod(t *testing.T) {
	start := time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		now         time.Time
		notYetValid bool
		wantIn      []string
	}{
		{"expired", start.Add(2 * time.Hour), false, []string{"expired", "NotAfter 2026-03-14T16:00:00Z"}},
		{"not yet valid", start.Add(-time.Hour), true, []string{"not valid yet", "NotBefore 2026-03-14T15:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeBundle(t, dir, start, time.Hour)
			certFile := filepath.Join(dir, CertFile)
			r, err := NewReloader(certFile, filepath.Join(dir, KeyFile), WithClock(func() time.Time { return tt.now }))
			if err == nil || r != nil {
				t.Fatalf("NewReloader = %v, %v; want an error", r, err)
			}
			var ve *ValidityError
			if !errors.As(err, &ve) || ve.NotYetValid() != tt.notYetValid {
				t.Fatalf("error %v (%T), want a *ValidityError with NotYetValid %v", err, err, tt.notYetValid)
			}
			for _, s := range append(tt.wantIn, certFile) {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
	// The last second of the period still loads.
	dir := t.TempDir()
	writeBundle(t, dir, start, time.Hour)
	if _, err := NewReloader(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile), WithClock(func() time.Time { return start.Add(time.Hour) })); err != nil {
		t.Errorf("at NotAfter: %v", err)
	}
}

// TestReloaderKeepsPairOverExpiredOne: a rotation to an expired certificate
// keeps the served pair and logs why; one not valid yet is read again on
// later ticks and served once its period begins.
func TestReloaderKeepsPairOverExpiredOne(t *testing.T) {
	start := time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
	clock := &validityClock{t: start.Add(time.Minute)}
	dir := t.TempDir()
	good := writeBundle(t, dir, start, 24*time.Hour)
	var logs bytes.Buffer
	r, err := NewReloader(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile), WithClock(clock.now),
		WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	served := parseCertPEM(t, good.CertPEM).SerialNumber

	// Expired an hour ago.
	writeBundle(t, dir, start.Add(-2*time.Hour), time.Hour)
	r.check()
	if got := r.Certificate().Leaf.SerialNumber; got.Cmp(served) != 0 {
		t.Errorf("serving %x after an expired rotation, want the old %x", got, served)
	}
	var ve *ValidityError
	if err := r.LastError(); !errors.As(err, &ve) || ve.NotYetValid() {
		t.Errorf("LastError = %v, want an expiry", err)
	}
	if !strings.Contains(logs.String(), "keeping the served certificate") || !strings.Contains(logs.String(), "NotAfter 2026-03-14T14:00:00Z") {
		t.Errorf("no log of the kept pair:\n%s", logs.String())
	}

	// Valid from an hour from now: kept out, then served when its time comes.
	next := writeBundle(t, dir, start.Add(time.Hour), 24*time.Hour)
	r.check()
	if got := r.Certificate().Leaf.SerialNumber; got.Cmp(served) != 0 {
		t.Errorf("serving %x before its NotBefore, want the old %x", got, served)
	}
	if err := r.LastError(); !errors.As(err, &ve) || !ve.NotYetValid() {
		t.Errorf("LastError = %v, want not valid yet", err)
	}
	clock.t = start.Add(time.Hour + time.Second)
	r.check()
	if got, want := r.Certificate().Leaf.SerialNumber, parseCertPEM(t, next.CertPEM).SerialNumber; got.Cmp(want) != 0 {
		t.Errorf("serving %x once valid, want the new %x", got, want)
	}
	if err := r.LastError(); err != nil {
		t.Errorf("LastError = %v once the new pair loaded", err)
	}
}
