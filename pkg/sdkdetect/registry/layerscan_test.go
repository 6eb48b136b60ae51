package registry

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/test/e2e"
)

// fileLayer is a gzip tar layer holding files (path → content).
func fileLayer(t testing.TB, files map[string]string) v1.Layer {
	t.Helper()
	l, err := e2e.FileLayer(files)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func clientNode(version string) map[string]string {
	return map[string]string{
		"app/package.json": `{"name":"orders","dependencies":{"@kubernetes/client-node":"^0.10.0"}}`,
		"app/node_modules/@kubernetes/client-node/package.json": `{"name":"@kubernetes/client-node","version":"` + version + `"}`,
	}
}

// pushFiles pushes an image of the layers' files and returns its
// descriptor (tagged when tag is set).
func pushFiles(t testing.TB, repo name.Repository, tag string, ls ...v1.Layer) v1.Descriptor {
	t.Helper()
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), ls...)
	if err != nil {
		t.Fatal(err)
	}
	return writeImage(t, repo, tag, mutate.ConfigMediaType(img, types.OCIConfigJSON))
}

func TestLayerScanFindsFiles(t *testing.T) {
	r := newTestRegistry(t)
	repo := r.repo(t, "shop/orders")
	r.quiet(func() {
		pushFiles(t, repo, "2.4.1", fileLayer(t, map[string]string{"etc/os-release": "ID=debian"}), fileLayer(t, clientNode("0.10.2")))
		pushFiles(t, repo, "plain", fileLayer(t, map[string]string{"bin/sh": "#!/bin/sh"}))
		amd := platformDesc(pushFiles(t, repo, "", fileLayer(t, clientNode("0.10.3"))), "linux/amd64")
		arm := platformDesc(pushFiles(t, repo, "", fileLayer(t, clientNode("0.9.0"))), "linux/arm64")
		s390 := platformDesc(pushFiles(t, repo, "", fileLayer(t, clientNode("0.1.0"))), "linux/s390x")
		pushIndex(t, repo, "multi", amd, arm, s390)
	})
	s := newSource(t, Options{Timeout: 5 * time.Second, Layers: LayerOptions{Mode: LayersAuto, Wait: true}})

	ev := s.Evidence(context.Background(), policy.Puller{}, r.host+"/shop/orders:2.4.1")
	if len(ev.Packages) != 1 || ev.Layers != policy.SourceLayers {
		t.Fatalf("evidence %+v", ev)
	}
	p := ev.Packages[0]
	if p.Type != "npm" || p.Namespace != "@kubernetes" || p.Name != "client-node" || p.Version != "0.10.2" ||
		p.File != "/app/node_modules/@kubernetes/client-node/package.json" || !strings.HasPrefix(p.Source, policy.SourceLayerPrefix) {
		t.Errorf("package %+v", p)
	}

	// A complete scan without an SDK says so.
	ev = s.Evidence(context.Background(), policy.Puller{}, r.host+"/shop/orders:plain")
	if len(ev.Packages) != 0 || ev.Layers != policy.SourceLayers || ev.LayersIncomplete != "" {
		t.Errorf("an image without an SDK: %+v", ev)
	}

	// An index: the platforms asked for (amd64, arm64), each named; the
	// s390x image is not read.
	ev = s.Evidence(context.Background(), policy.Puller{}, r.host+"/shop/orders:multi")
	got := map[string]string{}
	for _, p := range ev.Packages {
		got[p.Platform] = p.Version
	}
	if len(got) != 2 || got["linux/amd64"] != "0.10.3" || got["linux/arm64"] != "0.9.0" || ev.Layers != policy.SourceLayers {
		t.Errorf("index: packages by platform %v, evidence %+v", got, ev)
	}

	// Cached: the next review sends no request.
	r.reset()
	s.Evidence(context.Background(), policy.Puller{}, r.host+"/shop/orders:2.4.1")
	for _, l := range r.requestLog() {
		if strings.Contains(l, "/blobs/") {
			t.Errorf("a cached scan read a blob again: %v", r.requestLog())
			break
		}
	}
}

func TestLayerScanModes(t *testing.T) {
	r := newTestRegistry(t)
	repo := r.repo(t, "acme/api")
	var withSBOM v1.Descriptor
	r.quiet(func() {
		withSBOM = pushFiles(t, repo, "1.4", fileLayer(t, clientNode("0.10.2")))
		pushArtifact(t, repo, artifact{
			artifactType: "application/spdx+json", subject: &withSBOM,
			layers: []layer{{mt: "application/spdx+json", data: spdxDoc(purlClientGo14)}},
		})
	})
	for _, tt := range []struct {
		mode       string
		wantLayers bool
	}{{LayersAuto, false}, {LayersAlways, true}, {LayersNever, false}} {
		t.Run(tt.mode, func(t *testing.T) {
			s := newSource(t, Options{Timeout: 5 * time.Second, Layers: LayerOptions{Mode: tt.mode, Wait: true}})
			ev := s.Evidence(context.Background(), policy.Puller{}, r.host+"/acme/api:1.4")
			var sbom, files bool
			for _, p := range ev.Packages {
				sbom = sbom || strings.HasPrefix(p.Source, "sbom:")
				files = files || p.File != ""
			}
			if !sbom || files != tt.wantLayers || (ev.Layers != "") != tt.wantLayers {
				t.Errorf("mode %s: SBOM packages %v, file packages %v, layers %q; evidence %+v", tt.mode, sbom, files, ev.Layers, ev)
			}
		})
	}
}

// TestLayerScanWithinBudget: in serve (no Wait) a review waits for a scan
// only within its budget; the scan goes on and the next review gets it.
func TestLayerScanWithinBudget(t *testing.T) {
	// Blobs come slowly: the scan outlasts the review's budget.
	var slowBlobs atomic.Bool
	inner := ggcrregistry.New(ggcrregistry.Logger(discardLog))
	r := serveCounting(t, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if slowBlobs.Load() && strings.Contains(req.URL.Path, "/blobs/") && req.Method == http.MethodGet {
			time.Sleep(400 * time.Millisecond)
		}
		inner.ServeHTTP(w, req)
	}))
	repo := r.repo(t, "shop/orders")
	r.quiet(func() {
		pushFiles(t, repo, "2.4.1", fileLayer(t, map[string]string{"etc/os-release": "ID=debian"}), fileLayer(t, clientNode("0.10.2")))
	})
	slowBlobs.Store(true)
	s := newSource(t, Options{Timeout: 300 * time.Millisecond, Layers: LayerOptions{Mode: LayersAuto}})
	ref := r.host + "/shop/orders:2.4.1"
	// The lookup (manifest, config) outlasts one budget, then the scan
	// starts by itself.
	ev := s.Evidence(context.Background(), policy.Puller{}, ref)
	for ev.Unavailable != "" {
		time.Sleep(50 * time.Millisecond)
		ev = s.Evidence(context.Background(), policy.Puller{}, ref)
	}
	begin := time.Now()
	ev = s.Evidence(context.Background(), policy.Puller{}, ref)
	if took := time.Since(begin); took > time.Second {
		t.Errorf("the review waited %s for the scan, past its 300 ms budget", took)
	}
	if ev.LayersIncomplete != msgScanUnderWay || len(ev.Packages) != 0 {
		t.Fatalf("while the scan runs: %+v", ev)
	}
	deadline := time.Now().Add(10 * time.Second)
	for ev.Layers == "" && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		ev = s.Evidence(context.Background(), policy.Puller{}, ref)
	}
	if len(ev.Packages) != 1 || ev.Packages[0].Version != "0.10.2" || ev.Layers != policy.SourceLayers {
		t.Errorf("after the scan: %+v", ev)
	}
}

// TestLayerScanQueueBound: past QueueSize scans waiting, a review starts
// none and says so.
func TestLayerScanQueueBound(t *testing.T) {
	r := slowRegistry(t, time.Hour)
	s := newSource(t, Options{Timeout: 50 * time.Millisecond, Layers: LayerOptions{Mode: LayersAuto, Concurrency: 1, QueueSize: 2}})
	rec := &record{digest: "sha256:" + strings.Repeat("a", 64), targets: []scanTarget{{digest: "sha256:" + strings.Repeat("a", 64)}}}
	repo := r.repo(t, "acme/api")
	queued := 0
	for i := range 6 {
		rec := *rec
		rec.digest = fmt.Sprintf("sha256:%064d", i)
		if _, ok := s.startScan(repo, &rec, creds{}); ok {
			queued++
		}
		time.Sleep(10 * time.Millisecond)
	}
	if queued != 3 {
		t.Errorf("%d scans started or queued, want 3 (1 running, 2 waiting)", queued)
	}
}

func TestPlatformWanted(t *testing.T) {
	want := []string{"linux/amd64", "linux/arm64", "linux/arm/v7"}
	for platform, ok := range map[string]bool{
		"linux/amd64": true, "linux/arm64": true, "linux/arm64/v8": true, "linux/arm/v7": true,
		"linux/arm/v6": false, "linux/s390x": false, "linux/amd64x": false,
	} {
		if platformWanted(platform, want) != ok {
			t.Errorf("platformWanted(%q) = %v", platform, !ok)
		}
	}
}
