package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"
)

// StartForTest starts the control plane of opts for a test (WorkDir
// defaults to a temporary directory) and stops it when the test ends. It
// skips the test with -short, and when the binaries cannot be had and
// $TOKENGUARD_E2E_BIN is unset (with it set, a missing binary fails the
// test).
func StartForTest(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver (skipped with -short)")
	}
	if opts.BinDir == "" {
		bin, err := BinDir(opts.Log)
		if err != nil {
			if os.Getenv(EnvBinDir) != "" {
				t.Fatalf("control-plane binaries: %v", err)
			}
			t.Skipf("no control-plane binaries (build them with hack/e2e-binaries.sh, or set $%s): %v", EnvBinDir, err)
		}
		opts.BinDir = bin
	}
	if opts.WorkDir == "" {
		opts.WorkDir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("control plane: %v", err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	return c
}

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// InstallCRD creates the CustomResourceDefinition of manifest (YAML or
// JSON) with strict field validation, and waits until it is established
// and its first version is served (a LIST answers), or ctx ends. A schema
// the API server calls non-structural is an error.
func (c *Cluster) InstallCRD(ctx context.Context, manifest []byte) error {
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	var crd unstructured.Unstructured
	if err := yaml.Unmarshal(manifest, &crd.Object); err != nil {
		return fmt.Errorf("CRD manifest: %w", err)
	}
	if _, err := dyn.Resource(crdResource).Create(ctx, &crd, metav1.CreateOptions{FieldValidation: "Strict"}); err != nil {
		return fmt.Errorf("create CRD %s: %w", crd.GetName(), err)
	}
	plural, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	if len(versions) == 0 {
		return fmt.Errorf("CRD %s has no versions", crd.GetName())
	}
	version, _, _ := unstructured.NestedString(versions[0].(map[string]any), "name")
	res := schema.GroupVersionResource{Group: group, Version: version, Resource: plural}
	for {
		got, err := dyn.Resource(crdResource).Get(ctx, crd.GetName(), metav1.GetOptions{})
		if err != nil {
			return err
		}
		conds, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
		for _, cond := range conds {
			m, _ := cond.(map[string]any)
			if m["type"] == "NonStructuralSchema" {
				return fmt.Errorf("CRD %s: the schema is not structural: %v", crd.GetName(), m["message"])
			}
			// Established: served once discovery catches up; a LIST
			// answers then.
			if m["type"] == "Established" && m["status"] == "True" {
				if _, err := dyn.Resource(res).List(ctx, metav1.ListOptions{Limit: 1}); err == nil {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("CRD %s not established: %v", crd.GetName(), got.Object["status"])
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// ModuleFile reads the file rel of a module the build uses (a CRD shipped
// in a Go module, say) from the module cache, as ReadModuleFile; an error
// fails the test.
func ModuleFile(t testing.TB, module, rel string) []byte {
	t.Helper()
	b, err := ReadModuleFile(module, rel)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ReadModuleFile reads the file rel of a module the build uses from the
// module cache: the version go.mod selects (go list -m).
func ReadModuleFile(module, rel string) ([]byte, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module).Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		if ee, ok := err.(*exec.ExitError); ok {
			err = fmt.Errorf("%w: %s", err, ee.Stderr)
		}
		return nil, fmt.Errorf("go list -m %s: %v (run go mod download)", module, err)
	}
	return os.ReadFile(filepath.Join(dir, rel))
}
