package layers

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tokenguard/tokenguard/pkg/sdkdetect/filecat"
)

// readsAll wants every file and reads it to its end.
type readsAll struct{}

func (readsAll) Name() string            { return "reads-all" }
func (readsAll) Wants(filecat.File) bool { return true }
func (readsAll) Read(f filecat.File, r io.Reader, _ filecat.Limits) (filecat.Result, error) {
	n, err := io.Copy(io.Discard, r)
	if err == nil && n != f.Size {
		return filecat.Result{Notes: []filecat.Note{{File: f.Path, Reason: "short"}}}, nil
	}
	return filecat.Result{}, err
}

var fuzzMediaTypes = []types.MediaType{types.OCILayer, types.OCILayerZStd, types.OCIUncompressedLayer, "application/octet-stream"}

// FuzzScanLayer scans arbitrary layer bytes: it never panics, never hangs,
// always returns a result that says why it is incomplete, and never reads
// past its budgets.
func FuzzScanLayer(f *testing.F) {
	layer := tarOf(f,
		dir("app/"), file("app/package.json", "app 1.0.0"), file("usr/bin/tool", "\x7fELF k8s.io/client-go v0.15.7"),
		symlink("app/link", "../../etc/passwd"), hardlink("app/hard", "usr/bin/tool"),
		whiteout("app/.wh.gone"), whiteout("app/.wh..wh..opq"), file("a/../../b/package.json", "b 2"),
	)
	for i := range fuzzMediaTypes {
		f.Add(uint8(i), gzipOf(f, layer))
		f.Add(uint8(i), zstdOf(f, layer))
		f.Add(uint8(i), layer)
		f.Add(uint8(i), gzipOf(f, layer)[:40])
	}
	for _, data := range writtenTars(f) {
		f.Add(uint8(2), data)
	}
	const maxTar = 4 << 20
	f.Fuzz(func(t *testing.T, mt uint8, data []byte) {
		l := staticLayer(data, fuzzMediaTypes[int(mt)%len(fuzzMediaTypes)])
		r, err := ScanLayers(context.Background(), []v1.Layer{l, l}, Options{
			Catalogers:           catalogers(npmCat{}, elfCat{}, readsAll{}),
			MaxUncompressedBytes: maxTar,
			Limits:               filecat.Limits{MaxFileBytes: 1 << 20},
		})
		if err != nil {
			t.Fatal(err)
		}
		if r.Complete != (r.Reason == "") || r.Complete != (len(r.Gaps) == 0) {
			t.Fatalf("Complete %v, reason %q, gaps %d", r.Complete, r.Reason, len(r.Gaps))
		}
		if r.UncompressedBytes > maxTar || r.CompressedBytes > 2*int64(len(data)) {
			t.Fatalf("read %d compressed, %d uncompressed bytes", r.CompressedBytes, r.UncompressedBytes)
		}
		if !slices.IsSortedFunc(r.Found, compareFound) {
			t.Fatalf("findings not sorted: %v", r.Found)
		}
		for _, fd := range r.Found {
			if !strings.HasPrefix(fd.File, "/") || strings.Contains(fd.File, "/../") {
				t.Fatalf("finding at %q", fd.File)
			}
		}
	})
}

func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"./a", "a/../../etc/x", "//a", "", ".", "..", "a/./b/", "/.wh..wh..opq"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got := cleanPath(name)
		if !strings.HasPrefix(got, "/") || got != pathClean("/"+name) {
			t.Fatalf("cleanPath(%q) = %q, want %q", name, got, pathClean("/"+name))
		}
		if b := string(appendCleanPath(nil, []byte(name))); b != got {
			t.Fatalf("bytes %q, string %q", b, got)
		}
	})
}
