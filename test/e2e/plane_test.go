package e2e

import (
	"context"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/tokenguard/tokenguard/test/e2e/cluster"
)

// ownControlPlane is what the end-to-end tests that need a cluster of their
// own start from: etcd, kube-apiserver and kube-controller-manager (stopped
// when the test ends), an admin clientset, the tokenguard binary built into
// the test's work directory, and a context bounded to 10 minutes. It skips
// with -short.
func ownControlPlane(t *testing.T) (ctx context.Context, c *cluster.Cluster, client *kubernetes.Clientset, bin, work string) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: starts etcd, kube-apiserver and kube-controller-manager (skipped with -short)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	work = t.TempDir()
	binDir, err := cluster.BinDir(testLog{t})
	if err != nil {
		t.Fatalf("control-plane binaries: %v", err)
	}
	c, err = cluster.Start(ctx, cluster.Options{BinDir: binDir, WorkDir: work, Log: testLog{t}, ControllerManager: true})
	if err != nil {
		t.Fatalf("control plane: %v", err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	if client, err = kubernetes.NewForConfig(c.Config); err != nil {
		t.Fatal(err)
	}
	if bin, err = BuildTokenguard(work); err != nil {
		t.Fatal(err)
	}
	return ctx, c, client, bin, work
}
