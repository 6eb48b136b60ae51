package layers

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"

	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect/filecat"
)

// entry is one tar entry of a test layer.
type entry struct {
	name string
	typ  byte   // tar.TypeReg when zero
	body string // regular files
	link string // symlinks and hard links
	mode int64  // 0644 (0755 for directories) when zero
}

func file(name, body string) entry  { return entry{name: name, body: body} }
func dir(name string) entry         { return entry{name: name, typ: tar.TypeDir} }
func symlink(name, to string) entry { return entry{name: name, typ: tar.TypeSymlink, link: to} }
func hardlink(name, to string) entry {
	return entry{name: name, typ: tar.TypeLink, link: to}
}
func whiteout(name string) entry { return file(name, "") }

// tarOf writes entries as a tar stream.
func tarOf(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Linkname: e.link, Format: tar.FormatPAX}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if h.Typeflag == tar.TypeDir {
			h.Mode = 0o755
		}
		if e.mode != 0 {
			h.Mode = e.mode
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := io.WriteString(tw, e.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipOf(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zstdOf(t testing.TB, b []byte) []byte {
	t.Helper()
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer zw.Close()
	return zw.EncodeAll(b, nil)
}

// gzipLayer is a gzip layer of entries, built the way an image tool
// builds one from a compressed tar.
func gzipLayer(t testing.TB, entries ...entry) v1.Layer {
	t.Helper()
	gz := gzipOf(t, tarOf(t, entries...))
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(gz)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func imageOf(t testing.TB, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// countingLayer counts the calls of Compressed.
type countingLayer struct {
	v1.Layer
	opened atomic.Int32
}

func (l *countingLayer) Compressed() (io.ReadCloser, error) {
	l.opened.Add(1)
	return l.Layer.Compressed()
}

// npmCat is a fake npm cataloger: it wants files named package.json and
// finds "NAME VERSION" in them (nothing in other content).
type npmCat struct{}

func (npmCat) Name() string { return "fake-npm" }

func (npmCat) Wants(f filecat.File) bool { return strings.HasSuffix(f.Path, "/package.json") }

func (npmCat) Read(f filecat.File, r io.Reader, _ filecat.Limits) (filecat.Result, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return filecat.Result{}, err
	}
	name, version, ok := strings.Cut(strings.TrimSpace(string(b)), " ")
	if !ok {
		return filecat.Result{}, nil
	}
	return filecat.Result{Found: []filecat.Found{{
		Package: policy.Package{Type: "npm", Name: name, Version: version, Source: "layer:fake-npm"},
		File:    f.Path,
	}}}, nil
}

// elfCat is a fake Go cataloger: it wants files whose head is an ELF
// magic, whatever their path, and finds "\x7fELF NAME VERSION".
type elfCat struct{}

func (elfCat) Name() string { return "fake-elf" }

func (elfCat) Wants(f filecat.File) bool { return bytes.HasPrefix(f.Head, []byte("\x7fELF")) }

func (elfCat) Read(f filecat.File, r io.Reader, _ filecat.Limits) (filecat.Result, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return filecat.Result{}, err
	}
	fields := strings.Fields(string(b[4:]))
	if len(fields) != 2 {
		return filecat.Result{Notes: []filecat.Note{{File: f.Path, Reason: "no module information"}}}, nil
	}
	return filecat.Result{Found: []filecat.Found{{
		Package: policy.Package{Type: "golang", Name: fields[0], Version: fields[1], Source: "layer:fake-elf"},
		File:    f.Path,
	}}}, nil
}

// recorder records what it is offered and read, and wants what match
// says.
type recorder struct {
	name  string
	match func(filecat.File) bool
	mu    sync.Mutex
	offer []string
	reads map[string][]byte
	heads map[string][]byte
	lims  []filecat.Limits
}

func (r *recorder) Name() string { return r.name }

func (r *recorder) Wants(f filecat.File) bool {
	r.mu.Lock()
	// f.Path is only valid during the call (the layer reader reuses its
	// buffer): a real Wants keeps nothing; this recorder keeps a copy.
	r.offer = append(r.offer, strings.Clone(f.Path))
	r.mu.Unlock()
	return r.match != nil && r.match(f)
}

func (r *recorder) Read(f filecat.File, rd io.Reader, lim filecat.Limits) (filecat.Result, error) {
	b, err := io.ReadAll(rd)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reads == nil {
		r.reads, r.heads = map[string][]byte{}, map[string][]byte{}
	}
	r.reads[f.Path] = b
	r.heads[f.Path] = bytes.Clone(f.Head)
	r.lims = append(r.lims, lim)
	return filecat.Result{}, err
}

// found renders a result's findings as "FILE NAME@VERSION" lines, for
// comparisons.
func found(r Result) []string {
	var out []string
	for _, f := range r.Found {
		out = append(out, f.File+" "+f.Package.Name+"@"+f.Package.Version)
	}
	return out
}

func scanImage(t testing.TB, img v1.Image, opts Options) Result {
	t.Helper()
	if opts.Catalogers == nil {
		opts.Catalogers = []filecat.Cataloger{npmCat{}, elfCat{}}
	}
	r, err := Scan(context.Background(), img, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// staticLayer is a layer of raw bytes and a media type.
func staticLayer(b []byte, mt types.MediaType) v1.Layer { return static.NewLayer(b, mt) }

func catalogers(cs ...filecat.Cataloger) []filecat.Cataloger { return cs }

func pathClean(p string) string { return path.Clean(p) }
