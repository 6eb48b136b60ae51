package load

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// TestOPAPolicy evaluates the OPA peer's policy (opa/tokenguard.rego) with
// the opa binary of the side-by-side load test, on the load fixtures and on
// the version traps of tokenguard's add-on rules, in one `opa eval`. The
// binary is $OPA_BIN, or the one hack/peer-binaries.sh caches; the test does
// not build it and skips when there is none.
func TestOPAPolicy(t *testing.T) {
	opa := opaBinary(t)

	type want struct {
		allowed bool
		message string // denied: the whole message
	}
	deny := func(container, addon, tag, minimum string) want {
		return want{message: fmt.Sprintf("container %q: %s %s is older than %s, the first version that refreshes bound service-account tokens",
			container, addon, tag, minimum)}
	}
	allow := want{allowed: true}
	const (
		ecr    = "602401143452.dkr.ecr.us-west-2.amazonaws.com/"
		digest = "@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	)

	inputs := map[string]json.RawMessage{}
	wants := map[string]want{}
	for file, w := range map[string]want{
		"pod-3c-allowed.json":     allow,
		"pod-3c-denied.json":      deny("aws-node", "amazon-vpc-cni", "v1.7.5-eksbuild.1", "1.8.0"),
		"deployment-allowed.json": allow,
		"deployment-denied.json":  deny("coredns", "coredns", "v1.8.3-eksbuild.1", "1.8.4"),
	} {
		body, err := os.ReadFile(filepath.Join("fixtures", file))
		if err != nil {
			t.Fatal(err)
		}
		inputs[file], wants[file] = body, w
	}
	for _, tc := range []struct {
		name, image string
		want        want
	}{
		{"cni eksbuild ok", ecr + "amazon-k8s-cni:v1.18.3-eksbuild.1", allow},
		{"cni eksbuild too old", ecr + "amazon-k8s-cni:v1.7.5-eksbuild.1", deny("c", "amazon-vpc-cni", "v1.7.5-eksbuild.1", "1.8.0")},
		{"cni minimum", "public.ecr.aws/eks/amazon-k8s-cni:v1.8.0", allow},
		{"cni init too old", ecr + "amazon-k8s-cni-init:v1.7.5", deny("c", "amazon-vpc-cni", "v1.7.5", "1.8.0")},
		{"cni tag and digest", ecr + "amazon-k8s-cni:v1.7.5-eksbuild.1" + digest, deny("c", "amazon-vpc-cni", "v1.7.5-eksbuild.1", "1.8.0")},
		{"cni digest only", ecr + "amazon-k8s-cni" + digest, allow},
		{"fluent-bit date part ok", "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.2.20241008", allow},
		{"fluent-bit too old", "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.24.0", deny("c", "aws-for-fluent-bit", "2.24.0", "2.25.0")},
		{"coredns too old", "coredns/coredns:1.8.3", deny("c", "coredns", "1.8.3", "1.8.4")},
		{"coredns minimum", "coredns/coredns:1.8.4", allow},
		{"coredns two parts", "k8s.gcr.io/coredns:1.8", deny("c", "coredns", "1.8", "1.8.4")},
		{"coredns eks too old", ecr + "eks/coredns:v1.8.3-eksbuild.1", deny("c", "coredns", "v1.8.3-eksbuild.1", "1.8.4")},
		{"leading zero is not semver", "coredns/coredns:1.08.0", allow},
		{"no version in tag", "coredns/coredns:latest", allow},
		{"no tag", "coredns/coredns", allow},
		{"registry port", "localhost:5000/coredns:1.6.7", deny("c", "coredns", "1.6.7", "1.8.4")},
		{"alb v1 too old", "amazon/aws-alb-ingress-controller:v1.1.9", deny("c", "aws-load-balancer-controller", "v1.1.9", "2.0.0")},
		{"alb other repository", "registry.example.com/acme/aws-alb-ingress-controller:v1.1.9", allow},
		{"fluentd daemonset minimum", "fluent/fluentd-kubernetes-daemonset:v1.14.6-debian-cloudwatch-1.1", allow},
		{"fluentd official too old", "fluentd:v1.14.5-1.0", deny("c", "fluentd", "v1.14.5-1.0", "1.14.6")},
		{"fluentd docker.io too old", "docker.io/fluentd:v1.14.5-1.0", deny("c", "fluentd", "v1.14.5-1.0", "1.14.6")},
		{"fluentd other repository", "quay.io/acme/fluentd:v1.0.0", allow},
		{"kube-proxy left out", "registry.k8s.io/kube-proxy:v1.20.0", allow},
		{"unknown image", "ghcr.io/acme/orders:1.4.2", allow},
	} {
		inputs[tc.name] = podReview(t, tc.name, tc.image)
		wants[tc.name] = tc.want
	}

	got := opaEvalReviews(t, opa, inputs)
	names := make([]string, 0, len(wants))
	for name := range wants {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			var in struct {
				Request struct {
					UID string `json:"uid"`
				} `json:"request"`
			}
			if err := json.Unmarshal(inputs[name], &in); err != nil {
				t.Fatal(err)
			}
			out, ok := got[name]
			if !ok {
				t.Fatal("no review: the policy is undefined for this input")
			}
			if out.APIVersion != "admission.k8s.io/v1" || out.Kind != "AdmissionReview" {
				t.Errorf("apiVersion/kind = %q/%q", out.APIVersion, out.Kind)
			}
			r := out.Response
			if r.UID != in.Request.UID {
				t.Errorf("response uid %q, want the request's %q", r.UID, in.Request.UID)
			}
			w := wants[name]
			if r.Allowed != w.allowed {
				t.Errorf("allowed = %v, want %v (status %+v)", r.Allowed, w.allowed, r.Status)
			}
			if w.allowed {
				if r.Status != nil {
					t.Errorf("allowed with a status: %+v", r.Status)
				}
				return
			}
			if r.Status == nil || r.Status.Code != 403 || r.Status.Reason != "Forbidden" || r.Status.Message != w.message {
				t.Errorf("status %+v,\nwant 403 Forbidden %q", r.Status, w.message)
			}
		})
	}
}

// podReview is a minimal Pod CREATE review with one container "c".
func podReview(t *testing.T, name, image string) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"apiVersion": "admission.k8s.io/v1",
		"kind":       "AdmissionReview",
		"request": map[string]any{
			"uid":       "uid-" + name,
			"kind":      map[string]string{"group": "", "version": "v1", "kind": "Pod"},
			"operation": "CREATE",
			"object": map[string]any{
				"apiVersion": "v1",
				"kind":       "Pod",
				"spec":       map[string]any{"containers": []map[string]string{{"name": "c", "image": image}}},
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type opaReview struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Response   struct {
		UID     string `json:"uid"`
		Allowed bool   `json:"allowed"`
		Status  *struct {
			Code    int    `json:"code"`
			Reason  string `json:"reason"`
			Message string `json:"message"`
		} `json:"status"`
	} `json:"response"`
}

// opaEvalReviews evaluates data.tokenguard.admission.review once per input
// (with input as ...), all in one opa process; inputs without a review are
// missing from the result.
func opaEvalReviews(t *testing.T, opa string, inputs map[string]json.RawMessage) map[string]opaReview {
	t.Helper()
	cases := filepath.Join(t.TempDir(), "cases.json")
	b, err := json.Marshal(map[string]any{"tokenguard_test_inputs": inputs})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cases, b, 0o600); err != nil {
		t.Fatal(err)
	}
	query := `{name: r | some name, review_input in data.tokenguard_test_inputs; r := data.tokenguard.admission.review with input as review_input}`
	cmd := exec.Command(opa, "eval", "--format=json", "--fail", "--strict-builtin-errors",
		"-d", filepath.Join("opa", "tokenguard.rego"), "-d", cases, query)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s eval: %v\n%s%s", opa, err, out, stderr.Bytes())
	}
	var res struct {
		Result []struct {
			Expressions []struct {
				Value map[string]opaReview `json:"value"`
			} `json:"expressions"`
		} `json:"result"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("opa eval output: %v\n%s", err, out)
	}
	if len(res.Result) != 1 || len(res.Result[0].Expressions) != 1 {
		t.Fatalf("opa eval output: want one result with one expression:\n%s", out)
	}
	return res.Result[0].Expressions[0].Value
}

// opaBinary returns $OPA_BIN, or the opa that hack/peer-binaries.sh builds
// into its cache (same cache root and key), or skips the test.
func opaBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("OPA_BIN"); bin != "" {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("OPA_BIN=%s: %v", bin, err)
		}
		return bin
	}
	root, err := peersCacheRoot()
	if err != nil {
		t.Skipf("no opa binary: %v; run ./hack/peer-binaries.sh or set OPA_BIN", err)
	}
	psaVersion := modVersion(t, "../../hack/tools/psa/go.mod", "k8s.io/pod-security-admission")
	opaVersion := modVersion(t, "../../hack/tools/opa/go.mod", "github.com/open-policy-agent/opa")
	prefix := fmt.Sprintf("psa-%s_opa-%s_", psaVersion, opaVersion)
	key := fmt.Sprintf("%s%s_%s-%s_%s", prefix, runtime.Version(), runtime.GOOS, runtime.GOARCH,
		modHash(t, "../../hack/tools/psa", "../../hack/tools/opa"))
	candidates := []string{filepath.Join(root, key, "opa")}
	// The same OPA built by another Go version (the test's toolchain may
	// differ from the one the script ran) evaluates the policy the same way.
	others, _ := filepath.Glob(filepath.Join(root, prefix+"*", "opa"))
	candidates = append(candidates, others...)
	for _, bin := range candidates {
		if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return bin
		}
	}
	t.Skipf("no opa binary in %s: run ./hack/peer-binaries.sh (it builds and caches OPA %s) or set OPA_BIN", filepath.Join(root, key), opaVersion)
	return ""
}

// peersCacheRoot is hack/peer-binaries.sh's cache root (hack/lib/cached-build.sh).
func peersCacheRoot() (string, error) {
	if d := os.Getenv("TOKENGUARD_PEERS_CACHE"); d != "" {
		return d, nil
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "tokenguard", "peers"), nil
	}
	if d := os.Getenv("HOME"); d != "" {
		return filepath.Join(d, ".cache", "tokenguard", "peers"), nil
	}
	return "", fmt.Errorf("neither TOKENGUARD_PEERS_CACHE, XDG_CACHE_HOME nor HOME is set")
}

// modVersion is the version go.mod requires module at (cached-build.sh's
// modversion).
func modVersion(t *testing.T, gomod, module string) string {
	t.Helper()
	f, err := os.Open(gomod)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) >= 3 && fields[0] == "require" && fields[1] == module {
			return fields[2]
		}
		if len(fields) >= 2 && fields[0] == module && strings.HasPrefix(fields[1], "v") {
			return fields[1]
		}
	}
	t.Fatalf("%s does not require %s", gomod, module)
	return ""
}

// modHash is cached-build.sh's modhash: the first 12 hex digits of the
// SHA-256 of the modules' go.mod and go.sum, concatenated.
func modHash(t *testing.T, dirs ...string) string {
	t.Helper()
	h := sha256.New()
	for _, d := range dirs {
		for _, f := range []string{"go.mod", "go.sum"} {
			b, err := os.ReadFile(filepath.Join(d, f))
			if err != nil {
				t.Fatal(err)
			}
			h.Write(b)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}
