package filecat

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// Module texts as the go command writes them (cmd/go/internal/modload).
const (
	modClientGo = "path\texample.com/app\nmod\texample.com/app\t(devel)\t\n" +
		"dep\tk8s.io/apimachinery\tv0.29.3\th1:2tbx+5L7RNvqJjn7RIuIKu9XTsIZ9Z5wX2G22XAa5EU=\n" +
		"dep\tk8s.io/client-go\tv0.29.3\th1:R/zaZbEAxqComZ9FHeQwOh3Y1ZUs7FaHKZdQtIc2WZg=\n" +
		"build\t-compiler=gc\nbuild\tGOOS=linux\n"
	modLegacy = "path\texample.com/app\nmod\texample.com/app\t(devel)\t\n" +
		"dep\tk8s.io/client-go\tv11.0.0+incompatible\th1:LBbX2+lTwD/V1j/hJvX2lAt4W/Z1P+5OATZMXkXZTKo=\n"
	modPseudo = "path\texample.com/app\nmod\texample.com/app\t(devel)\t\n" +
		"dep\tk8s.io/client-go\tv0.0.0-20190620085101-78d2af792bab\th1:y7tWYEgGdiE5fbP56Mh5yt5eUxcKbxSZXvhaaGWZ5Uw=\n"
	modReplaced = "path\texample.com/app\nmod\texample.com/app\t(devel)\t\n" +
		"dep\tk8s.io/client-go\tv0.29.3\t\n=>\tk8s.io/client-go\tv0.28.4\th1:2cgGwJqzDsZ1VjgRmmTSumLgI7+bGfm5b+wWmT4B1ZQ=\n"
	modLocal = "path\texample.com/app\nmod\texample.com/app\t(devel)\t\n" +
		"dep\tk8s.io/client-go\tv0.29.3\t\n=>\t./third_party/client-go\t(devel)\t\n"
	modFork = "path\texample.com/app\nmod\texample.com/app\t(devel)\t\n" +
		"dep\tk8s.io/client-go\tv0.29.3\t\n=>\tgithub.com/example/client-go\tv1.2.3\th1:AAAA\n"
	modOwnModule = "path\tk8s.io/client-go/examples/in-cluster-client-configuration\n" +
		"mod\tk8s.io/client-go\tv0.30.1\th1:uC/Ir6V3R46wbaeW0AvhbpLlE2K3NF7uCdW+JK5ai+w=\n"
	modOwnDevel = "path\tk8s.io/client-go/examples/in-cluster-client-configuration\n" +
		"mod\tk8s.io/client-go\t(devel)\t\n"
	modAWS = "path\texample.com/app\nmod\texample.com/app\t(devel)\t\n" +
		"dep\tgithub.com/aws/aws-sdk-go\tv1.44.0\th1:x\n" +
		"dep\tgithub.com/aws/aws-sdk-go-v2\tv1.24.0\th1:x\n" +
		"dep\tgithub.com/aws/aws-sdk-go-v2/config\tv1.25.0\th1:x\n" +
		"dep\tgithub.com/aws/aws-sdk-go-v2/credentials\tv1.16.0\th1:x\n" +
		"dep\tgithub.com/aws/aws-sdk-go-v2/service/s3\tv1.40.0\th1:x\n"
	modNoSDK = "path\texample.com/app\nmod\texample.com/app\t(devel)\t\n" +
		"dep\tgolang.org/x/sys\tv0.15.0\th1:x\n"
	// Since Go 1.18 a GOPATH build records its path and build settings.
	modGOPATH = "path\thello\nbuild\t-compiler=gc\nbuild\tGOOS=linux\n"
)

const elfHead = "\x7fELF\x02\x01\x01\x00"

// goInline lays out an executable with a Go 1.18+ build-info header at
// offset off holding text framed by the sentinels (unframed when frame is
// false), padded to size bytes.
func goInline(off, size int, text string, frame bool) []byte {
	b := make([]byte, off, max(off, size))
	copy(b, elfHead)
	hdr := make([]byte, goHeaderSize)
	copy(hdr, goBuildInfoMagic)
	hdr[14], hdr[15] = 8, 2
	b = append(b, hdr...)
	b = appendGoString(b, "go1.22.1")
	if frame {
		text = goInfoStart + text + goInfoEnd
	}
	b = appendGoString(b, text)
	return pad(b, size)
}

// goPointer lays out an executable as Go 1.13-1.17 did: the module text
// (when not empty) framed in read-only data at offset textOff, and a
// header with pointers at headOff.
func goPointer(textOff, headOff, size int, text string) []byte {
	b := make([]byte, size)
	copy(b, elfHead)
	if text != "" {
		copy(b[textOff:], goInfoStart+text+goInfoEnd)
	}
	hdr := make([]byte, goHeaderSize)
	copy(hdr, goBuildInfoMagic)
	hdr[14], hdr[15] = 8, 0
	binary.LittleEndian.PutUint64(hdr[16:], 0x4a5b60)
	binary.LittleEndian.PutUint64(hdr[24:], 0x4a5b70)
	copy(b[headOff:], hdr)
	return b
}

func appendGoString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func pad(b []byte, size int) []byte {
	for len(b) < size {
		b = append(b, byte(len(b)*7))
	}
	return b
}

func TestGoBuildinfo(t *testing.T) {
	const bin = "/usr/local/bin/app"
	clientGo := func(v string) []Found {
		return []Found{found(bin, NameGoBuildinfo, "golang", "k8s.io", "client-go", v)}
	}
	// A sentinel held as data (the go command has them), with text that
	// is not module information after it.
	decoy := goInfoStart + "infoStart, infoEnd" + goInfoEnd
	// Framed text that looks like module information, held as data by a
	// binary whose own header says otherwise.
	fake := goInfoStart + modLegacy + goInfoEnd

	tests := []struct {
		name    string
		content []byte
		lim     Limits
		want    []Found
		notes   int
	}{
		{name: "inline", content: goInline(1000, 5000, modClientGo, true), want: clientGo("v0.29.3")},
		{name: "header across reads", content: goInline(goChunk-20, 3*goChunk, modClientGo, true), want: clientGo("v0.29.3")},
		{name: "text across reads", content: goInline(goChunk-60, 3*goChunk, modClientGo, true), want: clientGo("v0.29.3")},
		{name: "sentinel across reads", content: goInline(goChunk-45, 3*goChunk, modClientGo, true), want: clientGo("v0.29.3")},
		{name: "header at the end", content: goInline(2*goChunk+7, 0, modClientGo, true), want: clientGo("v0.29.3")},
		{name: "legacy major", content: goInline(64, 4096, modLegacy, true), want: clientGo("v11.0.0+incompatible")},
		{name: "pseudo-version", content: goInline(64, 4096, modPseudo, true), want: clientGo("v0.0.0-20190620085101-78d2af792bab")},
		{name: "replaced by another version", content: goInline(64, 4096, modReplaced, true), want: clientGo("v0.28.4")},
		{name: "replaced by a directory", content: goInline(64, 4096, modLocal, true), notes: 1},
		{name: "replaced by a fork", content: goInline(64, 4096, modFork, true), notes: 1},
		{name: "built as client-go's own module", content: goInline(64, 4096, modOwnModule, true), want: clientGo("v0.30.1")},
		{name: "built inside client-go", content: goInline(64, 4096, modOwnDevel, true), notes: 1},
		{name: "AWS SDKs", content: goInline(64, 4096, modAWS, true), want: []Found{
			found(bin, NameGoBuildinfo, "golang", "github.com/aws", "aws-sdk-go", "v1.44.0"),
			found(bin, NameGoBuildinfo, "golang", "github.com/aws/aws-sdk-go-v2", "config", "v1.25.0"),
			found(bin, NameGoBuildinfo, "golang", "github.com/aws/aws-sdk-go-v2", "credentials", "v1.16.0"),
		}},
		{name: "no SDK", content: goInline(64, 4096, modNoSDK, true)},
		{name: "GOPATH build since Go 1.18", content: goInline(64, 4096, modGOPATH, true), notes: 1},
		{name: "GOPATH build, empty module text", content: goInline(64, 4096, "", false), notes: 1},
		{name: "Go 1.13-1.17", content: goPointer(3000, 70000, 80000, modClientGo), want: clientGo("v0.29.3")},
		{name: "Go 1.13-1.17, text after the header", content: goPointer(70000, 3000, 80000, modLegacy), want: clientGo("v11.0.0+incompatible")},
		{name: "Go 1.13-1.17 GOPATH build", content: goPointer(0, 70000, 80000, ""), notes: 1},
		{
			name:    "decoy sentinels before the header",
			content: append([]byte(elfHead+decoy+"\x00\x00"+goInfoStart), goInline(100, 5000, modClientGo, true)...),
			want:    clientGo("v0.29.3"),
		},
		{
			name:    "framed data before the header",
			content: append([]byte(elfHead+fake), goInline(100, 5000, modClientGo, true)...),
			want:    clientGo("v0.29.3"),
		},
		{
			name:    "magic as data before the header",
			content: append([]byte(elfHead+goBuildInfoMagic+"\x08\x02junk that is no header"), goInline(100, 5000, modReplaced, true)...),
			want:    clientGo("v0.28.4"),
		},
		{name: "no Go", content: pad([]byte(elfHead), 200000)},
		{name: "packed with UPX", content: pad([]byte(elfHead+strings.Repeat("\x00", 200)+"UPX!\x0d\x0a"), 200000), notes: 1},
		{name: "UPX! further in", content: pad(append(make([]byte, 5000), "UPX!"...), 200000)},
		{name: "sentinel without end", content: pad([]byte(elfHead+goInfoStart+"path\t"), 3*goChunk)},
		{name: "text beyond the cap", content: goInline(64, 4096, modClientGo, true), lim: Limits{MaxFileBytes: 100}, notes: 1},
		{name: "header cut short", content: goInline(64, 0, modClientGo, true)[:64+goHeaderSize+12], notes: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lim := tc.lim
			if lim == (Limits{}) {
				lim = testLimits
			}
			got := readAll(t, goBuildinfo{}, bin, tc.content, lim)
			checkResult(t, got, tc.want, tc.notes)
		})
	}
}

func TestGoBuildinfoNotes(t *testing.T) {
	c := goBuildinfo{}
	got := readAll(t, c, "/app", goInline(64, 4096, modGOPATH, true), testLimits)
	want := []Note{{File: "/app", Reason: "Go executable without module information (a GOPATH build): its client-go version cannot be read"}}
	if len(got.Notes) != 1 || got.Notes[0] != want[0] {
		t.Errorf("notes %+v, want %+v", got.Notes, want)
	}
	got = readAll(t, c, "/app", goInline(64, 4096, modLocal, true), testLimits)
	if len(got.Notes) != 1 || !strings.Contains(got.Notes[0].Reason, "replaced by the directory ./third_party/client-go") {
		t.Errorf("notes %+v", got.Notes)
	}
}

// TestReadErrors: a file shorter than its size is a note.
func TestReadEndsEarly(t *testing.T) {
	content := goInline(goChunk, 3*goChunk, modClientGo, true)
	f := fileOf("/app", content)
	got, err := goBuildinfo{}.Read(f, bytes.NewReader(content[:goChunk/2]), testLimits)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Notes) != 1 || !strings.Contains(got.Notes[0].Reason, "the file ended after") {
		t.Errorf("notes %+v, want one saying the file ended early", got.Notes)
	}
}

func TestGoBuildinfoWants(t *testing.T) {
	big := int64(minGoExecutable)
	tests := []struct {
		head string
		size int64
		want bool
	}{
		{elfHead, big, true},
		{"MZ\x90\x00\x03\x00\x00\x00", big, true},
		{"\xcf\xfa\xed\xfe\x0c\x00\x00\x01", big, true},
		{"\xca\xfe\xba\xbe\x00\x00\x00\x02", big, true},  // universal Mach-O
		{"\xca\xfe\xba\xbe\x00\x00\x00\x34", big, false}, // Java class
		{elfHead, big - 1, false},
		{"#!/bin/sh", big, false},
		{"", big, false},
	}
	for _, tc := range tests {
		f := File{Path: "/bin/x", Size: tc.size, Head: []byte(tc.head)}
		if got := (goBuildinfo{}).Wants(f); got != tc.want {
			t.Errorf("Wants(head %q, size %d) = %v, want %v", tc.head, tc.size, got, tc.want)
		}
	}
}
