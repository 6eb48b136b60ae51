package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestAudit runs `tokenguard audit` against a real API server with its own
// control plane (no webhook, so old images can be created): a Deployment
// with an old CoreDNS and one with a current CoreDNS, their Pods created by
// the controller manager (Pending: there is no kubelet).
func TestAudit(t *testing.T) {
	ctx, c, client, bin, work := ownControlPlane(t)

	const ns = "audit"
	if _, err := c.CreateNamespace(ctx, ns, nil); err != nil {
		t.Fatal(err)
	}
	for name, image := range map[string]string{"dns-old": dnsOld, "dns-new": dnsNew} {
		d := deployment(name, image)
		d.Spec.Template.Spec.Containers[0].Name = "coredns"
		if _, err := client.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create deployment %s: %v", name, err)
		}
	}
	// A bare pod, which must stand alone.
	if _, err := client.CoreV1().Pods(ns).Create(ctx, pod("debug", dnsNew), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e := &env{}
	e.eventually(t, "the Deployments' Pods", func() error {
		pods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		count := map[string]int{}
		for _, p := range pods.Items {
			count[p.Labels["app"]]++
		}
		if count["dns-old"] < 2 || count["dns-new"] < 2 {
			return fmt.Errorf("pods per app: %v", count)
		}
		return nil
	})

	audit := func(args ...string) (int, string, string) {
		t.Helper()
		cmd := exec.CommandContext(ctx, bin, append([]string{"audit", "--kubeconfig", c.Kubeconfig, "-n", ns}, args...)...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0, out.String(), errb.String()
		case errors.As(err, &ee):
			return ee.ExitCode(), out.String(), errb.String()
		}
		t.Fatalf("tokenguard audit: %v", err)
		return 0, "", ""
	}

	t.Run("json", func(t *testing.T) {
		code, out, errOut := audit("-o", "json")
		if code != 1 {
			t.Fatalf("exit %d, want 1; stderr %s\n%s", code, errOut, out)
		}
		var doc struct {
			Results []struct {
				Kind, Namespace, Name string
				Verdict               string
				Pods                  int
				Findings              []struct{ Component, Verdict string }
			} `json:"results"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		got := map[string]string{}
		for _, r := range doc.Results {
			if r.Namespace != ns {
				t.Errorf("result outside -n %s: %+v", ns, r)
			}
			got[r.Kind+"/"+r.Name] = fmt.Sprintf("%s pods=%d", r.Verdict, r.Pods)
		}
		want := map[string]string{
			"Deployment/dns-old": "too-old pods=2",
			"Deployment/dns-new": "ok pods=2",
			"Pod/debug":          got["Pod/debug"], // its verdict is not the point here
		}
		if len(got) != 3 || got["Deployment/dns-old"] != want["Deployment/dns-old"] || got["Deployment/dns-new"] != want["Deployment/dns-new"] {
			t.Errorf("results = %v, want %v\n%s", got, want, out)
		}
		if _, ok := got["Pod/debug"]; !ok {
			t.Errorf("the bare pod is not its own result: %v", got)
		}
	})

	t.Run("preview enforce", func(t *testing.T) {
		code, out, errOut := audit("--preview-mode", "enforce")
		t.Logf("tokenguard audit --preview-mode enforce:\n%s", out)
		if code != 1 {
			t.Fatalf("exit %d, want 1; stderr %s\n%s", code, errOut, out)
		}
		if !strings.Contains(out, "would be denied: Deployment/dns-old -n "+ns+": ") {
			t.Errorf("preview does not deny the old Deployment:\n%s", out)
		}
		if strings.Contains(out, "would be denied: Deployment/dns-new") {
			t.Errorf("preview denies the current Deployment:\n%s", out)
		}
	})

	t.Run("stale tokens", func(t *testing.T) {
		fixture := filepath.Join(work, "audit.log")
		event := fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1","stage":"ResponseComplete",`+
			`"requestURI":"/api/v1/namespaces/%[1]s/configmaps/x","verb":"get","user":{"username":"system:serviceaccount:%[1]s:default"},`+
			`"objectRef":{"resource":"configmaps","namespace":"%[1]s","name":"x","apiVersion":"v1"},"responseStatus":{"code":200},`+
			`"requestReceivedTimestamp":"2026-06-01T10:00:00.000000Z","stageTimestamp":"2026-06-01T10:00:00.000000Z",`+
			`"annotations":{"authentication.k8s.io/stale-token":"subject: system:serviceaccount:%[1]s:default, seconds after warning threshold: 7000000"}}`+"\n", ns)
		if err := os.WriteFile(fixture, []byte(event), 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := audit("--stale-tokens", fixture)
		t.Logf("tokenguard audit --stale-tokens:\n%s", out)
		if code != 1 {
			t.Fatalf("exit %d, want 1; stderr %s\n%s", code, errOut, out)
		}
		for _, want := range []string{
			"system:serviceaccount:" + ns + ":default: expiring",
			"kubectl rollout restart deployment/dns-old -n " + ns,
			"kubectl rollout restart deployment/dns-new -n " + ns,
			"upgrade coredns v1.8.3-eksbuild.1 to ",
			"delete and recreate pod debug -n " + ns,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("scan layers", func(t *testing.T) {
		// A Deployment of an application image without an SBOM: audit
		// --registry --scan-layers reads its files.
		reg := StartRegistry()
		defer reg.Close()
		image, err := reg.PushFiles("shop/orders", "2.4.1", map[string]string{
			"app/node_modules/@kubernetes/client-node/package.json": `{"name":"@kubernetes/client-node","version":"0.10.2"}`,
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.AppsV1().Deployments(ns).Create(ctx, deployment("orders", image), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := audit("-o", "json", "--registry", "--scan-layers", "--insecure-registry", reg.Host)
		if code != 1 || !strings.Contains(out, `"file": "/app/node_modules/@kubernetes/client-node/package.json"`) {
			t.Errorf("exit %d; stderr %s\n%s", code, errOut, out)
		}
		code, out, _ = audit("-o", "json", "--registry", "--insecure-registry", reg.Host)
		if strings.Contains(out, "client-node/package.json") {
			t.Errorf("without --scan-layers the files were read (exit %d):\n%s", code, out)
		}
	})
}
