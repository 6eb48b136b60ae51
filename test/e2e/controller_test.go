package e2e

import (
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/tokenguard/tokenguard/pkg/reports"
	"github.com/tokenguard/tokenguard/test/e2e/cluster"
)

// TestEndToEndController: two `tokenguard controller` replicas against a
// real API server with the OpenReports CRD. The leader writes a report per
// Deployment (too-old and ok as check says); after the leader is killed
// (SIGKILL, its Lease left to expire), the other replica takes over within
// the lease duration and reports a Deployment created since.
func TestEndToEndController(t *testing.T) {
	ctx, c, client, bin, _ := ownControlPlane(t)
	if err := c.InstallCRD(ctx, cluster.ModuleFile(t, "github.com/openreports/reports-api", "config/crd/openreports.io_reports.yaml")); err != nil {
		t.Fatal(err)
	}
	const ns = "shop"
	if _, err := c.CreateNamespace(ctx, ns, nil); err != nil {
		t.Fatal(err)
	}
	deploy := func(name, image string) {
		t.Helper()
		labels := map[string]string{"app": name}
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "coredns", Image: image}}}}}}
		if _, err := client.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	deploy("dns-old", "coredns/coredns:1.8.3")
	deploy("dns-new", "coredns/coredns:1.11.1")

	type replica struct {
		cmd *exec.Cmd
		out *syncBuffer
	}
	start := func(name string) *replica {
		r := &replica{out: &syncBuffer{}}
		r.cmd = exec.Command(bin, "controller", "--kubeconfig", c.Kubeconfig, "--lease-namespace", "default", "--identity", name,
			"--metrics-addr", "127.0.0.1:0", "--interval", "6s", "--lease-duration", "4s", "--renew-deadline", "3s", "--log-format", "text")
		r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
		if err := r.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = r.cmd.Process.Signal(syscall.SIGTERM)
			_ = r.cmd.Wait()
			if t.Failed() {
				t.Logf("%s:\n%s", name, tail(r.out.String(), 40))
			}
		})
		return r
	}
	a := start("controller-a")
	time.Sleep(time.Second) // a stands first
	b := start("controller-b")

	dyn := dynamic.NewForConfigOrDie(c.Config)
	report := func(name string) (*unstructured.Unstructured, error) {
		return dyn.Resource(reports.ReportResource).Namespace(ns).Get(ctx, reports.Name("Deployment", name), metav1.GetOptions{})
	}
	waitReport := func(name string, within time.Duration) *unstructured.Unstructured {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			r, err := report(name)
			if err == nil {
				return r
			}
			if time.Now().After(deadline) {
				t.Fatalf("no report of Deployment %s after %v: %v", name, within, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	summary := func(r *unstructured.Unstructured) string {
		fail, _, _ := unstructured.NestedInt64(r.Object, "summary", "fail")
		pass, _, _ := unstructured.NestedInt64(r.Object, "summary", "pass")
		return fmt.Sprintf("fail %d pass %d", fail, pass)
	}
	if got := summary(waitReport("dns-old", time.Minute)); got != "fail 1 pass 0" {
		t.Errorf("dns-old (coredns 1.8.3, below 1.8.4): %s", got)
	}
	if got := summary(waitReport("dns-new", 30*time.Second)); got != "fail 0 pass 1" {
		t.Errorf("dns-new (coredns 1.11.1): %s", got)
	}

	// Which replica leads: the one whose log says so.
	leader, standby := a, b
	if !strings.Contains(a.out.String(), "leading=true") {
		leader, standby = b, a
	}
	killed := time.Now()
	if err := leader.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deploy("dns-later", "coredns/coredns:1.8.0")
	r := waitReport("dns-later", 4*time.Second+6*time.Second+20*time.Second)
	t.Logf("the standby reported a new Deployment %v after the leader was killed (lease 4 s, pass gap 5-6 s)", time.Since(killed).Round(100*time.Millisecond))
	if got := summary(r); got != "fail 1 pass 0" {
		t.Errorf("dns-later (coredns 1.8.0): %s", got)
	}
	if !strings.Contains(standby.out.String(), "leading=true") {
		t.Errorf("the standby never led:\n%s", tail(standby.out.String(), 20))
	}
}
