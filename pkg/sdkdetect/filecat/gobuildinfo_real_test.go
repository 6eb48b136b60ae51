package filecat

import (
	"debug/buildinfo"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The programs built here import k8s.io/client-go/pkg/version, which
// exists in every client-go release and needs only apimachinery's version
// package, so that each build is small and quick once the modules are in
// the module cache (v0.37.2 is tokenguard's own).
const clientGoProgram = `package main

import (
	"fmt"

	"k8s.io/client-go/pkg/version"
)

func main() { fmt.Println(version.Get()) }
`

type goProgram struct {
	name string
	// requires are go.mod lines after "go 1.26".
	requires string
	// files are more files of the module (a local replacement).
	files map[string]string
	// main is the program; clientGoProgram when empty.
	main string
	// gopath builds in GOPATH mode (GO111MODULE=off).
	gopath bool
	// goos and goarch cross-compile.
	goos, goarch string
	flags        []string
	// want is the client-go version the binary links, "" for none; note
	// says the cataloger notes it cannot tell.
	want string
	note bool
}

// TestGoBuildinfoRealBinaries builds Go programs with the go command from
// modules of the module proxy, reads them with the cataloger, and holds
// the result against debug/buildinfo.ReadFile.
func TestGoBuildinfoRealBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go programs: not in -short")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on the PATH")
	}
	pin := "require k8s.io/apimachinery v0.37.2\n"
	programs := []goProgram{
		{name: "module v0.37.2", requires: "require k8s.io/client-go v0.37.2\n", want: "v0.37.2"},
		{name: "stripped", requires: "require k8s.io/client-go v0.37.2\n", flags: []string{"-ldflags=-s -w"}, want: "v0.37.2"},
		{name: "trimpath without VCS stamp", requires: "require k8s.io/client-go v0.37.2\n", flags: []string{"-trimpath", "-buildvcs=false"}, want: "v0.37.2"},
		{name: "replaced by v0.36.6", requires: "require k8s.io/client-go v0.37.2\nreplace k8s.io/client-go => k8s.io/client-go v0.36.6\n", want: "v0.36.6"},
		{name: "legacy major", requires: "require k8s.io/client-go v11.0.0+incompatible\n" + pin, want: "v11.0.0+incompatible"},
		{name: "pseudo-version", requires: "require k8s.io/client-go v0.0.0-20190620085101-78d2af792bab\n" + pin, want: "v0.0.0-20190620085101-78d2af792bab"},
		{
			name:     "replaced by a directory",
			requires: "require k8s.io/client-go v0.37.2\nreplace k8s.io/client-go => ./client-go\n" + pin,
			files: map[string]string{
				"client-go/go.mod":             "module k8s.io/client-go\n\ngo 1.26\n\nrequire k8s.io/apimachinery v0.37.2\n",
				"client-go/pkg/version/ver.go": "package version\n\nfunc Get() string { return \"local\" }\n",
			},
			note: true,
		},
		{name: "no client-go", main: "package main\n\nfunc main() { println(\"hi\") }\n"},
		{name: "GOPATH build", main: "package main\n\nfunc main() { println(\"hi\") }\n", gopath: true, note: true},
		{name: "windows PE", requires: "require k8s.io/client-go v0.37.2\n", goos: "windows", goarch: "amd64", want: "v0.37.2"},
		{name: "darwin Mach-O", requires: "require k8s.io/client-go v0.37.2\n", goos: "darwin", goarch: "arm64", want: "v0.37.2"},
	}
	for _, p := range programs {
		t.Run(p.name, func(t *testing.T) {
			bin := buildGoProgram(t, goTool, p)
			checkGoBinary(t, bin, p.want, p.note)
		})
	}
}

// TestGoBuildinfoGoCommand reads the go command itself, which holds the
// module-information sentinels as data.
func TestGoBuildinfoGoCommand(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on the PATH")
	}
	goTool, err = filepath.EvalSymlinks(goTool)
	if err != nil {
		t.Fatal(err)
	}
	checkGoBinary(t, goTool, "", false)
}

// checkGoBinary reads bin with the cataloger and compares with
// debug/buildinfo.
func checkGoBinary(t *testing.T, bin, want string, note bool) {
	t.Helper()
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatalf("debug/buildinfo: %v", err)
	}
	stdlib := ""
	for _, d := range bi.Deps {
		if d.Path != "k8s.io/client-go" {
			continue
		}
		linked := d
		if d.Replace != nil {
			linked = d.Replace
		}
		stdlib = linked.Version
		if stdlib == "(devel)" {
			stdlib = "" // a directory
		}
	}
	if stdlib != want {
		t.Fatalf("debug/buildinfo says the binary links client-go %q, the test expects %q:\n%v", stdlib, want, bi)
	}

	f, err := os.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	head := make([]byte, HeadSize)
	if _, err := io.ReadFull(f, head); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	file := File{Path: "/usr/local/bin/app", Size: fi.Size(), Mode: 0o755, Head: head}
	c := goBuildinfo{}
	if !c.Wants(file) {
		t.Fatalf("Wants(%+v) = false", file)
	}
	got, err := c.Read(file, f, testLimits)
	if err != nil {
		t.Fatal(err)
	}
	var wantFound []Found
	if want != "" {
		wantFound = []Found{found(file.Path, NameGoBuildinfo, "golang", "k8s.io", "client-go", want)}
	}
	notes := 0
	if note {
		notes = 1
	}
	checkResult(t, got, wantFound, notes)
	t.Logf("%s: %+v", filepath.Base(bin), got)
}

// buildGoProgram builds p in a temporary directory and returns the
// binary's path. It skips the test when the modules cannot be had.
func buildGoProgram(t *testing.T, goTool string, p goProgram) string {
	t.Helper()
	dir := t.TempDir()
	src := dir
	env := cleanGoEnv()
	if p.gopath {
		src = filepath.Join(dir, "src", "example.com", "probe")
		env = append(env, "GO111MODULE=off", "GOPATH="+dir, "GOFLAGS=")
	} else {
		env = append(env, "GO111MODULE=on", "GOFLAGS=-mod=mod", "GOWORK=off")
		p.files = withFile(p.files, "go.mod", "module example.com/probe\n\ngo 1.26\n\n"+p.requires)
	}
	if p.goos != "" {
		env = append(env, "GOOS="+p.goos, "GOARCH="+p.goarch)
	}
	main := p.main
	if main == "" {
		main = clientGoProgram
	}
	p.files = withFile(p.files, "main.go", main)
	for name, content := range p.files {
		path := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) ([]byte, error) {
		cmd := exec.Command(goTool, args...)
		cmd.Dir = src
		cmd.Env = env
		return cmd.CombinedOutput()
	}
	if !p.gopath {
		if out, err := run("mod", "tidy"); err != nil {
			t.Skipf("the modules of %q cannot be had (is the module proxy reachable?): %v\n%s", p.name, err, out)
		}
	}
	bin := filepath.Join(dir, "app")
	args := append([]string{"build", "-o", bin}, p.flags...)
	if out, err := run(append(args, ".")...); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func withFile(files map[string]string, name, content string) map[string]string {
	m := map[string]string{name: content}
	for k, v := range files {
		m[k] = v
	}
	return m
}

// cleanGoEnv is the environment without the go command's settings that
// would change the builds.
func cleanGoEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GOFLAGS", "GO111MODULE", "GOWORK", "GOOS", "GOARCH", "GOPATH", "CGO_ENABLED", "GOTOOLCHAIN":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "CGO_ENABLED=0", "GOTOOLCHAIN=local")
}
