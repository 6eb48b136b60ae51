package layers

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// tarEntryView is what both readers say of one entry.
type tarEntryView struct {
	typ        byte
	name, link string
	size, mode int64
	sparse     bool
	content    string // regular, non-sparse files
}

func (e tarEntryView) String() string {
	return fmt.Sprintf("%q %c name=%q link=%q size=%d mode=%o sparse=%v content=%d bytes",
		e.typ, e.typ, e.name, e.link, e.size, e.mode, e.sparse, len(e.content))
}

// viaArchiveTar reads data with archive/tar: its entries (PAX global
// headers left out) and how it ended.
func viaArchiveTar(data []byte) ([]tarEntryView, error) {
	tr := tar.NewReader(bytes.NewReader(data))
	var out []tarEntryView
	for {
		h, err := tr.Next()
		if err != nil {
			return out, err
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		e := tarEntryView{typ: h.Typeflag, name: h.Name, link: h.Linkname, size: h.Size, mode: h.Mode}
		// archive/tar keeps the GNU sparse type; PAX sparse files are
		// told by their records.
		e.sparse = h.Typeflag == tar.TypeGNUSparse || h.PAXRecords["GNU.sparse.major"] != "" ||
			h.PAXRecords["GNU.sparse.map"] != "" || h.PAXRecords["GNU.sparse.minor"] != ""
		if e.sparse {
			// Sparse files archive/tar may or may not take for sparse
			// (unknown versions): compare what both agree on.
			major, minor := h.PAXRecords["GNU.sparse.major"], h.PAXRecords["GNU.sparse.minor"]
			if h.Typeflag != tar.TypeGNUSparse && (major != "" || minor != "") &&
				!(major == "0" && (minor == "0" || minor == "1")) && !(major == "1" && minor == "0") {
				e.sparse = false
			}
		}
		if (e.typ == tar.TypeReg || e.typ == tar.TypeCont) && !e.sparse {
			b, err := io.ReadAll(tr)
			if err != nil {
				return out, err
			}
			e.content = string(b)
		}
		out = append(out, e)
	}
}

// viaTarStream reads data with tarStream.
func viaTarStream(data []byte) ([]tarEntryView, error) {
	var ts tarStream
	ts.reset(bufio.NewReaderSize(bytes.NewReader(data), 4096))
	var out []tarEntryView
	for {
		h, err := ts.next()
		if err != nil {
			return out, err
		}
		if h.typ == 'g' {
			continue
		}
		e := tarEntryView{typ: h.typ, name: string(h.name), link: string(h.link), size: h.size, mode: h.mode, sparse: h.sparse}
		if (e.typ == '0' || e.typ == '7') && !e.sparse {
			b, err := io.ReadAll(&ts)
			if err != nil {
				return out, err
			}
			e.content = string(b)
		}
		out = append(out, e)
	}
}

// compareReaders fails t where tarStream tells data apart from
// archive/tar: every entry archive/tar reads, tarStream must read alike,
// and where archive/tar reads the whole archive, so must tarStream.
func compareReaders(t *testing.T, data []byte) {
	t.Helper()
	want, wantErr := viaArchiveTar(data)
	got, gotErr := viaTarStream(data)
	for i := range want {
		if i >= len(got) {
			t.Fatalf("archive/tar read entry %d, %v; tarStream stopped: %v", i, want[i], gotErr)
		}
		if got[i] != want[i] {
			t.Fatalf("entry %d:\n tarStream   %v\n archive/tar %v", i, got[i], want[i])
		}
	}
	if wantErr == io.EOF && (gotErr != io.EOF || len(got) != len(want)) {
		t.Fatalf("archive/tar read %d entries to the end; tarStream read %d: %v", len(want), len(got), gotErr)
	}
}

// goTarTestdata is the archive/tar test corpus of the Go installation:
// every tar format, sparse files, and broken archives.
func goTarTestdata(t testing.TB) map[string][]byte {
	dir := filepath.Join(runtime.GOROOT(), "src", "archive", "tar", "testdata")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Skipf("no archive/tar testdata: %v", err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		name := e.Name()
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasSuffix(name, ".tar"):
		case strings.HasSuffix(name, ".tar.base64"):
			if b, err = base64.StdEncoding.DecodeString(string(b)); err != nil {
				continue
			}
		default:
			continue
		}
		if len(b) <= 1<<20 {
			out[name] = b
		}
	}
	return out
}

func TestTarStreamAgreesWithArchiveTar(t *testing.T) {
	for name, data := range goTarTestdata(t) {
		t.Run(name, func(t *testing.T) { compareReaders(t, data) })
	}
	for name, data := range writtenTars(t) {
		t.Run(name, func(t *testing.T) { compareReaders(t, data) })
	}
}

// writtenTars are archives archive/tar writes in each of its formats.
func writtenTars(t testing.TB) map[string][]byte {
	long := strings.Repeat("long-directory-name/", 8) + "file.txt"
	headers := []*tar.Header{
		{Name: "dir/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "dir/file", Typeflag: tar.TypeReg, Mode: 0o644, Size: 5},
		{Name: long, Typeflag: tar.TypeReg, Mode: 0o600, Size: 3},
		{Name: "link", Typeflag: tar.TypeSymlink, Linkname: strings.Repeat("t/", 70) + "x"},
		{Name: "hard", Typeflag: tar.TypeLink, Linkname: "dir/file"},
		{Name: "dev", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3},
		{Name: "ünïcode/名前", Typeflag: tar.TypeReg, Size: 1},
		{Name: "empty", Typeflag: tar.TypeReg},
		{Name: "fifo", Typeflag: tar.TypeFifo},
	}
	out := map[string][]byte{}
	for _, format := range []tar.Format{tar.FormatUnknown, tar.FormatUSTAR, tar.FormatPAX, tar.FormatGNU} {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, h := range headers {
			h := *h
			h.Format = format
			if err := tw.WriteHeader(&h); err != nil {
				continue // not expressible in this format
			}
			tw.Write(bytes.Repeat([]byte("x"), int(h.Size)))
		}
		tw.Close()
		out["written-"+format.String()] = buf.Bytes()
	}
	return out
}

func FuzzTarStreamAgrees(f *testing.F) {
	for _, data := range goTarTestdata(f) {
		f.Add(data)
	}
	for _, data := range writtenTars(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		compareReaders(t, data)
	})
}

func TestTarStreamErrors(t *testing.T) {
	ok := tarOf(t, file("a", "hello"), file("b", "world"))
	bad := bytes.Clone(ok)
	bad[0] ^= 1 // the checksum no longer matches
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, io.EOF},
		{"bad checksum", bad, errTarHeader},
		{"cut in a header", ok[:100], io.ErrUnexpectedEOF},
		{"cut in content", ok[:515], io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		_, err := viaTarStream(tt.data)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestChecksums(t *testing.T) {
	blk := make([]byte, blockSize)
	for i := range blk {
		blk[i] = byte(i * 7)
	}
	var want int64
	for i, c := range blk {
		if i >= 148 && i < 156 {
			c = ' '
		}
		want += int64(c)
	}
	if got := unsignedChecksum(blk); got != want {
		t.Errorf("unsignedChecksum %d, want %d", got, want)
	}
	for i := range blk {
		blk[i] = 0xff
	}
	if got, want := unsignedChecksum(blk), int64(504*255+8*' '); got != want {
		t.Errorf("unsignedChecksum of 0xff %d, want %d", got, want)
	}
}

func TestNumericFields(t *testing.T) {
	tests := []struct {
		field string
		want  int64
		ok    bool
	}{
		{"0000644\x00", 0o644, true},
		{"    644 ", 0o644, true},
		{"\x00\x00\x00\x00\x00\x00\x00\x00", 0, true},
		{"0000648\x00", 0, false},
		{"00 644\x00\x00", 0, false},
		{"0\x00000000", 0, true},
		{"12\x0099 \x00", 0o12, true},
		{"00000001750\x00", 0o1750, true},
		{"\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00", 256, true},
		{"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", -1, true},
	}
	for _, tt := range tests {
		b := []byte(tt.field)
		got, ok := parseNumeric(b)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("parseNumeric(%q) = %d, %v; want %d, %v", tt.field, got, ok, tt.want, tt.ok)
		}
		switch len(b) {
		case 8:
			if validNumeric8(b) != tt.ok {
				t.Errorf("validNumeric8(%q) = %v", tt.field, !tt.ok)
			}
		case 12:
			if validNumeric12(b) != tt.ok {
				t.Errorf("validNumeric12(%q) = %v", tt.field, !tt.ok)
			}
			if v, fast := fastNumeric12(b); fast && v != tt.want {
				t.Errorf("fastNumeric12(%q) = %d, want %d", tt.field, v, tt.want)
			}
		}
	}
	for _, s := range []string{"0", "-0", "+12", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "", "-", "1_0", "12a"} {
		got, ok := parseDecimal([]byte(s))
		want, err := parseIntRef(s)
		if ok != (err == nil) || (ok && got != want) {
			t.Errorf("parseDecimal(%q) = %d, %v; strconv says %d, %v", s, got, ok, want, err)
		}
	}
}

func parseIntRef(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) }
