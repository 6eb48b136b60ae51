package filecat

import (
	"bytes"
	"compress/zlib"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
)

// Dependency lists as cargo auditable writes them (serde_json, no spaces).
const (
	depsAWS = `{"packages":[` +
		`{"name":"aws-config","version":"1.1.8","source":"crates.io","dependencies":[1,2]},` +
		`{"name":"aws-credential-types","version":"1.1.8","source":"crates.io"},` +
		`{"name":"cc","version":"1.0.90","source":"crates.io","kind":"build"},` +
		`{"name":"uploader","version":"0.1.0","source":"local","dependencies":[0],"root":true}]}`
	depsOld      = `{"packages":[{"name":"aws-config","version":"0.56.1","source":"registry"}]}`
	depsBuild    = `{"packages":[{"name":"aws-config","version":"1.1.8","source":"crates.io","kind":"build"}]}`
	depsGit      = `{"packages":[{"name":"aws-config","version":"1.1.8","source":"git"}]}`
	depsLocal    = `{"packages":[{"name":"aws-config","version":"1.1.8","source":"local","root":true}]}`
	depsNoSDK    = `{"packages":[{"name":"tokio","version":"1.36.0","source":"crates.io"}]}`
	depsNoVer    = `{"packages":[{"name":"aws-config","source":"crates.io"}]}`
	depsFormat   = `{"format":1,"packages":[{"name":"aws-config","version":"1.2.0","source":"crates.io"},7,{"name":["x"]}],"more":{"a":[1]}}`
	depsNoList   = `{"format":1}`
	depsNotAList = `{"packages":{"name":"aws-config"}}`
)

// zlibOf compresses s as cargo auditable does (zlib, level 7).
func zlibOf(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := zlib.NewWriterLevel(&b, 7)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, s); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type elfSec struct {
	name string
	typ  uint32
	data []byte
}

// elfSpec describes a small ELF executable: its header, gap bytes, the
// sections' data, .shstrtab, and the section header table (at the end, as
// linkers place it, or before the data when tableFirst).
type elfSpec struct {
	class32, bigEndian, tableFirst bool
	// gap is how many bytes come before the sections' data, filled with
	// pad's pattern (zeros when zeroGap).
	gap      int
	zeroGap  bool
	sections []elfSec
	// noTable leaves e_shoff zero (a table removed by sstrip).
	noTable bool
}

// build lays out s: the bytes before the gap, its length, and the bytes
// after it.
func (s elfSpec) build() (head []byte, gap int, tail []byte) {
	var order binary.ByteOrder = binary.LittleEndian
	if s.bigEndian {
		order = binary.BigEndian
	}
	ehSize, shSize := 64, 64
	if s.class32 {
		ehSize, shSize = 52, 40
	}
	secs := append([]elfSec{{}}, s.sections...)
	var strtab []byte
	names := make([]uint32, len(secs)+1)
	for i, sec := range append(secs[1:], elfSec{name: ".shstrtab"}) {
		names[i+1] = uint32(len(strtab)) + 1
		strtab = append(append(strtab, 0), sec.name...)
	}
	strtab = append(strtab, 0)
	secs = append(secs, elfSec{name: ".shstrtab", typ: 3, data: strtab})
	tableLen := shSize * len(secs)

	// Offsets: header, [table], gap, data..., [table].
	at := int64(ehSize + s.gap)
	shoff := int64(0)
	if s.tableFirst {
		shoff = int64(ehSize)
		at += int64(tableLen)
	}
	offs := make([]int64, len(secs))
	for i, sec := range secs[1:] {
		offs[i+1] = at
		at += int64(len(sec.data))
	}
	if !s.tableFirst {
		shoff = at
	}

	hdr := make([]byte, ehSize)
	copy(hdr, "\x7fELF")
	hdr[4], hdr[5], hdr[6] = 2, 1, 1
	if s.class32 {
		hdr[4] = 1
	}
	if s.bigEndian {
		hdr[5] = 2
	}
	order.PutUint16(hdr[16:], 3) // ET_DYN
	table := make([]byte, 0, tableLen)
	for i, sec := range secs {
		e := make([]byte, shSize)
		if i > 0 {
			order.PutUint32(e, names[i])
			order.PutUint32(e[4:], sec.typ)
			if s.class32 {
				order.PutUint32(e[16:], uint32(offs[i]))
				order.PutUint32(e[20:], uint32(len(sec.data)))
			} else {
				order.PutUint64(e[24:], uint64(offs[i]))
				order.PutUint64(e[32:], uint64(len(sec.data)))
			}
		}
		table = append(table, e...)
	}
	if s.noTable {
		shoff = 0
	}
	if s.class32 {
		order.PutUint32(hdr[32:], uint32(shoff))
		order.PutUint16(hdr[40:], uint16(ehSize))
		order.PutUint16(hdr[46:], uint16(shSize))
		order.PutUint16(hdr[48:], uint16(len(secs)))
		order.PutUint16(hdr[50:], uint16(len(secs)-1))
	} else {
		order.PutUint64(hdr[40:], uint64(shoff))
		order.PutUint16(hdr[52:], uint16(ehSize))
		order.PutUint16(hdr[58:], uint16(shSize))
		order.PutUint16(hdr[60:], uint16(len(secs)))
		order.PutUint16(hdr[62:], uint16(len(secs)-1))
	}
	head = hdr
	if s.tableFirst {
		head = append(head, table...)
	}
	for _, sec := range secs[1:] {
		tail = append(tail, sec.data...)
	}
	if !s.tableFirst {
		tail = append(tail, table...)
	}
	return head, s.gap, tail
}

// bytes lays out s whole.
func (s elfSpec) bytes() []byte {
	head, gap, tail := s.build()
	b := make([]byte, len(head), len(head)+gap+len(tail))
	copy(b, head)
	if s.zeroGap {
		b = append(b, make([]byte, gap)...)
	} else {
		b = pad(b, len(head)+gap)
	}
	return append(b, tail...)
}

// rustELF is a Rust executable with the list deps in its .dep-v0.
func rustELF(t testing.TB, deps string) []byte {
	return elfSpec{gap: 4000, sections: []elfSec{
		{name: ".text", typ: 1, data: pad(nil, 3000)},
		{name: ".comment", typ: 1, data: []byte("rustc version 1.95.0\x00")},
		{name: depSectionName, typ: 1, data: zlibOf(t, deps)},
	}}.bytes()
}

func TestCargoAuditable(t *testing.T) {
	const bin = "/usr/local/bin/uploader"
	crate := func(name, version string) Found {
		return found(bin, NameCargoAuditable, "cargo", "", name, version)
	}
	awsConfig := []Found{crate("aws-config", "1.1.8")}
	dep := func(deps string) elfSec { return elfSec{name: depSectionName, typ: 1, data: zlibOf(t, deps)} }
	text := elfSec{name: ".text", typ: 1, data: pad(nil, 3000)}
	// A list held as data: another executable embedded in this one.
	embedded := elfSec{name: ".rodata", typ: 1, data: append(append([]byte("some data"), zlibOf(t, depsOld)...), "more"...)}
	garbage := append([]byte{0x78, 0x9c}, pad(nil, 200)...)
	// Crate names that do not compress, so that the list is large.
	var big strings.Builder
	big.WriteString(`{"packages":[`)
	for i := range 300 {
		fmt.Fprintf(&big, `{"name":"c%x","version":"1.0.%d","source":"crates.io"},`, uint64(i)*0x9e3779b97f4a7c15, i)
	}
	big.WriteString(`{"name":"aws-config","version":"1.1.8","source":"crates.io"}]}`)
	badSum := zlibOf(t, depsAWS)
	badSum[len(badSum)-1] ^= 0xff
	decoys := elfSec{name: ".rodata", typ: 1}
	for range maxDepLists + 3 {
		decoys.data = append(append(decoys.data, zlibOf(t, depsOld)...), "\x00\x00"...)
	}

	tests := []readCase{
		{name: "real executable", content: readTestdata(t, "rust/uploader-aws-config-1.1.8"), want: awsConfig},
		{name: "ELF64", content: rustELF(t, depsAWS), want: awsConfig},
		{name: "ELF32 big-endian", content: elfSpec{class32: true, bigEndian: true, gap: 500, sections: []elfSec{text, dep(depsAWS)}}.bytes(), want: awsConfig},
		{name: "table before the data", content: elfSpec{tableFirst: true, gap: 500, sections: []elfSec{text, dep(depsAWS)}}.bytes(), want: awsConfig},
		{name: "alternative registry", content: rustELF(t, depsOld), want: []Found{crate("aws-config", "0.56.1")}},
		{name: "format and odd members", content: rustELF(t, depsFormat), want: []Found{crate("aws-config", "1.2.0")}},
		{name: "build dependency only", content: rustELF(t, depsBuild)},
		{name: "from git", content: rustELF(t, depsGit), notes: 1},
		{name: "the crate itself", content: rustELF(t, depsLocal), notes: 1},
		{name: "no version", content: rustELF(t, depsNoVer), notes: 1},
		{name: "no SDK", content: rustELF(t, depsNoSDK)},
		{name: "no packages", content: rustELF(t, depsNoList), notes: 1},
		{name: "packages not a list", content: rustELF(t, depsNotAList), notes: 1},
		{name: "not zlib", content: elfSpec{gap: 500, sections: []elfSec{text, {name: depSectionName, typ: 1, data: []byte(depsAWS)}}}.bytes(), notes: 1},
		{name: "zlib, not JSON", content: elfSpec{gap: 500, sections: []elfSec{text, {name: depSectionName, typ: 1, data: zlibOf(t, "packages")}}}.bytes(), notes: 1},
		{name: "garbage", content: elfSpec{gap: 500, sections: []elfSec{text, {name: depSectionName, typ: 1, data: garbage}}}.bytes(), notes: 1},
		{name: "bad checksum", content: elfSpec{gap: 500, sections: []elfSec{text, {name: depSectionName, typ: 1, data: badSum}}}.bytes(), notes: 1},
		{name: "cut short by its section", content: elfSpec{gap: 500, sections: []elfSec{text, {name: depSectionName, typ: 1, data: zlibOf(t, depsAWS)[:40]}, {name: ".x", typ: 1, data: zlibOf(t, depsAWS)[40:]}}}.bytes(), notes: 1},
		{name: "beyond the cap", content: rustELF(t, big.String()), lim: Limits{MaxFileBytes: 2000}, notes: 1},
		{name: "large, within the cap", content: rustELF(t, big.String()), want: awsConfig},
		{name: "another section name", content: elfSpec{gap: 500, sections: []elfSec{text, {name: ".dep-v1", typ: 1, data: zlibOf(t, depsAWS)}}}.bytes()},
		{name: "not PROGBITS", content: elfSpec{gap: 500, sections: []elfSec{text, {name: depSectionName, typ: 8, data: zlibOf(t, depsAWS)}}}.bytes()},
		{name: "list held as data", content: elfSpec{gap: 500, sections: []elfSec{text, embedded}}.bytes()},
		{name: "list held as data, then the section", content: elfSpec{gap: 500, sections: []elfSec{embedded, text, dep(depsAWS)}}.bytes(), want: awsConfig},
		{name: "many lists as data, then the section", content: elfSpec{gap: 500, sections: []elfSec{decoys, dep(depsAWS)}}.bytes(), want: awsConfig},
		{name: "no section table", content: elfSpec{gap: 500, noTable: true, sections: []elfSec{text, dep(depsAWS)}}.bytes()},
		{name: "cut before the table", content: rustELF(t, depsAWS)[:7600], notes: 0},
	}
	runReadCases(t, goBuildinfo{}, bin, tests)
}

// TestCargoAuditableRealExecutable holds the list the cataloger reads in
// the real executable against its .dep-v0 section as debug/elf reads it,
// and against the JSON it was built from.
func TestCargoAuditableRealExecutable(t *testing.T) {
	content := readTestdata(t, "rust/uploader-aws-config-1.1.8")
	f, err := elf.NewFile(bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	sec := f.Section(depSectionName)
	if sec == nil || sec.Type != elf.SHT_PROGBITS || sec.Flags != 0 {
		t.Fatalf("section %s: %+v", depSectionName, sec)
	}
	z, err := sec.Data()
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		t.Fatal(err)
	}
	inflated, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	want := readTestdata(t, "rust/uploader-aws-config-1.1.8.dep-v0.json")
	var a, b any
	if json.Unmarshal(inflated, &a) != nil || json.Unmarshal(want, &b) != nil || !reflect.DeepEqual(a, b) {
		t.Errorf("the section holds\n%s\nnot\n%s", inflated, want)
	}
	// The stream as depScanner saw it.
	d := newDepScanner(bytes.NewReader(content), testLimits)
	defer d.close()
	if _, err := io.Copy(io.Discard, d); err != nil {
		t.Fatal(err)
	}
	var list *depList
	for i := range d.lists {
		if d.lists[i].off == int64(sec.Offset) {
			list = &d.lists[i]
		}
	}
	if list == nil || list.err != "" || list.n != int64(sec.Size) {
		t.Fatalf("list at %d of %d bytes: %+v", sec.Offset, sec.Size, d.lists)
	}
	if len(list.crates) != 1 || list.crates[0] != (crate{name: "aws-config", version: "1.1.8", source: "crates.io"}) {
		t.Errorf("crates %+v", list.crates)
	}
}

// TestDepScannerPassesTheFileOn: what the Go scanner reads through
// depScanner is the file, whatever depScanner read ahead.
func TestDepScannerPassesTheFileOn(t *testing.T) {
	content := elfSpec{gap: 3 * goChunk, sections: []elfSec{
		{name: ".rodata", typ: 1, data: append(zlibOf(t, depsOld), pad(nil, 100)...)},
		{name: depSectionName, typ: 1, data: zlibOf(t, depsAWS)},
	}}.bytes()
	for _, chunk := range []int{1, 7, 4096, len(content)} {
		d := newDepScanner(bytes.NewReader(content), testLimits)
		var got []byte
		buf := make([]byte, chunk)
		for {
			n, err := d.Read(buf)
			got = append(got, buf[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		d.close()
		if !bytes.Equal(got, content) {
			t.Errorf("reads of %d bytes: got %d bytes, not the file's %d", chunk, len(got), len(content))
		}
		if len(d.lists) != 2 {
			t.Errorf("reads of %d bytes: lists %+v", chunk, d.lists)
		}
	}
}

func TestParseELFHeader(t *testing.T) {
	good := rustELF(t, depsAWS)[:elfHeadSize]
	if _, ok := parseELFHeader(good); !ok {
		t.Fatal("a good header is refused")
	}
	for name, edit := range map[string]func(h []byte){
		"not ELF":          func(h []byte) { h[0] = 'M' },
		"class":            func(h []byte) { h[4] = 3 },
		"byte order":       func(h []byte) { h[5] = 0 },
		"entry size":       func(h []byte) { h[58] = 40 },
		"no table":         func(h []byte) { clear(h[40:48]) },
		"table in header":  func(h []byte) { clear(h[40:48]); h[40] = 8 },
		"no sections":      func(h []byte) { clear(h[60:62]) },
		"too many":         func(h []byte) { h[60], h[61] = 0xff, 0xff },
		"names past table": func(h []byte) { h[62] = 200 },
		"table offset":     func(h []byte) { h[47] = 0x80 },
	} {
		h := bytes.Clone(good)
		edit(h)
		if _, ok := parseELFHeader(h); ok {
			t.Errorf("%s: header taken", name)
		}
	}
}

// BenchmarkCargoAuditableRead streams a 64 MiB ELF executable whose
// dependency list is at its end, the rest made of the loaded part of the
// real Rust executable (code and data, with their zlib-like bytes).
func BenchmarkCargoAuditableRead(b *testing.B) {
	real := readTestdata(b, "rust/uploader-aws-config-1.1.8")
	f, err := elf.NewFile(bytes.NewReader(real))
	if err != nil {
		b.Fatal(err)
	}
	loaded := real[:f.Section(".comment").Offset]
	head, gap, tail := elfSpec{gap: 64 << 20, sections: []elfSec{{name: depSectionName, typ: 1, data: zlibOf(b, depsAWS)}}}.build()
	content := append(bytes.Clone(head), bytes.Repeat(loaded, gap/len(loaded)+1)[:gap]...)
	content = append(content, tail...)
	file := fileOf("/app", content)
	b.SetBytes(int64(len(content)))
	b.ReportAllocs()
	for b.Loop() {
		if res, err := (goBuildinfo{}).Read(file, bytes.NewReader(content), Limits{}); err != nil || len(res.Found) != 1 {
			b.Fatal(res, err)
		}
	}
}
