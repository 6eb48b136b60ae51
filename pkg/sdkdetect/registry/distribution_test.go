package registry

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// distributionBinary is the CNCF distribution registry of Debian's
// docker-registry package (v2.8: no referrers API).
const distributionBinary = "/usr/bin/docker-registry"

// startDistribution runs the distribution registry on a free port with its
// storage in a temporary directory, and returns its host:port.
func startDistribution(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(distributionBinary); err != nil {
		t.Skipf("%s is absent: install Debian's docker-registry package (apt-get install -y docker-registry) to run this test", distributionBinary)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	config := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
`, filepath.Join(dir, "data"), addr)
	path := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(distributionBinary, "serve", path)
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
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
			t.Fatalf("distribution did not start on %s: %v\n%s", addr, err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestDistributionRegistry(t *testing.T) {
	host := startDistribution(t)
	r := &testRegistry{host: host}
	repo := r.repo(t, "acme/api")

	// A two-platform index with an SPDX referrer on the index (through
	// the sha256-<hex> fallback tag: distribution 2.8 has no referrers
	// API), a cosign attestation on arm64, and BuildKit's attestation for
	// amd64.
	amd64 := platformDesc(pushImage(t, repo, "", map[string]string{"org.opencontainers.image.version": "1.4.0"}), "linux/amd64")
	arm64 := platformDesc(pushImage(t, repo, "", nil), "linux/arm64")
	att := pushArtifact(t, repo, artifact{
		configType: types.OCIConfigJSON,
		layers: []layer{{mt: "application/vnd.in-toto+json", data: statement(spdxPredicate, spdxDoc("pkg:pypi/kubernetes@12.0.1")),
			ann: map[string]string{"in-toto.io/predicate-type": spdxPredicate}}},
	})
	att.Platform = &v1.Platform{OS: "unknown", Architecture: "unknown"}
	att.Annotations = map[string]string{"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": amd64.Digest.String()}
	idx := pushIndex(t, repo, "1.4", amd64, arm64, att)
	pushArtifact(t, repo, artifact{
		artifactType: "application/spdx+json", subject: &idx,
		layers: []layer{{mt: "application/spdx+json", data: spdxDoc(purlClientGo14)}},
	})
	pushArtifact(t, repo, artifact{
		tag: cosignTagFor(arm64, ".att"), configType: types.OCIConfigJSON,
		layers: []layer{{mt: "application/vnd.dsse.envelope.v1+json", data: dsse(statement(cdxPredicate, cycloneDXDoc(purlClientGo20))),
			ann: map[string]string{"predicateType": cdxPredicate}}},
	})

	var requests countingMetrics
	s := newSource(t, Options{Timeout: 10 * time.Second, Metrics: &requests})
	ev := evidence(t, s, host+"/acme/api:1.4")
	checkEvidence(t, ev, "sbom:spdx-referrer",
		"golang/k8s.io/client-go@v0.14.2 sbom:spdx-referrer",
		"golang/k8s.io/client-go@v0.20.0 sbom:cyclonedx-attestation-tag linux/arm64",
		"pypi//kubernetes@12.0.1 sbom:buildkit-attestation linux/amd64")
	if ev.Labels["org.opencontainers.image.version"] != "1.4.0" {
		t.Errorf("Labels = %v", ev.Labels)
	}
	t.Logf("cold lookup against distribution: %d requests", requests.n.Load())

	missing := evidence(t, s, host+"/acme/api:nope")
	if want := "image " + host + "/acme/api:nope not found in its registry"; missing.Unavailable != want {
		t.Errorf("Unavailable = %q, want %q", missing.Unavailable, want)
	}
}
