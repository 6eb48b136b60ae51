package cluster

import (
	"bytes"
	"context"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// testLog is an io.Writer that passes whole lines to t.Log (streamed with
// go test -v).
type testLog struct {
	t   testing.TB
	mu  sync.Mutex
	buf []byte
}

func (w *testLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.t.Log(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

// TestCluster starts the control plane with the controller manager, lets a
// Deployment produce its ReplicaSet and Pod, then stops everything. The
// binaries are built when missing (a cold build takes several minutes: run
// with -timeout 20m, or build them first with hack/e2e-binaries.sh).
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: starts etcd, kube-apiserver and kube-controller-manager")
	}
	log := &testLog{t: t}
	buildStart := time.Now()
	bin, err := BinDir(log)
	if err != nil {
		t.Fatalf("BinDir: %v", err)
	}
	t.Logf("binaries in %s (%s)", bin, time.Since(buildStart).Round(time.Millisecond))

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	c, err := Start(ctx, Options{BinDir: bin, WorkDir: t.TempDir(), Log: log, ControllerManager: true})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("cluster ready in %s", time.Since(start).Round(time.Millisecond))
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = c.Stop()
		}
	})
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf(format+"\n%s", append(args, c.Logs())...)
	}

	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		fail("server version: %v", err)
	}
	t.Logf("server version %s", v.GitVersion)

	// The kubeconfig file works too.
	kc, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		t.Fatalf("kubeconfig: %v", err)
	}
	if _, err := kubernetes.NewForConfigOrDie(kc).CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err != nil {
		fail("get namespace default with %s: %v", c.Kubeconfig, err)
	}

	ns := "e2e-cluster"
	nsStart := time.Now()
	if _, err := c.CreateNamespace(ctx, ns, map[string]string{"e2e": "cluster"}); err != nil {
		fail("create namespace: %v", err)
	}
	t.Logf("namespace %s with its default ServiceAccount in %s", ns, time.Since(nsStart).Round(time.Millisecond))
	labels := map[string]string{"app": "pause"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "pause", Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "pause", Image: "registry.k8s.io/pause:3.10",
				}}},
			},
		},
	}
	dep, err = cs.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{})
	if err != nil {
		fail("create deployment: %v", err)
	}

	// The controller manager creates a ReplicaSet owned by the Deployment,
	// then a Pod owned by the ReplicaSet (Pending: no kubelet).
	created := time.Now()
	var rsUID, podName string
	for rsUID == "" || podName == "" {
		if ctx.Err() != nil {
			fail("no ReplicaSet and Pod for the Deployment after %s (ReplicaSet uid %q, Pod %q)", time.Since(created), rsUID, podName)
		}
		if rsUID == "" {
			rss, err := cs.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				fail("list replicasets: %v", err)
			}
			for _, rs := range rss.Items {
				if ref := metav1.GetControllerOf(&rs); ref != nil && ref.UID == dep.UID {
					rsUID = string(rs.UID)
					t.Logf("ReplicaSet %s after %s", rs.Name, time.Since(created).Round(time.Millisecond))
				}
			}
		}
		if rsUID != "" {
			pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				fail("list pods: %v", err)
			}
			for _, p := range pods.Items {
				if ref := metav1.GetControllerOf(&p); ref != nil && string(ref.UID) == rsUID {
					podName = p.Name
					t.Logf("Pod %s (%s, service account %q) after %s", p.Name, p.Status.Phase, p.Spec.ServiceAccountName, time.Since(created).Round(time.Millisecond))
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}

	t.Run("webhook", func(t *testing.T) { testWebhook(t, ctx, c, ns) })

	c.mu.Lock()
	procs := append([]*process(nil), c.procs...)
	c.mu.Unlock()
	if len(procs) != 3 {
		t.Fatalf("%d processes, want 3", len(procs))
	}
	stopStart := time.Now()
	if err := c.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	stopped = true
	t.Logf("stopped in %s", time.Since(stopStart).Round(time.Millisecond))
	if err := c.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	for _, p := range procs {
		if p.cmd.ProcessState == nil {
			t.Errorf("%s (pid %d) not reaped after Stop", p.name, p.cmd.Process.Pid)
		}
		if runtime.GOOS == "linux" {
			if _, err := os.Stat("/proc/" + strconv.Itoa(p.cmd.Process.Pid)); err == nil {
				t.Errorf("%s (pid %d) still exists after Stop", p.name, p.cmd.Process.Pid)
			}
		}
	}
}
