package main

import (
	"archive/tar"
	"bytes"
	stdgzip "compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func TestTarBytes(t *testing.T) {
	mtime := time.Date(2026, 1, 2, 3, 4, 5, 999, time.FixedZone("x", 3600))
	entries := []tarEntry{
		{Name: "tmp/", Mode: 0o1777},
		{Name: "etc/ssl/certs/b.crt", Mode: 0o644, Data: []byte("b")},
		{Name: "home/nonroot/", Mode: 0o700, UID: 65532, GID: 65532},
		{Name: "etc/passwd", Mode: 0o644, Data: []byte("root")},
	}
	got, err := tarBytes(entries, mtime)
	if err != nil {
		t.Fatal(err)
	}
	// Reversed input, same bytes.
	rev := make([]tarEntry, len(entries))
	for i, e := range entries {
		rev[len(entries)-1-i] = e
	}
	again, err := tarBytes(rev, mtime)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, again) {
		t.Error("the order of the entries given changes the tar")
	}
	type entry struct {
		name     string
		typ      byte
		mode     int64
		uid, gid int
		data     string
	}
	want := []entry{
		{"etc/", tar.TypeDir, 0o755, 0, 0, ""},
		{"etc/passwd", tar.TypeReg, 0o644, 0, 0, "root"},
		{"etc/ssl/", tar.TypeDir, 0o755, 0, 0, ""},
		{"etc/ssl/certs/", tar.TypeDir, 0o755, 0, 0, ""},
		{"etc/ssl/certs/b.crt", tar.TypeReg, 0o644, 0, 0, "b"},
		{"home/", tar.TypeDir, 0o755, 0, 0, ""},
		{"home/nonroot/", tar.TypeDir, 0o700, 65532, 65532, ""},
		{"tmp/", tar.TypeDir, 0o1777, 0, 0, ""},
	}
	tr := tar.NewReader(bytes.NewReader(got))
	var read []entry
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		read = append(read, entry{h.Name, h.Typeflag, h.Mode, h.Uid, h.Gid, string(data)})
		if !h.ModTime.Equal(mtime.Truncate(time.Second)) || h.Uname != "" || h.Gname != "" || !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() {
			t.Errorf("%s: mtime %s, uname %q, gname %q, atime %s, ctime %s", h.Name, h.ModTime, h.Uname, h.Gname, h.AccessTime, h.ChangeTime)
		}
	}
	if len(read) != len(want) {
		t.Fatalf("entries %+v, want %+v", read, want)
	}
	for i := range want {
		if read[i] != want[i] {
			t.Errorf("entry %d: %+v, want %+v", i, read[i], want[i])
		}
	}
}

func TestTarBytesRejects(t *testing.T) {
	tests := []struct {
		name    string
		entries []tarEntry
		want    string
	}{
		{"absolute", []tarEntry{{Name: "/etc/passwd"}}, "clean relative path"},
		{"dot-dot", []tarEntry{{Name: "etc/../passwd"}}, "clean relative path"},
		{"empty", []tarEntry{{Name: ""}}, "clean relative path"},
		{"twice", []tarEntry{{Name: "a"}, {Name: "a"}}, "given twice"},
		{"directory with data", []tarEntry{{Name: "a/", Data: []byte("x")}}, "directory with data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tarBytes(tt.entries, time.Unix(0, 0))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
}

// TestTarLayer: the compressed layer, not only the tar, is the same for
// the same entries, and another mtime makes another layer; its digest and
// diff ID are those of its bytes.
func TestTarLayer(t *testing.T) {
	entries := []tarEntry{{Name: "tokenguard", Mode: 0o755, Data: bytes.Repeat([]byte("tokenguard"), 10000)}}
	digest := func(mtime int64) v1.Hash {
		t.Helper()
		l, err := tarLayer(entries, time.Unix(mtime, 0))
		if err != nil {
			t.Fatal(err)
		}
		d, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if a, b := digest(1767225600), digest(1767225600); a != b {
		t.Errorf("two layers of the same entries: %s and %s", a, b)
	}
	if a, b := digest(1767225600), digest(1767225601); a == b {
		t.Errorf("layers of another mtime have the same digest %s", a)
	}

	l, err := tarLayer(entries, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	gz, _ := l.Compressed()
	zr, err := stdgzip.NewReader(gz)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	tarData, _ := tarBytes(entries, time.Unix(0, 0))
	if !bytes.Equal(unzipped, tarData) {
		t.Error("the gzip stream is not the tar")
	}
	wantDiffID, _, _ := v1.SHA256(bytes.NewReader(tarData))
	if d, _ := l.DiffID(); d != wantDiffID {
		t.Errorf("diff ID %s, want %s", d, wantDiffID)
	}
	gz, _ = l.Compressed()
	wantDigest, size, _ := v1.SHA256(gz)
	if d, _ := l.Digest(); d != wantDigest {
		t.Errorf("digest %s, want %s", d, wantDigest)
	}
	if n, _ := l.Size(); n != size {
		t.Errorf("size %d, want %d", n, size)
	}
	if mt, _ := l.MediaType(); mt != types.OCILayer {
		t.Errorf("media type %s", mt)
	}
}
