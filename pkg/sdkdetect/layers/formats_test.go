package layers

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tokenguard/tokenguard/pkg/sdkdetect/filecat"
)

func TestCompressions(t *testing.T) {
	tarball := tarOf(t, dir("app/"), file("app/package.json", "app 1.2.3"), file("app/other.js", "x"))
	want := []string{"/app/package.json app@1.2.3"}
	tests := []struct {
		name string
		data []byte
		mt   types.MediaType
	}{
		{"gzip", gzipOf(t, tarball), types.OCILayer},
		{"docker gzip", gzipOf(t, tarball), types.DockerLayer},
		{"zstd", zstdOf(t, tarball), types.OCILayerZStd},
		{"uncompressed OCI", tarball, types.OCIUncompressedLayer},
		{"uncompressed Docker", tarball, types.DockerUncompressedLayer},
		{"nondistributable gzip", gzipOf(t, tarball), types.OCIRestrictedLayer},
		{"nondistributable uncompressed", tarball, types.OCIUncompressedRestrictedLayer},
		{"nondistributable zstd", zstdOf(t, tarball), "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"},
		{"generic type, gzip magic", gzipOf(t, tarball), "application/octet-stream"},
		{"generic type, zstd magic", zstdOf(t, tarball), "application/octet-stream"},
		{"no type, tar", tarball, ""},
		{"mislabelled: uncompressed type, gzip content", gzipOf(t, tarball), types.DockerUncompressedLayer},
		{"mislabelled: gzip type, zstd content", zstdOf(t, tarball), types.OCILayer},
		{"multi-member gzip", append(gzipOf(t, tarball[:1024]), gzipOf(t, tarball[1024:])...), types.OCILayer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := scanImage(t, imageOf(t, staticLayer(tt.data, tt.mt)), Options{})
			if !r.Complete {
				t.Fatalf("incomplete: %s", r.Reason)
			}
			if got := found(r); !slices.Equal(got, want) {
				t.Errorf("found %q, want %q", got, want)
			}
			if r.Files != 2 || r.CompressedBytes != int64(len(tt.data)) || r.UncompressedBytes != int64(len(tarball)) {
				t.Errorf("Files %d, CompressedBytes %d, UncompressedBytes %d; want 2, %d, %d",
					r.Files, r.CompressedBytes, r.UncompressedBytes, len(tt.data), len(tarball))
			}
		})
	}
}

// TestRandomLayers reads ggcr's random layers (one big random file each),
// the kind of layers go-containerregistry's own tests use.
func TestRandomLayers(t *testing.T) {
	img, err := random.Image(1<<20, 3)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{name: "rec", match: func(filecat.File) bool { return true }}
	r := scanImage(t, img, Options{Catalogers: catalogers(rec)})
	if !r.Complete || r.LayersRead != 3 || r.Files != 3 {
		t.Fatalf("Complete %v (%s), LayersRead %d, Files %d", r.Complete, r.Reason, r.LayersRead, r.Files)
	}
	for p, b := range rec.reads {
		if len(b) != 1<<20 {
			t.Errorf("%s: read %d bytes, want %d", p, len(b), 1<<20)
		}
	}
}

func TestNotAFilesystemLayer(t *testing.T) {
	good := gzipLayer(t, file("app/package.json", "app 1.0.0"))
	tests := []struct {
		name string
		mt   types.MediaType
		kind string
	}{
		{"in-toto attestation", "application/vnd.in-toto+json", `has media type "application/vnd.in-toto+json", not a filesystem layer`},
		{"helm chart", "application/vnd.cncf.helm.chart.content.v1.tar+gzip", `has media type "application/vnd.cncf.helm.chart.content.v1.tar+gzip"`},
		{"encrypted", "application/vnd.oci.image.layer.v1.tar+gzip+encrypted", "is encrypted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			other := staticLayer([]byte(`{"payloadType":"x"}`), tt.mt)
			r := scanImage(t, imageOf(t, good, other), Options{})
			if r.Complete || len(r.Gaps) != 1 || r.Gaps[0].Kind != GapMediaType {
				t.Fatalf("Complete %v, gaps %+v; want one %s gap", r.Complete, r.Gaps, GapMediaType)
			}
			d, _ := other.Digest()
			if !strings.Contains(r.Reason, tt.kind) || !strings.Contains(r.Reason, "layer 2 of 2 ("+d.String()+")") || r.Gaps[0].Layer != d {
				t.Errorf("reason %q, layer %v; want it to name layer 2 (%s) and say %q", r.Reason, r.Gaps[0].Layer, d, tt.kind)
			}
			// The filesystem layer is still read.
			if got := found(r); !slices.Equal(got, []string{"/app/package.json app@1.0.0"}) || r.LayersRead != 1 {
				t.Errorf("found %q, LayersRead %d", got, r.LayersRead)
			}
		})
	}
}

func TestPathsAreCleaned(t *testing.T) {
	tests := []struct{ name, want string }{
		{"./a/package.json", "/a/package.json"},
		{"a/package.json", "/a/package.json"},
		{"/a/package.json", "/a/package.json"},
		{"//a//package.json", "/a/package.json"},
		{"a/./b/../package.json", "/a/package.json"},
		{"a/../../etc/x/package.json", "/etc/x/package.json"},
		{"../../../package.json", "/package.json"},
		{"./././a/package.json", "/a/package.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cleanPath(tt.name); got != tt.want {
				t.Errorf("cleanPath(%q) = %q, want %q", tt.name, got, tt.want)
			}
			rec := &recorder{name: "rec", match: func(filecat.File) bool { return true }}
			r := scanImage(t, imageOf(t, gzipLayer(t, file(tt.name, "x 1"))), Options{Catalogers: catalogers(rec)})
			if !r.Complete || !slices.Equal(rec.offer, []string{tt.want}) {
				t.Errorf("offered %q (complete %v), want %q", rec.offer, r.Complete, tt.want)
			}
		})
	}
	// Directory names, the root, whiteout names.
	for name, want := range map[string]string{
		"": "/", ".": "/", "./": "/", "/": "/", "a/b/": "/a/b", "a//": "/a", "..": "/", "a/..": "/",
		"a/.wh..wh..opq": "/a/.wh..wh..opq", ".../x": "/.../x", "a/..b": "/a/..b",
	} {
		if got := cleanPath(name); got != want {
			t.Errorf("cleanPath(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestPathsEscapingRootClampWhiteouts(t *testing.T) {
	// A whiteout whose name climbs out of the root deletes inside it.
	img := imageOf(t,
		gzipLayer(t, file("etc/x/package.json", "x 1")),
		gzipLayer(t, whiteout("../../etc/.wh.x")),
	)
	if r := scanImage(t, img, Options{}); len(r.Found) != 0 {
		t.Errorf("found %q, want the clamped whiteout to delete /etc/x", found(r))
	}
}
