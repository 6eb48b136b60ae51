package corpus

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// sourceDir is this package's source folder: Build is called from other
// packages' tests too, whose working directory is theirs.
func sourceDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	return filepath.Dir(file)
}

// goCommand is the go command that builds the corpus programs.
func goCommand() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	return "/usr/local/go/bin/go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// goProgram builds testdata/goprog/<prog> (a main package that links
// k8s.io/client-go or the AWS SDK for Go at the versions its go.mod
// selects: watchedModules) for linux/<goarch>, CGO_ENABLED=0 with
// -trimpath and -ldflags="-s -w", from the Go module proxy, and returns
// the binary. Binaries are kept under
// dir/gobin/<prog>_linux_<goarch>_<Go version>_<hash of the sources>/ and
// not rebuilt (the file is named kube-app whatever the program links); a
// cold build takes one to three minutes per program.
func goProgram(t testing.TB, dir, prog, goarch string) string {
	t.Helper()
	src := filepath.Join(sourceDir(), "testdata", "goprog", prog)
	h := sha256.New()
	for _, f := range []string{"go.mod", "go.sum", "main.go"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatalf("corpus program %s: %v", prog, err)
		}
		fmt.Fprintf(h, "%s %d\n", f, len(b))
		h.Write(b)
	}
	key := fmt.Sprintf("%s_linux_%s_%s_%s", prog, goarch, runtime.Version(), hex.EncodeToString(h.Sum(nil))[:12])
	out := filepath.Join(dir, "gobin", key, "kube-app")
	if fileExists(out) {
		return out
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := out + fmt.Sprintf(".tmp%d", os.Getpid())
	t.Logf("building corpus program %s for linux/%s (once; cached in %s)", prog, goarch, filepath.Dir(out))
	cmd := exec.Command(goCommand(), "build", "-trimpath", "-ldflags=-s -w", "-o", tmp, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch, "GOWORK=off", "GOTOOLCHAIN=local", "GOFLAGS=-mod=readonly -buildvcs=false")
	if b, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		t.Fatalf("go build of corpus program %s (linux/%s) failed: %v\n%s", prog, goarch, err, b)
	}
	if err := os.Rename(tmp, out); err != nil {
		t.Fatal(err)
	}
	return out
}
