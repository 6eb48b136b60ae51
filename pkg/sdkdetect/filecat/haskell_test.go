package filecat

import (
	"bytes"
	"testing"
)

func TestHaskellConf(t *testing.T) {
	conf := readTestdata(t, "haskell/kubernetes-client-0.3.0.0-8fL0e3uDxGq1bWvP1WJdHs.conf")
	hostname := readTestdata(t, "haskell/debian-hostname-1.0.conf")
	const store = "/root/.cabal/store/ghc-8.10.7/package.db/"
	path := store + "kubernetes-client-0.3.0.0-8fL0e3uDxGq1bWvP1WJdHs.conf"
	want := []Found{found(path, NameHaskellConf, "hackage", "", "kubernetes-client", "0.3.0.0")}
	tests := []struct {
		name    string
		path    string
		content []byte
		want    []Found
		notes   int
	}{
		{name: "cabal store", path: path, content: conf, want: want},
		{name: "CRLF", path: path, content: bytes.ReplaceAll(conf, []byte("\n"), []byte("\r\n")), want: want},
		{name: "value on the next line", path: path, content: []byte("name:\n    kubernetes-client\nversion:\n    0.3.0.0\n"), want: want},
		{name: "file name only", path: path, content: []byte("id: x\n"), want: want},
		{name: "another package", path: "/var/lib/ghc/package.conf.d/hostname-1.0.conf", content: hostname},
		{name: "content names another package", path: path, content: hostname},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkResult(t, readAll(t, haskellConf{}, tc.path, tc.content, testLimits), tc.want, tc.notes)
		})
	}
	for p, want := range map[string]bool{
		path: true,
		"/var/lib/ghc/package.conf.d/kubernetes-client-0.2.0.0.conf":                 true,
		"/root/.stack/snapshots/x/pkgdb/kubernetes-client-0.3.2.0-Hx.conf":           true,
		"/var/lib/ghc/package.conf.d/kubernetes-client-core-0.3.0.0-AtLBXLbGMX.conf": false,
		"/var/lib/ghc/package.conf.d/hostname-1.0.conf":                              false,
		"/var/lib/ghc/package.conf.d/kubernetes-client-0.3.0.0.cache":                false,
		"/app/kubernetes-client-0.3.0.0.conf":                                        false,
	} {
		if got := (haskellConf{}).Wants(File{Path: p, Size: 10}); got != want {
			t.Errorf("Wants(%s) = %v, want %v", p, got, want)
		}
	}
}
