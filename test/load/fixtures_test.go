package load

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestFixtures decodes every fixture as the floor server does (encoding/json,
// AdmissionReview first, then request.object into its typed kind), strictly,
// and checks that each looks like what kube-apiserver sends a validating
// webhook on CREATE: compact JSON in Go field order, a distinct request uid,
// dryRun false, CreateOptions, kind/resource/requestKind/requestResource.
// The Pod fixtures are also checked against Pod Security "restricted": the
// allowed one must pass it (the PSA peer allows it), the denied one not.
// hack/gen-admission-fixtures.py writes them.
func TestFixtures(t *testing.T) {
	tests := []struct {
		file       string
		kind       metav1.GroupVersionKind
		resource   string
		images     []string
		minSize    int // bytes on the wire (the file is sent as is)
		maxSize    int
		restricted bool // Pods: meets Pod Security "restricted"
	}{
		{
			file:     "pod-3c-allowed.json",
			kind:     metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
			resource: "pods",
			images: []string{
				"602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.18.3-eksbuild.1",
				"registry.k8s.io/coredns/coredns:v1.11.1",
				"public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.2.20241008",
			},
			minSize: 4400 * 8 / 10, maxSize: 4400 * 12 / 10, // ~4.4 KB ±20%
			restricted: true,
		},
		{
			file:     "pod-3c-denied.json",
			kind:     metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
			resource: "pods",
			images: []string{
				"602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.7.5-eksbuild.1",
				"registry.k8s.io/coredns/coredns:v1.11.1",
				"public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.2.20241008",
			},
			minSize: 4400 * 8 / 10, maxSize: 4400 * 12 / 10,
		},
		{
			file:     "deployment-allowed.json",
			kind:     metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"},
			resource: "deployments",
			images:   []string{"registry.k8s.io/coredns/coredns:v1.11.1", "ghcr.io/stakater/reloader:v1.0.121"},
			minSize:  2000, maxSize: 6000,
		},
		{
			file:     "deployment-denied.json",
			kind:     metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"},
			resource: "deployments",
			images:   []string{"602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.8.3-eksbuild.1", "ghcr.io/stakater/reloader:v1.0.121"},
			minSize:  2000, maxSize: 6000,
		},
	}
	uids := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("fixtures", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if n := len(body); n < tt.minSize || n > tt.maxSize {
				t.Errorf("size %d bytes, want %d..%d", n, tt.minSize, tt.maxSize)
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, body); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(compact.Bytes(), bytes.TrimSpace(body)) {
				t.Errorf("not compact JSON: the fixture must be the bytes kube-apiserver sends")
			}

			var review admissionv1.AdmissionReview
			strict(t, body, &review)
			if again, err := json.Marshal(&review); err != nil {
				t.Fatal(err)
			} else if i := firstDiff(bytes.TrimSpace(body), again); i >= 0 {
				t.Errorf("review is not in the API server's encoding at byte %d:\n got …%s…\nwant …%s…",
					i, window(body, i), window(again, i))
			}
			if review.APIVersion != "admission.k8s.io/v1" || review.Kind != "AdmissionReview" {
				t.Errorf("apiVersion/kind = %q/%q", review.APIVersion, review.Kind)
			}
			req := review.Request
			if req == nil {
				t.Fatal("no request")
			}
			if req.UID == "" {
				t.Error("empty request uid")
			} else if other, dup := uids[string(req.UID)]; dup {
				t.Errorf("request uid %s also used by %s", req.UID, other)
			}
			uids[string(req.UID)] = tt.file
			if req.Operation != admissionv1.Create {
				t.Errorf("operation %q", req.Operation)
			}
			if req.Kind != tt.kind || req.RequestKind == nil || *req.RequestKind != tt.kind {
				t.Errorf("kind %v, requestKind %v, want %v", req.Kind, req.RequestKind, tt.kind)
			}
			wantRes := metav1.GroupVersionResource{Group: tt.kind.Group, Version: tt.kind.Version, Resource: tt.resource}
			if req.Resource != wantRes || req.RequestResource == nil || *req.RequestResource != wantRes {
				t.Errorf("resource %v, requestResource %v, want %v", req.Resource, req.RequestResource, wantRes)
			}
			if req.DryRun == nil || *req.DryRun {
				t.Errorf("dryRun = %v, want explicit false", req.DryRun)
			}
			if !bytes.Contains(req.Options.Raw, []byte(`"kind":"CreateOptions"`)) {
				t.Errorf("options = %s, want CreateOptions", req.Options.Raw)
			}
			if req.OldObject.Raw != nil {
				t.Errorf("oldObject on CREATE: %s", req.OldObject.Raw)
			}

			var spec *corev1.PodSpec
			var typed any
			switch tt.kind.Kind {
			case "Pod":
				pod := new(corev1.Pod)
				strict(t, req.Object.Raw, pod)
				spec, typed = &pod.Spec, pod
				if pod.UID == "" || pod.Name == "" || pod.CreationTimestamp.IsZero() {
					t.Error("object lacks the uid/name/creationTimestamp set before validating admission")
				}
				checkTokenVolume(t, spec)
				checkRestricted(t, spec, tt.restricted)
			case "Deployment":
				d := new(appsv1.Deployment)
				strict(t, req.Object.Raw, d)
				spec, typed = &d.Spec.Template.Spec, d
			}
			var images []string
			for _, c := range spec.Containers {
				images = append(images, c.Image)
			}
			if !slices.Equal(images, tt.images) {
				t.Errorf("images %q, want %q", images, tt.images)
			}
			// Re-encoding the typed object must give the fixture's bytes back:
			// field order, defaults and formats are those of the Go types
			// kube-apiserver encodes from.
			again, err := json.Marshal(typed)
			if err != nil {
				t.Fatal(err)
			}
			if i := firstDiff(req.Object.Raw, again); i >= 0 {
				t.Errorf("object is not in the API server's encoding at byte %d:\n got …%s…\nwant …%s…",
					i, window(req.Object.Raw, i), window(again, i))
			}
		})
	}
}

// checkTokenVolume checks the kube-api-access-xxxxx volume that the
// ServiceAccount admission plugin adds to every pod.
func checkTokenVolume(t *testing.T, spec *corev1.PodSpec) {
	t.Helper()
	for _, v := range spec.Volumes {
		if v.Projected == nil || len(v.Projected.Sources) != 3 {
			continue
		}
		s := v.Projected.Sources
		if s[0].ServiceAccountToken == nil || s[0].ServiceAccountToken.ExpirationSeconds == nil ||
			*s[0].ServiceAccountToken.ExpirationSeconds != 3607 ||
			s[1].ConfigMap == nil || s[1].ConfigMap.Name != "kube-root-ca.crt" ||
			s[2].DownwardAPI == nil {
			t.Errorf("volume %s is not the kube-api-access projection: %+v", v.Name, s)
		}
		for _, c := range spec.Containers {
			if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool {
				return m.Name == v.Name && m.MountPath == "/var/run/secrets/kubernetes.io/serviceaccount"
			}) {
				t.Errorf("container %s does not mount %s", c.Name, v.Name)
			}
		}
		return
	}
	t.Error("no kube-api-access projected volume")
}

// checkRestricted checks a pod spec against the Pod Security Standards
// "restricted" profile as the PSA webhook applies it to a Pod (latest
// version; the checks the fixtures' fields can fail): no host namespaces or
// ports, only the allowed volume types (no hostPath), nothing privileged, no
// privilege escalation, runAsNonRoot true and no UID 0, seccomp
// RuntimeDefault or Localhost, all capabilities dropped and at most
// NET_BIND_SERVICE added. want: whether the spec must pass or fail.
func checkRestricted(t *testing.T, spec *corev1.PodSpec, want bool) {
	t.Helper()
	var bad []string
	fail := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		fail("host namespaces")
	}
	for _, v := range spec.Volumes {
		if s := v.VolumeSource; s.ConfigMap == nil && s.CSI == nil && s.DownwardAPI == nil && s.EmptyDir == nil &&
			s.Ephemeral == nil && s.PersistentVolumeClaim == nil && s.Projected == nil && s.Secret == nil {
			fail("volume %s: a type restricted does not allow (hostPath, ...)", v.Name)
		}
	}
	psc := spec.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	if psc.RunAsUser != nil && *psc.RunAsUser == 0 {
		fail("pod runAsUser 0")
	}
	seccompOK := func(p *corev1.SeccompProfile) bool {
		return p != nil && (p.Type == corev1.SeccompProfileTypeRuntimeDefault || p.Type == corev1.SeccompProfileTypeLocalhost)
	}
	for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
		sc := c.SecurityContext
		if sc == nil {
			sc = &corev1.SecurityContext{}
		}
		if sc.Privileged != nil && *sc.Privileged {
			fail("container %s privileged", c.Name)
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			fail("container %s: allowPrivilegeEscalation is not false", c.Name)
		}
		if nonRoot := sc.RunAsNonRoot; nonRoot != nil && !*nonRoot || nonRoot == nil && (psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot) {
			fail("container %s: runAsNonRoot is not true", c.Name)
		}
		if sc.RunAsUser != nil && *sc.RunAsUser == 0 {
			fail("container %s: runAsUser 0", c.Name)
		}
		if p := sc.SeccompProfile; p != nil && !seccompOK(p) || p == nil && !seccompOK(psc.SeccompProfile) {
			fail("container %s: seccompProfile is not RuntimeDefault or Localhost", c.Name)
		}
		if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
			fail("container %s: capabilities do not drop ALL", c.Name)
		}
		if sc.Capabilities != nil {
			for _, add := range sc.Capabilities.Add {
				if add != "NET_BIND_SERVICE" {
					fail("container %s adds capability %s", c.Name, add)
				}
			}
		}
		for _, p := range c.Ports {
			if p.HostPort != 0 {
				fail("container %s: hostPort %d", c.Name, p.HostPort)
			}
		}
	}
	switch {
	case want && len(bad) > 0:
		t.Errorf("not Pod Security restricted, the PSA peer would deny it: %s", strings.Join(bad, "; "))
	case !want && len(bad) == 0:
		t.Error("meets Pod Security restricted, the PSA peer would allow it; want it denied")
	}
}

// strict decodes with encoding/json, unknown fields being errors, so that a
// misspelt field in a fixture fails here instead of being ignored.
func strict(t *testing.T, data []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %T: %v", v, err)
	}
}

// firstDiff returns the offset of the first byte where a and b differ, or -1.
func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

func window(b []byte, i int) []byte {
	return b[max(0, i-40):min(len(b), i+40)]
}
