package layers

import (
	"errors"
	"io"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect/filecat"
)

func TestOfferedFiles(t *testing.T) {
	long := "\x7fELF\x02\x01\x01\x00" + strings.Repeat("0123456789", 1000)
	rec := &recorder{name: "rec", match: func(f filecat.File) bool { return !strings.HasSuffix(f.Path, "skip") }}
	img := imageOf(t, gzipLayer(t,
		dir("bin/"),
		file("bin/long", long),
		file("bin/short", "abc"),
		file("bin/empty", ""),
		file("bin/skip", "not wanted"),
		symlink("bin/link", "long"),
		hardlink("bin/hard", "bin/long"),
		whiteout("bin/.wh.gone"),
		whiteout("bin/.wh..wh..opq"),
	))
	r := scanImage(t, img, Options{Catalogers: catalogers(rec), Limits: filecat.Limits{MaxFileBytes: 4096}})
	if !r.Complete || r.Files != 4 {
		t.Fatalf("Complete %v (%s), Files %d, want 4 regular files", r.Complete, r.Reason, r.Files)
	}
	// Wants sees regular files only: no directory, link or whiteout.
	if want := []string{"/bin/long", "/bin/short", "/bin/empty", "/bin/skip"}; !slices.Equal(rec.offer, want) {
		t.Errorf("offered %q, want %q", rec.offer, want)
	}
	// The head is the first bytes, and Read still gets them.
	for path, want := range map[string]string{"/bin/long": long, "/bin/short": "abc", "/bin/empty": ""} {
		if got := string(rec.reads[path]); got != want {
			t.Errorf("%s: read %d bytes %.20q, want %d bytes", path, len(got), got, len(want))
		}
		if h, wantH := string(rec.heads[path]), want[:min(len(want), filecat.HeadSize)]; h != wantH {
			t.Errorf("%s: head %q, want %q", path, h, wantH)
		}
	}
	// Over MaxFileBytes the only cataloger still gets the stream, and its
	// limits.
	for _, l := range rec.lims {
		if l.MaxFileBytes != 4096 {
			t.Errorf("limits %+v, want MaxFileBytes 4096", l)
		}
	}
	if _, ok := rec.reads["/bin/skip"]; ok {
		t.Error("a file no cataloger wants was read")
	}
}

func TestDefaultLimits(t *testing.T) {
	rec := &recorder{name: "rec", match: func(filecat.File) bool { return true }}
	scanImage(t, imageOf(t, gzipLayer(t, file("a", "x"))), Options{Catalogers: catalogers(rec)})
	if len(rec.lims) != 1 || rec.lims[0].MaxFileBytes != DefaultMaxFileBytes {
		t.Errorf("limits %+v, want the default", rec.lims)
	}
}

func TestFileMode(t *testing.T) {
	var got []fs.FileMode
	c := &funcCat{wants: func(f filecat.File) bool { got = append(got, f.Mode); return false }}
	img := imageOf(t, gzipLayer(t,
		entry{name: "usr/bin/su", body: "\x7fELF", mode: 0o4755},
		entry{name: "usr/bin/crontab", body: "\x7fELF", mode: 0o2711},
		entry{name: "etc/motd", body: "hi", mode: 0o600},
	))
	scanImage(t, img, Options{Catalogers: catalogers(c)})
	want := []fs.FileMode{fs.ModeSetuid | 0o755, fs.ModeSetgid | 0o711, 0o600}
	if !slices.Equal(got, want) {
		t.Errorf("modes %v, want %v", got, want)
	}
}

func TestSeveralCatalogersWantOneFile(t *testing.T) {
	a := &recorder{name: "a", match: func(filecat.File) bool { return true }}
	b := &recorder{name: "b", match: func(filecat.File) bool { return true }}
	small, big := strings.Repeat("s", 100), strings.Repeat("b", 5000)
	img := imageOf(t, gzipLayer(t, file("small", small), file("big", big)))
	r := scanImage(t, img, Options{Catalogers: catalogers(a, b), Limits: filecat.Limits{MaxFileBytes: 1000}})
	if string(a.reads["/small"]) != small || string(b.reads["/small"]) != small {
		t.Errorf("a small file wanted twice: read %d and %d bytes, want %d each", len(a.reads["/small"]), len(b.reads["/small"]), len(small))
	}
	// Beyond MaxFileBytes it is not copied: the first reads it, the
	// second gets a Note.
	if string(a.reads["/big"]) != big {
		t.Errorf("the first cataloger read %d bytes of the big file, want %d", len(a.reads["/big"]), len(big))
	}
	if _, ok := b.reads["/big"]; ok {
		t.Error("the second cataloger read the big file")
	}
	if len(r.Notes) != 1 || r.Notes[0].File != "/big" || !strings.Contains(r.Notes[0].Reason, "not read by b: a read it") {
		t.Errorf("notes %+v", r.Notes)
	}
}

// funcCat is a cataloger made of functions.
type funcCat struct {
	name  string
	wants func(filecat.File) bool
	read  func(filecat.File, io.Reader) (filecat.Result, error)
}

func (c *funcCat) Name() string {
	if c.name == "" {
		return "func"
	}
	return c.name
}
func (c *funcCat) Wants(f filecat.File) bool { return c.wants(f) }
func (c *funcCat) Read(f filecat.File, r io.Reader, _ filecat.Limits) (filecat.Result, error) {
	return c.read(f, r)
}

func TestCatalogerFailuresAreNotes(t *testing.T) {
	all := func(filecat.File) bool { return true }
	panics := &funcCat{name: "panics", wants: all, read: func(f filecat.File, r io.Reader) (filecat.Result, error) {
		io.CopyN(io.Discard, r, 3)
		panic("index out of range")
	}}
	fails := &funcCat{name: "fails", wants: all, read: func(f filecat.File, r io.Reader) (filecat.Result, error) {
		return filecat.Result{Found: []filecat.Found{{File: f.Path, Package: policy.Package{Name: "partial", Version: "1"}}}}, errors.New("bad magic")
	}}
	img := imageOf(t, gzipLayer(t, file("a/package.json", "a 1"), file("b", strings.Repeat("x", 10000))), gzipLayer(t, file("c/package.json", "c 1")))
	for _, c := range []*funcCat{panics, fails} {
		t.Run(c.name, func(t *testing.T) {
			r := scanImage(t, img, Options{Catalogers: catalogers(c, npmCat{})})
			if !r.Complete {
				t.Fatalf("incomplete: %s", r.Reason)
			}
			var notes []string
			for _, n := range r.Notes {
				notes = append(notes, n.File+": "+n.Reason)
			}
			want := []string{"/a/package.json: cataloger " + c.name + " failed: ", "/b: cataloger " + c.name + " failed: ", "/c/package.json: cataloger " + c.name + " failed: "}
			if len(notes) != 3 {
				t.Fatalf("notes %q", notes)
			}
			for i := range want {
				if !strings.HasPrefix(notes[i], want[i]) {
					t.Errorf("note %q, want %q…", notes[i], want[i])
				}
			}
			// The other cataloger still read every file it wanted.
			if !slices.Contains(found(r), "/a/package.json a@1") || !slices.Contains(found(r), "/c/package.json c@1") {
				t.Errorf("found %q", found(r))
			}
		})
	}
}
