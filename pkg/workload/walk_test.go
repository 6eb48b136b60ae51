//go:build unix

package workload

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

const walkPod = "apiVersion: v1\nkind: Pod\nmetadata: {name: %s}\nspec: {containers: [{name: c, image: 'i:1'}]}\n"

func podYAML(name string) []byte { return []byte(strings.Replace(walkPod, "%s", name, 1)) }

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skip("symlinks not supported:", err)
	}
}

// readWithin runs Read in a goroutine and fails the test if it has not
// returned within a minute: a FIFO or /dev/zero must never stall it.
func readWithin(t *testing.T, paths []string) Result {
	t.Helper()
	done := make(chan Result, 1)
	go func() { done <- Read(paths, nil) }()
	select {
	case res := <-done:
		return res
	case <-time.After(time.Minute):
		t.Fatalf("Read(%q) hangs", paths)
		return Result{}
	}
}

func names(ws []Workload) []string {
	out := []string{}
	for _, w := range ws {
		out = append(out, w.Name+"@"+filepath.Base(w.Source))
	}
	return out
}

// TestWalkReadsOnlyRegularFiles: the attacks of issue 13 on check, a FIFO
// or a link to /dev/zero among the manifests, and links out of the
// directory given.
func TestWalkReadsOnlyRegularFiles(t *testing.T) {
	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "secret.yaml"), podYAML("secret"))

	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  []string // workloads, name@file
		notes []string // relative to dir
		errs  []string // relative to dir
	}{
		{
			name: "a FIFO named like a manifest is passed over, not opened",
			setup: func(t *testing.T, dir string) {
				if err := syscall.Mkfifo(filepath.Join(dir, "b-fifo.yaml"), 0o600); err != nil {
					t.Skip("mkfifo:", err)
				}
			},
			want:  []string{"a@a.yaml", "c@c.yaml"},
			notes: []string{"b-fifo.yaml: not a regular file"},
		},
		{
			name:  "a link to /dev/zero is passed over",
			setup: func(t *testing.T, dir string) { symlink(t, "/dev/zero", filepath.Join(dir, "b-zero.yaml")) },
			want:  []string{"a@a.yaml", "c@c.yaml"},
			notes: []string{"b-zero.yaml: symbolic link leads outside the directory given"},
		},
		{
			name: "a link out of the directory is not followed",
			setup: func(t *testing.T, dir string) {
				symlink(t, filepath.Join(outside, "secret.yaml"), filepath.Join(dir, "b-out.yaml"))
				rel, err := filepath.Rel(dir, filepath.Join(outside, "secret.yaml"))
				if err != nil {
					t.Fatal(err)
				}
				symlink(t, rel, filepath.Join(dir, "b-rel.yaml"))
			},
			want: []string{"a@a.yaml", "c@c.yaml"},
			notes: []string{
				"b-out.yaml: symbolic link leads outside the directory given",
				"b-rel.yaml: symbolic link leads outside the directory given",
			},
		},
		{
			name: "a link to a file inside the directory is read under its own name",
			setup: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, "sub", "real.txt"), podYAML("linked"))
				symlink(t, "sub/real.txt", filepath.Join(dir, "b-in.yaml"))
			},
			want: []string{"a@a.yaml", "linked@b-in.yaml", "c@c.yaml"},
		},
		{
			name: "a link loop is an error, not a hang",
			setup: func(t *testing.T, dir string) {
				symlink(t, "b-loop2.yaml", filepath.Join(dir, "b-loop1.yaml"))
				symlink(t, "b-loop1.yaml", filepath.Join(dir, "b-loop2.yaml"))
			},
			want: []string{"a@a.yaml", "c@c.yaml"},
			errs: []string{
				"b-loop1.yaml: too many levels of symbolic links",
				"b-loop2.yaml: too many levels of symbolic links",
			},
		},
		{
			name: "a link to a directory is not followed, even inside",
			setup: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, "sub", "d.yaml"), podYAML("d"))
				symlink(t, "sub", filepath.Join(dir, "b-dir.yaml"))
			},
			want: []string{"a@a.yaml", "c@c.yaml", "d@d.yaml"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "a.yaml"), podYAML("a"))
			writeFile(t, filepath.Join(dir, "c.yaml"), podYAML("c"))
			tt.setup(t, dir)
			res := readWithin(t, []string{dir})
			if got := names(res.Workloads); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("workloads = %q, want %q", got, tt.want)
			}
			rel := func(errs []*DocError) []string {
				out := []string{}
				for _, e := range errs {
					out = append(out, strings.TrimPrefix(e.Error(), dir+string(filepath.Separator)))
				}
				return out
			}
			if got := rel(res.Notes); !reflect.DeepEqual(got, nonNil(tt.notes)) {
				t.Errorf("notes = %q, want %q", got, tt.notes)
			}
			if got := rel(res.Errors); !reflect.DeepEqual(got, nonNil(tt.errs)) {
				t.Errorf("errors = %q, want %q", got, tt.errs)
			}
		})
	}
}

// TestWalkNamedPaths: what the command line names is followed (the user
// asked for it) but must still be a regular file, a directory, or a pipe
// (check <(helm template ...)); a named FIFO without a writer reads as
// empty, without blocking.
func TestWalkNamedPaths(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	other := t.TempDir()
	writeFile(t, filepath.Join(other, "pod.yaml"), podYAML("named"))
	symlink(t, filepath.Join(other, "pod.yaml"), filepath.Join(dir, "link.yaml"))
	symlink(t, "/dev/zero", filepath.Join(dir, "zero.yaml"))
	symlink(t, other, filepath.Join(dir, "dirlink"))

	res := readWithin(t, []string{fifo, filepath.Join(dir, "link.yaml"), filepath.Join(dir, "zero.yaml"), "/dev/null", filepath.Join(dir, "dirlink")})
	if got, want := names(res.Workloads), []string{"named@link.yaml", "named@pod.yaml"}; !reflect.DeepEqual(got, want) {
		t.Errorf("workloads = %q, want %q", got, want)
	}
	if src := res.Workloads[1].Source; src != filepath.Join(dir, "dirlink", "pod.yaml") {
		t.Errorf("a directory named through a link: source %q", src)
	}
	want := []string{
		filepath.Join(dir, "zero.yaml") + ": not a regular file",
		"/dev/null: not a regular file",
	}
	if got := errorStrings(res.Errors); !reflect.DeepEqual(got, want) {
		t.Errorf("errors = %q, want %q", got, want)
	}
	for _, e := range res.Errors {
		if !errors.Is(e, ErrNotRegular) {
			t.Errorf("%v: not ErrNotRegular", e)
		}
	}
	if len(res.Notes) != 0 {
		t.Errorf("notes = %v", res.Notes)
	}
}

// endless is /dev/zero without the device.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '\n'
	}
	return len(p), nil
}

// TestWalkInputCap: an endless stdin (or a huge sparse file) stops at
// MaxInputSize; an input of exactly that size is read whole.
func TestWalkInputCap(t *testing.T) {
	defer func(n int64) { maxInputSize = n }(maxInputSize)
	maxInputSize = 1 << 20

	var res Result
	done := make(chan struct{})
	go func() {
		defer close(done)
		res = Read([]string{"-"}, io.MultiReader(strings.NewReader(string(podYAML("first"))+"---\n"), endless{}))
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("an endless stdin is read forever")
	}
	if got, want := names(res.Workloads), []string{"first@-"}; !reflect.DeepEqual(got, want) {
		t.Errorf("workloads = %q, want %q", got, want)
	}
	if got, want := errorStrings(res.Errors), []string{"-: document 2: read: input too large: over 1 MiB (the rest of the input was not read)"}; !reflect.DeepEqual(got, want) {
		t.Errorf("errors = %q, want %q", got, want)
	}
	if !errors.Is(res.Errors[0], ErrInputTooLarge) {
		t.Errorf("%v is not ErrInputTooLarge", res.Errors[0])
	}

	exact := append(podYAML("exact"), strings.Repeat("\n", int(maxInputSize)-len(podYAML("exact")))...)
	path := filepath.Join(t.TempDir(), "exact.yaml")
	writeFile(t, path, exact)
	res = Read([]string{path}, nil)
	if len(res.Errors) != 0 || len(res.Workloads) != 1 {
		t.Errorf("an input of exactly MaxInputSize: %v %q", res.Errors, names(res.Workloads))
	}
}

// TestWalkStopsAtVisitorError: the caller's error (a full disk) ends the
// walk and is returned.
func TestWalkStopsAtVisitorError(t *testing.T) {
	boom := errors.New("boom")
	n := 0
	err := Walk([]string{"testdata/kinds", "testdata/tree"}, nil, Visitor{
		Workload: func(Workload) error { n++; return boom },
	})
	if !errors.Is(err, boom) || n != 1 {
		t.Errorf("Walk = %v after %d workloads, want boom after 1", err, n)
	}
}

// TestWalkStreamsInInputOrder: Walk hands over the same workloads, errors
// and kinds as Read collects, in the same order.
func TestWalkStreamsInInputOrder(t *testing.T) {
	paths := []string{"testdata/kinds", "testdata/list.yaml", "testdata/legacy.yaml", "testdata/concatenated.json"}
	want := Read(paths, nil)
	var got Result
	if err := Walk(paths, nil, got.visitor()); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(describeAll(got.Workloads), describeAll(want.Workloads)) ||
		!reflect.DeepEqual(errorStrings(got.Errors), errorStrings(want.Errors)) ||
		!reflect.DeepEqual(got.Skipped, want.Skipped) {
		t.Errorf("Walk and Read differ")
	}
}
