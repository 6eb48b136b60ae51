package layers

import (
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/tokenguard/tokenguard/pkg/sdkdetect/filecat"
)

// TestLaterLayersWin checks the overlay rules end to end: layers built as
// tars, stacked into an image, scanned.
func TestLaterLayersWin(t *testing.T) {
	const (
		goBin    = "\x7fELF k8s.io/client-go v0.15.7"
		goBinNew = "\x7fELF k8s.io/client-go v0.30.0"
	)
	base := []entry{
		dir("app/"),
		dir("app/node_modules/"),
		dir("app/node_modules/@kubernetes/"),
		dir("app/node_modules/@kubernetes/client-node/"),
		file("app/node_modules/@kubernetes/client-node/package.json", "@kubernetes/client-node 0.10.2"),
		dir("app/node_modules/other/"),
		file("app/node_modules/other/package.json", "other 1.0.0"),
		dir("usr/"),
		dir("usr/bin/"),
		file("usr/bin/tool", goBin),
	}
	all := []string{
		"/app/node_modules/@kubernetes/client-node/package.json @kubernetes/client-node@0.10.2",
		"/app/node_modules/other/package.json other@1.0.0",
		"/usr/bin/tool k8s.io/client-go@v0.15.7",
	}
	tests := []struct {
		name  string
		upper [][]entry
		want  []string
	}{
		{
			name: "no upper layer",
			want: all,
		},
		{
			name:  "unrelated upper layer keeps everything",
			upper: [][]entry{{dir("etc/"), file("etc/hostname", "x"), dir("app/"), dir("app/node_modules/")}},
			want:  all,
		},
		{
			name:  "whiteout of a file",
			upper: [][]entry{{whiteout("app/node_modules/other/.wh.package.json")}},
			want:  []string{all[0], all[2]},
		},
		{
			name:  "whiteout of a directory removes everything under it",
			upper: [][]entry{{whiteout("app/.wh.node_modules")}},
			want:  []string{all[2]},
		},
		{
			name:  "whiteout of a sibling with a common prefix removes nothing",
			upper: [][]entry{{whiteout("app/node_modules/.wh.oth"), whiteout("usr/bin/.wh.too")}},
			want:  all,
		},
		{
			name:  "opaque directory empties it, keeps its own new files",
			upper: [][]entry{{dir("app/node_modules/"), whiteout("app/node_modules/.wh..wh..opq"), file("app/node_modules/new/package.json", "new 2.0.0")}},
			want:  []string{"/app/node_modules/new/package.json new@2.0.0", all[2]},
		},
		{
			name:  "opaque root directory",
			upper: [][]entry{{whiteout(".wh..wh..opq")}},
			want:  nil,
		},
		{
			name:  "AUFS metadata is no whiteout",
			upper: [][]entry{{whiteout("app/.wh..wh.plnk"), whiteout(".wh..wh.aufs")}},
			want:  all,
		},
		{
			name:  "replaced file: the later version wins",
			upper: [][]entry{{file("app/node_modules/@kubernetes/client-node/package.json", "@kubernetes/client-node 0.10.3")}},
			want:  []string{"/app/node_modules/@kubernetes/client-node/package.json @kubernetes/client-node@0.10.3", all[1], all[2]},
		},
		{
			name:  "replaced by a wanted file with nothing in it",
			upper: [][]entry{{file("app/node_modules/other/package.json", "{}")}},
			want:  []string{all[0], all[2]},
		},
		{
			// The ELF cataloger does not want a script: the summary must
			// still know the layer wrote the path.
			name:  "executable replaced by a script no cataloger wants",
			upper: [][]entry{{file("usr/bin/tool", "#!/bin/sh\nexec /usr/bin/tool.real \"$@\"\n")}},
			want:  all[:2],
		},
		{
			name:  "executable rewritten with a new version",
			upper: [][]entry{{file("usr/bin/tool", goBinNew)}},
			want:  []string{all[0], all[1], "/usr/bin/tool k8s.io/client-go@v0.30.0"},
		},
		{
			name:  "file replaced by a directory",
			upper: [][]entry{{dir("usr/bin/tool/"), file("usr/bin/tool/README", "x")}},
			want:  all[:2],
		},
		{
			name:  "file replaced by a symlink",
			upper: [][]entry{{symlink("usr/bin/tool", "/opt/tool")}},
			want:  all[:2],
		},
		{
			name:  "directory replaced by a symlink hides what was under it",
			upper: [][]entry{{symlink("app/node_modules", "/srv/node_modules")}},
			want:  []string{all[2]},
		},
		{
			name:  "directory replaced by a file hides what was under it",
			upper: [][]entry{{file("app/node_modules/@kubernetes", "not a directory")}},
			want:  []string{all[1], all[2]},
		},
		{
			name:  "directory rewritten as a directory hides nothing",
			upper: [][]entry{{dir("app/node_modules/@kubernetes/client-node/"), file("app/node_modules/@kubernetes/client-node/README.md", "x")}},
			want:  all,
		},
		{
			name: "whiteout then a new file in a third layer",
			upper: [][]entry{
				{whiteout("app/.wh.node_modules")},
				{file("app/node_modules/other/package.json", "other 3.0.0")},
			},
			want: []string{"/app/node_modules/other/package.json other@3.0.0", all[2]},
		},
		{
			name:  "hard link in a later layer to a lower wanted file",
			upper: [][]entry{{dir("opt/"), hardlink("opt/tool", "usr/bin/tool")}},
			want:  []string{all[0], all[1], "/opt/tool k8s.io/client-go@v0.15.7", all[2]},
		},
		{
			name: "hard link to a lower file that a middle layer replaced",
			upper: [][]entry{
				{file("usr/bin/tool", "#!/bin/sh")},
				{hardlink("opt/tool", "usr/bin/tool")},
			},
			want: all[:2],
		},
		{
			name:  "whiteout and new file of the same path in one layer: the new file stays",
			upper: [][]entry{{whiteout("usr/bin/.wh.tool"), file("usr/bin/tool", goBinNew)}},
			want:  []string{all[0], all[1], "/usr/bin/tool k8s.io/client-go@v0.30.0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			layers := []v1.Layer{gzipLayer(t, base...)}
			for _, u := range tt.upper {
				layers = append(layers, gzipLayer(t, u...))
			}
			r := scanImage(t, imageOf(t, layers...), Options{})
			if !r.Complete {
				t.Fatalf("incomplete: %s", r.Reason)
			}
			if got := found(r); !slices.Equal(got, tt.want) {
				t.Errorf("found\n%q\nwant\n%q", got, tt.want)
			}
			if r.LayersRead != len(layers) || r.Layers != len(layers) {
				t.Errorf("LayersRead %d, Layers %d, want %d", r.LayersRead, r.Layers, len(layers))
			}
		})
	}
}

// TestWithinOneLayer checks that a later entry of the same tar replaces an
// earlier one (tars appended to, hand-made layers).
func TestWithinOneLayer(t *testing.T) {
	tests := []struct {
		name    string
		entries []entry
		want    []string
	}{
		{
			name:    "same path twice: the last wins",
			entries: []entry{file("a/package.json", "a 1"), file("a/package.json", "a 2")},
			want:    []string{"/a/package.json a@2"},
		},
		{
			name:    "file rewritten with nothing found",
			entries: []entry{file("a/package.json", "a 1"), file("a/package.json", "")},
			want:    nil,
		},
		{
			name:    "directory replaced by a symlink in the same tar",
			entries: []entry{file("a/b/package.json", "b 1"), file("a/c/package.json", "c 1"), symlink("a/b", "/x")},
			want:    []string{"/a/c/package.json c@1"},
		},
		{
			name:    "hard link within the layer",
			entries: []entry{file("usr/bin/kubectl", "\x7fELF k8s.io/client-go v0.29.1"), hardlink("usr/local/bin/kubectl", "./usr/bin/kubectl")},
			want:    []string{"/usr/bin/kubectl k8s.io/client-go@v0.29.1", "/usr/local/bin/kubectl k8s.io/client-go@v0.29.1"},
		},
		{
			name:    "hard link to a file outside the image is clamped, finds nothing",
			entries: []entry{hardlink("usr/bin/x", "../../../../etc/passwd")},
			want:    nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := scanImage(t, imageOf(t, gzipLayer(t, tt.entries...)), Options{})
			if !r.Complete {
				t.Fatalf("incomplete: %s", r.Reason)
			}
			if got := found(r); !slices.Equal(got, tt.want) {
				t.Errorf("found\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// TestSymlinksAreNotFollowed: a symlink named like a wanted file, pointing
// outside the image, is recorded and never offered nor resolved.
func TestSymlinksAreNotFollowed(t *testing.T) {
	rec := &recorder{name: "rec", match: func(f filecat.File) bool { return true }}
	img := imageOf(t,
		gzipLayer(t, file("app/package.json", "app 1.0.0")),
		gzipLayer(t,
			symlink("app/package.json", "../../../../../etc/passwd"),
			symlink("etc/hostname", "/etc/hostname"),
			symlink("proc-self", "/proc/self/root"),
		),
	)
	r := scanImage(t, img, Options{Catalogers: catalogers(npmCat{}, rec)})
	if !r.Complete || len(r.Found) != 0 {
		t.Fatalf("Complete %v, found %q, want the symlink to hide the file", r.Complete, found(r))
	}
	if want := []string{"/app/package.json"}; !slices.Equal(rec.offer, want) {
		t.Errorf("offered %q, want only the regular file %q", rec.offer, want)
	}
}
