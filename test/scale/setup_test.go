package scale

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tokenguard/tokenguard/deploy/crds"
	"github.com/tokenguard/tokenguard/test/e2e"
	"github.com/tokenguard/tokenguard/test/e2e/cluster"
)

// env is a control plane holding a fleet.
type env struct {
	cluster  *cluster.Cluster
	registry *e2e.Registry
	fleet    *fleet
	work     string
	logf     func(format string, args ...any)

	created           time.Duration // to create the fleet
	owners, podWrites int64
	podJSONBytes      float64 // mean, as the API server returns a pod
}

// setup starts a control plane without kube-controller-manager (nothing
// reconciles or deletes the fleet) with the OpenReports and ImageEvidence
// CRDs, a registry, and the fleet of s; push pushes the fleet's SBOM
// images. Everything stops when b ends.
func setup(ctx context.Context, b *testing.B, s size, push bool) *env {
	begin := time.Now()
	e := &env{work: b.TempDir()}
	e.logf = func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "scale %d pods %7s  %s\n", s.pods, time.Since(begin).Round(100*time.Millisecond), fmt.Sprintf(format, args...))
	}
	if dir := os.Getenv(envWorkDir); dir != "" {
		e.work = filepath.Join(fromRoot(dir), fmt.Sprintf("pods-%d-%s", s.pods, time.Now().Format("20060102-150405")))
		if err := os.MkdirAll(e.work, 0o755); err != nil {
			b.Fatal(err)
		}
		e.logf("files in %s", e.work)
	}
	e.cluster = cluster.StartForTest(b, cluster.Options{WorkDir: e.work, APIServerArgs: []string{
		// The loader creates objects from 64 goroutines; the defaults
		// (400, 200) hold, with room.
		"--max-requests-inflight=800", "--max-mutating-requests-inflight=400",
	}})
	for _, crd := range [][]byte{crds.ImageEvidenceYAML, cluster.ModuleFile(b, "github.com/openreports/reports-api", "config/crd/openreports.io_reports.yaml")} {
		if err := e.cluster.InstallCRD(ctx, crd); err != nil {
			b.Fatal(err)
		}
	}
	e.registry = e2e.StartRegistry()
	b.Cleanup(e.registry.Close)
	f, err := planFleet(s.pods, s.images, e.registry.Host)
	if err != nil {
		b.Fatal(err)
	}
	e.fleet = f
	if push {
		e.logf("control plane up; pushing %d images with SBOMs", len(f.pushed))
		if err := parallel(ctx, 8, len(f.pushed), func(_ context.Context, i int) error {
			p := f.pushed[i]
			ref, err := e.registry.PushWithSBOM(p.repo, p.tag, p.purls...)
			if want := e.registry.Host + "/" + p.repo + ":" + p.tag; err == nil && ref != want {
				err = fmt.Errorf("pushed %s, planned %s", ref, want)
			}
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}

	// The fleet, fast: protobuf, no client-side throttling to speak of.
	lc := rest.CopyConfig(e.cluster.Config)
	lc.QPS, lc.Burst = 2000, 4000
	lc.ContentType = "application/vnd.kubernetes.protobuf"
	lc.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cs := kubernetes.NewForConfigOrDie(lc)
	t0 := time.Now()
	n, err := f.create(ctx, cs, 64)
	e.created, e.owners, e.podWrites = time.Since(t0), n.owners.Load(), 2*n.pods.Load()
	if err != nil {
		b.Fatalf("creating the fleet (%d owners, %d pods so far): %v", n.owners.Load(), n.pods.Load(), err)
	}
	e.logf("created %d workload objects and %d pods (+ their status) in %s (%.0f writes/s)", e.owners, n.pods.Load(),
		e.created.Round(100*time.Millisecond), float64(e.owners+e.podWrites)/e.created.Seconds())
	if e.podJSONBytes, err = meanPodJSON(ctx, cs, s.pods); err != nil {
		b.Fatal(err)
	}
	return e
}

// fromRoot is path, relative to the checkout's root unless absolute (go
// test runs in the package's folder).
func fromRoot(path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(repoRoot(), path)
}

// meanPodJSON lists the pods (expecting want) and returns their mean size
// as JSON.
func meanPodJSON(ctx context.Context, cs kubernetes.Interface, want int) (float64, error) {
	total, count := 0, 0
	opts := metav1.ListOptions{Limit: 1000}
	for {
		l, err := cs.CoreV1().Pods("").List(ctx, opts)
		if err != nil {
			return 0, err
		}
		for i := range l.Items {
			b, err := json.Marshal(&l.Items[i])
			if err != nil {
				return 0, err
			}
			total += len(b)
			count++
		}
		if opts.Continue = l.Continue; opts.Continue == "" {
			break
		}
	}
	if count != want {
		return 0, fmt.Errorf("the cluster holds %d pods, not %d", count, want)
	}
	return float64(total) / float64(count), nil
}
