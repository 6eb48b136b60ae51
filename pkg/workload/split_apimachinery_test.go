package workload

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// The splitter is held against apimachinery's YAML readers, which split
// YAML streams too (issue #12, item 6; figures in
// docs/libraries-purl-yaml.md). The readers are kept out of Decode because
// they disagree on the inputs listed in TestSplitterAgainstApimachinery.

// docSplitFunc splits a stream into its documents; a document over
// MaxDocumentSize is "<too large>".
type docSplitFunc func(data []byte) (docs []string, err error)

func splitWithSplitter(data []byte) ([]string, error) {
	s := newSplitter(bytes.NewReader(data), MaxDocumentSize)
	defer s.release()
	var out []string
	for {
		sec, tooLarge, err := s.next()
		switch {
		case err == io.EOF:
			return out, nil
		case err != nil:
			return out, err
		case tooLarge:
			out = append(out, "<too large>")
		default:
			out = append(out, string(sec))
		}
	}
}

// splitWithYAMLReader is utilyaml.NewYAMLReader, with Decode's rule that a
// whitespace-only section is no document.
func splitWithYAMLReader(data []byte) ([]string, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReaderSize(bytes.NewReader(data), 64<<10))
	var out []string
	for {
		sec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if len(bytes.TrimSpace(sec)) > 0 {
			out = append(out, string(sec))
		}
	}
}

// splitWithDocumentDecoder is utilyaml.NewDocumentDecoder, same rule.
func splitWithDocumentDecoder(data []byte) ([]string, error) {
	d := utilyaml.NewDocumentDecoder(io.NopCloser(bytes.NewReader(data)))
	buf := make([]byte, 64<<10)
	var out []string
	var cur []byte
	for {
		n, err := d.Read(buf)
		cur = append(cur, buf[:n]...)
		switch {
		case errors.Is(err, io.ErrShortBuffer):
			continue
		case err == io.EOF:
			return out, nil
		case err != nil:
			return out, err
		}
		if len(bytes.TrimSpace(cur)) > 0 {
			out = append(out, string(cur))
		}
		cur = cur[:0]
	}
}

var docSplitters = []struct {
	name  string
	split docSplitFunc
}{{"splitter", splitWithSplitter}, {"YAMLReader", splitWithYAMLReader}, {"DocumentDecoder", splitWithDocumentDecoder}}

// splitInputs returns the manifests of the tests: the testdata files, the
// end-to-end manifests and streams shaped like TestDecodeStreams's.
func splitInputs(t testing.TB) map[string][]byte {
	in := map[string][]byte{}
	for _, root := range []string{"testdata", "../../test/testdata/manifests"} {
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !isManifestName(d.Name()) {
				return err
			}
			b, err := os.ReadFile(p)
			in[filepath.ToSlash(p)] = b
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	pod := func(name string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata: {name: " + name + "}\nspec: {containers: [{name: c, image: 'i:1'}]}\n"
	}
	in["stream:CRLF"] = []byte(strings.ReplaceAll(pod("a")+"---\n"+pod("b"), "\n", "\r\n"))
	in["stream:BOM"] = []byte("\xef\xbb\xbf" + strings.TrimSuffix(pod("a"), "\n"))
	in["stream:----"] = []byte(pod("a") + "----\n")
	in["stream:null"] = []byte("apiVersion: v1\nkind: List\nitems: []\n---\nnull\n")
	in["stream:leading and trailing ---"] = []byte("---\n" + pod("a") + "---\n")
	in["stream:helm"] = []byte("---\n# Source: c/templates/a.yaml\n" + pod("a") + "---\n# Source: c/templates/b.yaml\n" + pod("b"))
	in["stream:bench"] = splitBenchStream(t)
	return in
}

func splitBenchStream(t testing.TB) []byte {
	data, err := os.ReadFile("testdata/kinds/deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Repeat(append(data, "---\n"...), 100)
}

// normalizeDoc drops what YAML reads the same way: a byte-order mark, CRLF
// line ends, a leading "---" line and surrounding blanks.
func normalizeDoc(doc string) string {
	doc = strings.ReplaceAll(strings.TrimPrefix(doc, "\xef\xbb\xbf"), "\r\n", "\n")
	if rest, ok := strings.CutPrefix(doc, "---"); ok && (rest == "" || rest[0] == '\n' || rest[0] == ' ') {
		_, doc, _ = strings.Cut(rest, "\n")
	}
	return strings.TrimSpace(doc)
}

func TestSplitterAgainstApimachinery(t *testing.T) {
	inputs := splitInputs(t)
	// A document over 16 MiB: the splitter skips it and goes on.
	inputs["stream:17MiB document"] = []byte("a: " + strings.Repeat("x", 17<<20) + "\n---\nb: 1\n")
	// Where the readers disagree with the splitter, and why:
	//   - "--- {inline}" (numbering.yaml): YAMLReader stops with "invalid
	//     Yaml document separator", losing the document and the rest;
	//     DocumentDecoder drops the content after "---" silently.
	//   - "----" (a content line, a YAML syntax error): YAMLReader stops
	//     with an error and loses the document; DocumentDecoder takes it for
	//     a separator, so the syntax error goes unreported.
	//   - a document over the cap: YAMLReader buffers it whole, however
	//     large; DocumentDecoder fails at 5 MiB (bufio.ErrTooLong) and reads
	//     no further.
	// Neither reports the line where a document starts, which Decode needs
	// to give YAML errors the line of the file.
	want := map[string][]string{
		"YAMLReader":      {"stream:----", "stream:17MiB document", "testdata/numbering.yaml"},
		"DocumentDecoder": {"stream:----", "stream:17MiB document", "testdata/numbering.yaml"},
	}
	for _, lib := range docSplitters[1:] {
		var differ []string
		for name, data := range inputs {
			old, oerr := splitWithSplitter(data)
			got, gerr := lib.split(data)
			same := (oerr == nil) == (gerr == nil) && len(got) == len(old)
			for i := 0; same && i < len(got); i++ {
				same = normalizeDoc(got[i]) == normalizeDoc(old[i])
			}
			if !same {
				differ = append(differ, name)
			}
		}
		slices.Sort(differ)
		if !reflect.DeepEqual(differ, want[lib.name]) {
			t.Errorf("%s splits differently from the splitter on\n %q, want\n %q", lib.name, differ, want[lib.name])
		}
	}
}

// BenchmarkSplitters splits the BenchmarkDecode stream (100 Deployments)
// and, in one op, all the inputs of splitInputs.
func BenchmarkSplitters(b *testing.B) {
	inputs := splitInputs(b)
	stream := inputs["stream:bench"]
	for _, s := range docSplitters {
		b.Run(s.name+"/bench-stream", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(stream)))
			for b.Loop() {
				if docs, err := s.split(stream); err != nil || len(docs) != 100 {
					b.Fatal(len(docs), err)
				}
			}
		})
		b.Run(s.name+"/all-manifests", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, d := range inputs {
					_, _ = s.split(d)
				}
			}
		})
	}
}
