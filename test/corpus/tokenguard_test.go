package corpus

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gname "github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect/registry"
	"github.com/tokenguard/tokenguard/test/e2e"
)

// checkTokenguard scans every image through the registry source, as serve
// and check do, and holds the packages found to the ground truth: every
// wanted package at its version, file and (for an index) platform, every
// platform of an index read, nothing absent reported.
func checkTokenguard(t *testing.T, host string, imgs []Image, refs map[string]string) {
	src := scanSource(host)
	defer src.Close()
	for _, img := range imgs {
		t.Run(img.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			ev := src.Evidence(ctx, policy.Puller{}, refs[img.Name])
			if ev.Unavailable != "" || ev.LayersIncomplete != "" && len(img.Want) > 0 {
				t.Fatalf("no complete scan: %q %q", ev.Unavailable, ev.LayersIncomplete)
			}
			key := func(typ, ns, name, version, platform string) string {
				if img.Index == nil {
					platform = ""
				}
				return strings.ToLower(typ+"/"+ns+"/"+name) + "@" + version + " " + platform
			}
			got := map[string]policy.Package{}
			for _, p := range ev.Packages {
				got[key(p.Type, p.Namespace, p.Name, p.Version, p.Platform)] = p
			}
			for _, w := range img.Want {
				p, ok := got[key(w.Type, w.Namespace, w.Name, w.Version, w.Platform)]
				switch {
				case !ok:
					t.Errorf("missed %s; found %v", w, ev.Packages)
				case p.File != w.Path:
					t.Errorf("%s found in %q", w, p.File)
				}
			}
			for _, a := range img.Absent {
				if _, ok := got[key(a.Type, a.Namespace, a.Name, a.Version, a.Platform)]; ok {
					t.Errorf("reported %s, which the image does not hold", a)
				}
			}
			if len(img.Want) == 0 && len(ev.Packages) == 0 && ev.Layers == "" && ev.LayersIncomplete == "" {
				t.Errorf("an image without an SDK: neither a complete scan nor a reason: %+v", ev)
			}
		})
	}
}

// scanSource is the registry source serve and check use, reading host over
// plain HTTP and waiting for each layer scan.
func scanSource(host string) *registry.Source {
	return registry.New(registry.Options{
		Timeout:            10 * time.Second,
		InsecureRegistries: []string{host},
		Registries:         []string{host},
		Logger:             slog.New(slog.DiscardHandler),
		Layers:             registry.LayerOptions{Mode: registry.LayersAuto, Wait: true},
	})
}

// tokenguardRun is one `tokenguard check --registry --scan-layers` over
// the whole corpus.
type tokenguardRun struct {
	wall time.Duration
	peak int64
}

// runTokenguardCheck runs check as a user would, once over a manifest
// naming every image, measured like syft (GNU time for the peak RSS).
func runTokenguardCheck(t *testing.T, host string, imgs []Image, refs map[string]string) tokenguardRun {
	dir := t.TempDir()
	bin, err := e2e.BuildTokenguard(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i, img := range imgs {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Pod\nmetadata: {name: p%d, namespace: corpus}\nspec:\n  containers:\n  - {name: c, image: %q}\n", i, refs[img.Name])
	}
	manifest := filepath.Join(dir, "pods.yaml")
	if err := os.WriteFile(manifest, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	rss := filepath.Join(dir, "rss")
	args := []string{"check", "-o", "json", "--registry", "--scan-layers", "--insecure-registry", host, manifest}
	cmd := exec.Command(bin, args...)
	if fileExists(gnuTime) {
		cmd = exec.Command(gnuTime, append([]string{"-f", "%M", "-o", rss, bin}, args...)...)
	}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, io.Discard
	start := time.Now()
	err = cmd.Run()
	run := tokenguardRun{wall: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
		t.Fatalf("tokenguard %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	if data, err := os.ReadFile(rss); err == nil {
		if kb, err := strconv.ParseInt(strings.TrimSpace(lastLine(string(data))), 10, 64); err == nil {
			run.peak = kb << 10
		}
	}
	if !strings.Contains(out.String(), `"file": "/app/node_modules/@kubernetes/client-node/package.json"`) {
		t.Errorf("check's findings name no file:\n%.2000s", out.String())
	}
	t.Logf("tokenguard %s: %v, peak RSS %.0f MiB", strings.Join(args[:5], " "), run.wall.Round(10*time.Millisecond), float64(run.peak)/(1<<20))
	return run
}

// pullFloor pulls every layer of every image (both platforms of an index)
// from the registry, decompresses it and throws it away, two images at a
// time as tokenguard scans them: the least any layer scan can cost.
func pullFloor(t *testing.T, imgs []Image, refs map[string]string) time.Duration {
	start := time.Now()
	work := make(chan string)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ref := range work {
				if err := pullAndDiscard(ref); err != nil {
					t.Errorf("%s: %v", ref, err)
				}
			}
		}()
	}
	for _, img := range imgs {
		work <- refs[img.Name]
	}
	close(work)
	wg.Wait()
	return time.Since(start)
}

func pullAndDiscard(ref string) error {
	r, err := gname.ParseReference(ref, gname.Insecure)
	if err != nil {
		return err
	}
	desc, err := remote.Get(r)
	if err != nil {
		return err
	}
	var images []v1.Image
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return err
		}
		m, err := idx.IndexManifest()
		if err != nil {
			return err
		}
		for _, d := range m.Manifests {
			img, err := idx.Image(d.Digest)
			if err != nil {
				return err
			}
			images = append(images, img)
		}
	} else {
		img, err := desc.Image()
		if err != nil {
			return err
		}
		images = append(images, img)
	}
	for _, img := range images {
		ls, err := img.Layers()
		if err != nil {
			return err
		}
		for _, l := range ls {
			rc, err := l.Uncompressed()
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, rc)
			rc.Close()
			if err != nil {
				return err
			}
		}
	}
	return nil
}
