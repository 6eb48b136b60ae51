package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
)

// tarEntry is one file or directory of a layer.
type tarEntry struct {
	// Name is the path without a leading slash; a directory's ends in "/".
	Name     string
	Mode     int64 // permission bits, with 01000 for the sticky bit
	UID, GID int
	Data     []byte
}

func (e tarEntry) isDir() bool { return strings.HasSuffix(e.Name, "/") }

// tarBytes writes entries as a tar stream that depends on nothing but its
// arguments: entries sorted by name, every parent directory present (added
// as 0755 root:root when not given), every mtime set to mtime, no user or
// group names, no access or change times.
func tarBytes(entries []tarEntry, mtime time.Time) ([]byte, error) {
	byName := make(map[string]tarEntry, len(entries))
	for _, e := range entries {
		if e.Name == "" || strings.HasPrefix(e.Name, "/") || path.Clean(strings.TrimSuffix(e.Name, "/")) != strings.TrimSuffix(e.Name, "/") {
			return nil, fmt.Errorf("tar entry %q: want a clean relative path", e.Name)
		}
		if e.isDir() && len(e.Data) > 0 {
			return nil, fmt.Errorf("tar entry %q: a directory with data", e.Name)
		}
		if _, dup := byName[e.Name]; dup {
			return nil, fmt.Errorf("tar entry %q given twice", e.Name)
		}
		byName[e.Name] = e
	}
	for _, e := range entries {
		for dir := path.Dir(strings.TrimSuffix(e.Name, "/")); dir != "."; dir = path.Dir(dir) {
			if _, ok := byName[dir+"/"]; !ok {
				byName[dir+"/"] = tarEntry{Name: dir + "/", Mode: 0o755}
			}
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	mtime = mtime.UTC().Truncate(time.Second)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		e := byName[n]
		h := &tar.Header{Name: e.Name, Mode: e.Mode, Uid: e.UID, Gid: e.GID, ModTime: mtime, Format: tar.FormatUSTAR}
		if e.isDir() {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.Data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("tar entry %q: %w", e.Name, err)
		}
		if _, err := tw.Write(e.Data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// tarLayer is tarBytes as a gzip-compressed OCI layer. The compression is
// deterministic too: one gzip stream at a fixed level, no name or mtime in
// its header.
func tarLayer(entries []tarEntry, mtime time.Time) (v1.Layer, error) {
	data, err := tarBytes(entries, mtime)
	if err != nil {
		return nil, err
	}
	return newGzipLayer(data)
}

// gzipLayer is a layer held in memory, both its tar and its gzip stream,
// so that its digest and diff ID are each one SHA-256 of bytes at hand.
// klauspost's gzip: three times as fast as compress/gzip at the same level
// (a 24 MB binary: 0.25 s instead of 0.8 s, 5 s instead of 17 s under the
// race detector), for 2% more bytes.
type gzipLayer struct {
	tar, gz        []byte
	digest, diffID v1.Hash
}

func newGzipLayer(tarData []byte) (*gzipLayer, error) {
	var buf bytes.Buffer
	w, err := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(tarData); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	l := &gzipLayer{tar: tarData, gz: buf.Bytes()}
	if l.diffID, _, err = v1.SHA256(bytes.NewReader(l.tar)); err != nil {
		return nil, err
	}
	if l.digest, _, err = v1.SHA256(bytes.NewReader(l.gz)); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *gzipLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *gzipLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *gzipLayer) Size() (int64, error)                { return int64(len(l.gz)), nil }
func (l *gzipLayer) MediaType() (types.MediaType, error) { return types.OCILayer, nil }
func (l *gzipLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.gz)), nil
}
func (l *gzipLayer) Uncompressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.tar)), nil
}
