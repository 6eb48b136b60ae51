package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/tokenguard/tokenguard/test/e2e/cluster"
)

// TestAuditWebhook: a real kube-apiserver, configured with an audit policy
// and an audit webhook backend pointing at `tokenguard serve`, delivers its
// audit batches to /audit (stale-token annotations need hour-old tokens,
// which a test cannot wait for: their parsing is tested in pkg/auditsink and
// through the real binary in cmd/webhook).
func TestAuditWebhook(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts a control plane (skipped with -short)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	work := t.TempDir()
	bin, err := BuildTokenguard(work)
	if err != nil {
		t.Fatal(err)
	}
	// The sink is served only authenticated, on its own listener: the API
	// server's webhook kubeconfig sends a bearer token of --audit-token-file.
	sink := newAuditSinkFiles(t, work)
	auditAddr, token, b := sink.addr, sink.token, sink.certs
	proc, err := NewProcess(bin, sink.args()...)
	if err != nil {
		t.Fatal(err)
	}
	if err := proc.Start(); err != nil {
		t.Fatal(err)
	}
	defer proc.Stop()

	policy := filepath.Join(work, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: Metadata\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hook := filepath.Join(work, "audit-webhook.kubeconfig")
	kubeconfig := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: tokenguard
  cluster:
    server: https://%s/audit
    certificate-authority-data: %s
contexts:
- name: tokenguard
  context: {cluster: tokenguard, user: tokenguard}
current-context: tokenguard
users:
- name: tokenguard
  user: {token: %s}
`, auditAddr, base64.StdEncoding.EncodeToString(b.CACertPEM), token)
	if err := os.WriteFile(hook, []byte(kubeconfig), 0o644); err != nil {
		t.Fatal(err)
	}
	binDir, err := cluster.BinDir(testLog{t})
	if err != nil {
		t.Fatal(err)
	}
	c, err := cluster.Start(ctx, cluster.Options{BinDir: binDir, WorkDir: work, Log: testLog{t}, APIServerArgs: []string{
		"--audit-policy-file=" + policy,
		"--audit-webhook-config-file=" + hook,
		"--audit-webhook-batch-max-wait=500ms",
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	client, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	var last string
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		_, _ = client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
		m := proc.MetricsText()
		for _, l := range strings.Split(m, "\n") {
			if strings.HasPrefix(l, `tokenguard_audit_batches_total{result="ok"}`) {
				last = l
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("no audit batch reached /audit: %v\ntokenguard output:\n%s\n%s", err, tail(proc.Output(), 20), c.Logs())
	}
	if m := proc.MetricsText(); strings.Contains(m, `tokenguard_audit_batches_total{result="malformed"}`) || strings.Contains(m, `tokenguard_audit_batches_total{result="unauthorized"}`) {
		t.Errorf("the API server's batches were not understood:\n%s", tail(proc.Output(), 20))
	}
	t.Log(last)
}
