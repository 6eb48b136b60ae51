package cluster

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// ReadModuleVersionFile reads the file rel of module at version, a module
// the build does not use (a CRD a third-party project ships, say), from
// the module cache, downloading it from the Go module proxy the first time
// (go mod download, which checks it against the checksum database). It
// runs outside any module, so no go.mod changes.
func ReadModuleVersionFile(module, version, rel string) ([]byte, error) {
	cmd := exec.Command("go", "mod", "download", "-json", module+"@"+version)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GO111MODULE=on")
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &info); jerr != nil || info.Dir == "" {
		if info.Error != "" {
			return nil, fmt.Errorf("go mod download %s@%s: %s", module, version, info.Error)
		}
		if ee, ok := err.(*exec.ExitError); ok {
			err = fmt.Errorf("%w: %s", err, ee.Stderr)
		}
		return nil, fmt.Errorf("go mod download %s@%s: %v %v", module, version, err, jerr)
	}
	return os.ReadFile(filepath.Join(info.Dir, rel))
}

// ModuleVersionFile is ReadModuleVersionFile; an error fails the test.
func ModuleVersionFile(t testing.TB, module, version, rel string) []byte {
	t.Helper()
	b, err := ReadModuleVersionFile(module, version, rel)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
