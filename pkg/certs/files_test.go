package certs

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWriteFiles(t *testing.T) {
	b, err := Generate([]string{"localhost"}, testNow, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out", "certs")
	if err := WriteFiles(dir, b); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o700 {
		t.Errorf("dir mode %o, want 700", got)
	}

	// A second write overwrites.
	b2, err := Generate([]string{"localhost"}, testNow, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteFiles(dir, b2); err != nil {
		t.Fatal(err)
	}

	for _, f := range []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{CACertFile, b2.CACertPEM, 0o644},
		{CAKeyFile, b2.CAKeyPEM, 0o600},
		{CertFile, b2.CertPEM, 0o644},
		{KeyFile, b2.KeyPEM, 0o600},
	} {
		p := filepath.Join(dir, f.name)
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, f.data) {
			t.Errorf("%s: content differs", f.name)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != f.mode {
			t.Errorf("%s: mode %o, want %o", f.name, got, f.mode)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 4 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("dir holds %q, want only the four files", names)
	}
}

func TestWriteFilesErrors(t *testing.T) {
	dir := t.TempDir()
	if err := WriteFiles(dir, nil); err == nil {
		t.Error("nil bundle: no error")
	}
	if err := WriteFiles(dir, &Bundle{CACertPEM: []byte("x")}); err == nil {
		t.Error("incomplete bundle: no error")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("incomplete bundle wrote %d files", len(entries))
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := Generate([]string{"localhost"}, testNow, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteFiles(filepath.Join(file, "sub"), b); err == nil {
		t.Error("dir under a file: no error")
	}
}
