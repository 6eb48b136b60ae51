package corpus

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// StartRegistry runs go-containerregistry's in-memory registry on
// 127.0.0.1 for the rest of the test and returns its host:port.
func StartRegistry(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// distributionBinary is the CNCF distribution registry of Debian's
// docker-registry package (hack/test-deps.sh installs it).
const distributionBinary = "/usr/bin/docker-registry"

// StartDistribution runs Debian's docker-registry on a free port of
// 127.0.0.1 with its storage under t.TempDir, and returns its host:port.
// It skips the test when the binary is absent.
func StartDistribution(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(distributionBinary); err != nil {
		t.Skipf("%s is absent: install Debian's docker-registry package (hack/test-deps.sh) to run this test", distributionBinary)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	config := fmt.Sprintf("version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n", filepath.Join(dir, "data"), addr)
	path := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(distributionBinary, "serve", path)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("docker-registry did not start on %s: %v\n%s", addr, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Push writes the images to the registry at host (plain HTTP, as on
// 127.0.0.1) as host/corpus/<Name>:latest and returns each image's
// reference by name.
func Push(t testing.TB, host string, imgs []Image) map[string]string {
	t.Helper()
	refs := make(map[string]string, len(imgs))
	start := time.Now()
	for _, img := range imgs {
		ref, err := name.ParseReference(host+"/corpus/"+img.Name+":latest", name.Insecure)
		if err != nil {
			t.Fatalf("image %s: %v", img.Name, err)
		}
		switch {
		case img.Index != nil:
			err = remote.WriteIndex(ref, img.Index)
		case img.Image != nil:
			err = remote.Write(ref, img.Image)
		default:
			err = fmt.Errorf("neither an image nor an index")
		}
		if err != nil {
			t.Fatalf("pushing %s to %s: %v", img.Name, host, err)
		}
		refs[img.Name] = ref.String()
	}
	t.Logf("pushed %d images to %s in %v", len(imgs), host, time.Since(start).Round(time.Millisecond))
	return refs
}
