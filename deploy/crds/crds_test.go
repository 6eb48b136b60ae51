package crds

import (
	"reflect"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// TestKustomization: `kubectl apply -k deploy/crds` applies the embedded
// CRDs, unchanged.
func TestKustomization(t *testing.T) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	res, err := k.Run(filesys.MakeFsOnDisk(), ".")
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	if err := yaml.Unmarshal(ImageEvidenceYAML, &want); err != nil {
		t.Fatal(err)
	}
	if n := len(res.Resources()); n != 1 {
		t.Fatalf("%d resources", n)
	}
	got, err := res.Resources()[0].Map()
	if err != nil {
		t.Fatal(err)
	}
	// Compare through JSON types (kustomize's maps hold ints, yaml's float64).
	data, _ := yaml.Marshal(got)
	var norm map[string]any
	if err := yaml.Unmarshal(data, &norm); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(norm, want) {
		t.Errorf("kustomize build differs from the embedded file:\n%s", data)
	}
}
