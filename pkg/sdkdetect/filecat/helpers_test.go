package filecat

import (
	"bytes"
	"io"
	"os"
	"reflect"
	"testing"
	"testing/iotest"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

var testLimits = Limits{MaxFileBytes: 8 << 20}

// fileOf describes content as the layer reader would offer it.
func fileOf(path string, content []byte) File {
	head := content
	if len(head) > HeadSize {
		head = head[:HeadSize]
	}
	return File{Path: path, Size: int64(len(content)), Mode: 0o644, Head: head}
}

// readAll runs a cataloger over content, in one read and then one byte
// per read, and fails the test unless both give the same result without
// an error.
func readAll(t testing.TB, c Cataloger, path string, content []byte, lim Limits) Result {
	t.Helper()
	f := fileOf(path, content)
	got, err := c.Read(f, bytes.NewReader(content), lim)
	if err != nil {
		t.Fatalf("%s: Read(%s): %v", c.Name(), path, err)
	}
	slow, err := c.Read(f, iotest.OneByteReader(bytes.NewReader(content)), lim)
	if err != nil {
		t.Fatalf("%s: Read(%s) one byte at a time: %v", c.Name(), path, err)
	}
	if !reflect.DeepEqual(got, slow) {
		t.Fatalf("%s: Read(%s) differs when read one byte at a time:\n%+v\n%+v", c.Name(), path, got, slow)
	}
	return got
}

// found builds an expected finding.
func found(file, source, typ, namespace, name, version string) Found {
	return Found{
		Package: policy.Package{Type: typ, Namespace: namespace, Name: name, Version: version, Source: "layer:" + source},
		File:    file,
	}
}

// checkResult compares found packages exactly and notes by their count.
func checkResult(t *testing.T, got Result, want []Found, notes int) {
	t.Helper()
	if len(got.Found) == 0 && len(want) == 0 {
		got.Found = nil
		want = nil
	}
	if !reflect.DeepEqual(got.Found, want) {
		t.Errorf("found\n  %+v\nwant\n  %+v", got.Found, want)
	}
	if len(got.Notes) != notes {
		t.Errorf("notes %+v, want %d", got.Notes, notes)
	}
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// failingReader returns its content, then err.
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

// readCase is one input of a cataloger and what it must find.
type readCase struct {
	name    string
	content []byte
	lim     Limits // zero: testLimits
	want    []Found
	notes   int
}

// runReadCases reads each case's content as the file at path with c.
func runReadCases(t *testing.T, c Cataloger, path string, cases []readCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lim := tc.lim
			if lim == (Limits{}) {
				lim = testLimits
			}
			checkResult(t, readAll(t, c, path, tc.content, lim), tc.want, tc.notes)
		})
	}
}
