package workload

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientsetscheme "k8s.io/client-go/kubernetes/scheme"
)

// TestKinds holds the table against client-go's scheme and the code that
// cannot read the table (FromObject's type switch): every kind's object,
// resource name and older versions are real, and each reads.
func TestKinds(t *testing.T) {
	scheme := clientsetscheme.Scheme
	seen := map[string]bool{}
	for _, k := range Kinds() {
		t.Run(k.Kind, func(t *testing.T) {
			if seen[k.Kind] {
				t.Fatal("listed twice (KindNamed needs one entry per kind)")
			}
			seen[k.Kind] = true
			gvk := schema.GroupVersionKind{Group: k.Group, Version: k.Version, Kind: k.Kind}
			want, err := scheme.New(gvk)
			if err != nil {
				t.Fatal(err)
			}
			if got := k.newObject(); reflect.TypeOf(got) != reflect.TypeOf(want) {
				t.Errorf("newObject is %T, want %T", got, want)
			}
			if plural, _ := meta.UnsafeGuessKindToResource(gvk); plural.Resource != k.Resource {
				t.Errorf("Resource %q, want %q", k.Resource, plural.Resource)
			}
			if got, ok := LookupKind(k.Group, k.Kind); !ok || got.Kind != k.Kind || !IsWorkloadKind(k.Group, k.Kind) {
				t.Errorf("LookupKind(%q, %q) = %v, %v", k.Group, k.Kind, got.Kind, ok)
			}
			if k.JudgedOnUpdate == (k.Kind == "Pod") {
				t.Errorf("JudgedOnUpdate %v: DESIGN.md judges Pods on CREATE only, the other kinds on UPDATE too", k.JudgedOnUpdate)
			}
			for _, av := range append([]string{k.APIVersion()}, k.OlderAPIVersions...) {
				if isKind, supported := classify(av, k.Kind); !isKind || !supported {
					t.Errorf("classify(%s) = %v, %v", av, isKind, supported)
				}
				gv, err := schema.ParseGroupVersion(av)
				if err != nil {
					t.Fatal(err)
				}
				obj, err := scheme.New(gv.WithKind(k.Kind))
				if err != nil {
					continue // no longer in k8s.io/api (batch/v2alpha1): read as Unstructured
				}
				w, ok, err := FromObject(obj)
				if !ok || err != nil || w.Kind != k.Kind || w.APIVersion != av {
					t.Errorf("FromObject(%T) = %s %s, %v, %v", obj, w.APIVersion, w.Kind, ok, err)
				}
			}
			// The manifest of the kind in testdata/kinds reads as the kind,
			// its pod spec where Spec says.
			res := Read([]string{filepath.Join("testdata", "kinds", strings.ToLower(k.Kind)+".yaml")}, nil)
			if len(res.Errors) > 0 || len(res.Workloads) != 1 || res.Workloads[0].Kind != k.Kind || len(res.Workloads[0].Pod.Containers) == 0 {
				t.Errorf("testdata/kinds: %v %v", describeAll(res.Workloads), errorStrings(res.Errors))
			}
			if w := (Workload{Kind: k.Kind}); w.PodSpecPath() != k.Spec.Path() {
				t.Errorf("PodSpecPath %s, want %s", w.PodSpecPath(), k.Spec.Path())
			}
		})
	}
	entries, err := os.ReadDir(filepath.Join("testdata", "kinds"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(seen) {
		t.Errorf("testdata/kinds has %d files for %d kinds", len(entries), len(seen))
	}
}

func TestLookupKind(t *testing.T) {
	for _, tt := range []struct {
		group, kind string
		ok          bool
	}{
		{"", "Pod", true},
		{"apps", "Deployment", true},
		{"batch", "CronJob", true},
		{"", "Namespace", false},
		{"", "ConfigMap", false},
		{"apps", "Pod", false},
		{"", "Deployment", false},
		{"extensions", "Deployment", false}, // served as apps/v1 (matchPolicy: Equivalent)
		{"argoproj.io", "Rollout", false},
	} {
		if _, ok := LookupKind(tt.group, tt.kind); ok != tt.ok || IsWorkloadKind(tt.group, tt.kind) != tt.ok {
			t.Errorf("LookupKind(%q, %q) ok = %v, want %v", tt.group, tt.kind, ok, tt.ok)
		}
	}
	if k, ok := KindNamed("CronJob"); !ok || k.Group != "batch" || k.Spec != InJobTemplate || k.Restart != RestartRecreate {
		t.Errorf("KindNamed(CronJob) = %+v, %v", k, ok)
	}
	if _, ok := KindNamed("Rollout"); ok {
		t.Error("KindNamed(Rollout) is a kind of the table")
	}
}

func TestClassify(t *testing.T) {
	for _, tt := range []struct {
		apiVersion, kind      string
		isWorkload, supported bool
	}{
		{"apps/v1", "Deployment", true, true},
		{"extensions/v1beta1", "Deployment", true, true},
		{"extensions/v1beta2", "Deployment", true, false},
		{"apps/v1beta1", "DaemonSet", true, false},
		{"extensions/v1beta1", "StatefulSet", false, false},
		{"extensions/v1beta1", "Job", false, false},
		{"batch/v2alpha1", "CronJob", true, true},
		{"batch/v2", "CronJob", true, false},
		{"v2", "Pod", true, false},
		{"apps/v1", "Pod", false, false},
		{"v1", "ConfigMap", false, false},
	} {
		isWorkload, supported := classify(tt.apiVersion, tt.kind)
		if isWorkload != tt.isWorkload || supported != tt.supported {
			t.Errorf("classify(%s, %s) = %v, %v, want %v, %v", tt.apiVersion, tt.kind, isWorkload, supported, tt.isWorkload, tt.supported)
		}
	}
}

func TestKindsIsACopy(t *testing.T) {
	ks := Kinds()
	ks[0].Kind = "Changed"
	if Kinds()[0].Kind == "Changed" {
		t.Error("Kinds returns the table itself")
	}
}
