package layers

import (
	"archive/tar"
	"bytes"
	"math/rand/v2"
	"strconv"
	"testing"
)

// wantedPath is the one file of a synthetic layer the npm cataloger wants.
const wantedPath = "app/node_modules/@kubernetes/client-node/package.json"

// syntheticTar is a layer of n small files in directories of 100, like a
// Python or Node tree, with one package.json the npm cataloger wants.
// maxBody bounds each file's size (0: empty files); contents are words
// drawn from a small vocabulary, so they compress about as source code
// does.
func syntheticTar(tb testing.TB, n, maxBody int) []byte {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"def ", "return ", "self", ".value", " = ", "import ", "None", "\n", "    ", "if ", "else:", "for ", " in ", "(", ")", ":", "x", "_id", "config", "0x1f"}
	var buf bytes.Buffer
	buf.Grow(n * (1024 + maxBody))
	tw := tar.NewWriter(&buf)
	var body []byte
	var dir string
	for i := range n {
		if i%100 == 0 {
			dir = "usr/lib/python3/site-packages/pkg" + strconv.Itoa(i/100) + "/"
			if err := tw.WriteHeader(&tar.Header{Name: dir, Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
				tb.Fatal(err)
			}
		}
		body = body[:0]
		if maxBody > 0 {
			size := 1 + rng.IntN(maxBody)
			for len(body) < size {
				body = append(body, words[rng.IntN(len(words))]...)
			}
			body = body[:size]
		}
		name := dir + "module_" + strconv.Itoa(i) + ".py"
		if i == n/2 {
			name, body = wantedPath, append(body[:0], "@kubernetes/client-node 0.10.3"...)
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body)),
			Uname: "root", Gname: "root"}); err != nil {
			tb.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
