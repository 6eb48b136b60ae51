package workload

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	clientsetscheme "k8s.io/client-go/kubernetes/scheme"
)

// TestFromJSONAgreesWithFromObject decodes every admission fixture and
// every workload manifest of testdata both ways: the fast decoder must give
// exactly what the typed decode gives.
func TestFromJSONAgreesWithFromObject(t *testing.T) {
	decoder := clientsetscheme.Codecs.UniversalDeserializer()
	var objects [][]byte
	reviews, _ := filepath.Glob("../../test/testdata/admission/requests/*.json")
	loads, _ := filepath.Glob("../../test/load/fixtures/*.json")
	reviews = append(reviews, loads...)
	for _, f := range reviews {
		var r struct {
			Request struct {
				Object, OldObject json.RawMessage
			}
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &r); err != nil {
			t.Fatal(err)
		}
		for _, o := range []json.RawMessage{r.Request.Object, r.Request.OldObject} {
			if len(o) > 0 && string(o) != "null" {
				objects = append(objects, o)
			}
		}
	}
	if len(objects) < 20 {
		t.Fatalf("only %d objects", len(objects))
	}
	objects = append(objects, []byte(podWithPullSecrets), []byte(deploymentWithPullSecrets))
	compared := 0
	for i, raw := range objects {
		obj, gvk, err := decoder.Decode(raw, nil, nil)
		if err != nil {
			continue // the undecodable fixture
		}
		want, wantOK, wantErr := FromObject(obj)
		got, ok, err := FromJSON(gvk.Group, gvk.Kind, raw)
		if ok != wantOK || (err == nil) != (wantErr == nil) {
			t.Errorf("object %d (%s): ok %v/%v err %v/%v", i, gvk.Kind, ok, wantOK, err, wantErr)
			continue
		}
		if !ok {
			continue
		}
		want.APIVersion = ""
		if !reflect.DeepEqual(got, want) {
			t.Errorf("object %d (%s):\n got %+v\nwant %+v", i, gvk.Kind, got, want)
		}
		compared++
	}
	if compared < 18 {
		t.Errorf("compared only %d workloads", compared)
	}
}

func TestFromJSONErrors(t *testing.T) {
	for _, tt := range []struct {
		group, kind, raw, want string
		ok                     bool
	}{
		{"", "ConfigMap", `{}`, "", false},
		{"apps", "Deployment", `{"spec":{}}`, "has no spec.template", true},
		{"batch", "CronJob", `{"spec":{"template":{}}}`, "has no spec.jobTemplate", true},
		{"", "Pod", `{"spec":{"containers":"x"}}`, "decoding Pod", true},
		{"", "Pod", `not json`, "decoding Pod", true},
	} {
		_, ok, err := FromJSON(tt.group, tt.kind, []byte(tt.raw))
		if ok != tt.ok || (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s %s: ok %v err %v", tt.kind, tt.raw, ok, err)
		}
	}
}

const podWithPullSecrets = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"team"},
 "spec":{"serviceAccountName":"builder","imagePullSecrets":[{"name":"regcred"},{"name":"ecr"}],
  "containers":[{"name":"app","image":"registry.example.com/team/app:1.0"}]}}`

const deploymentWithPullSecrets = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},
 "spec":{"selector":{},"template":{"spec":{"imagePullSecrets":[{"name":"regcred"}],
  "containers":[{"name":"app","image":"registry.example.com/team/app:1.0"}]}}}}`

func TestFromJSONImagePullSecrets(t *testing.T) {
	for _, tt := range []struct {
		group, kind, raw string
		want             []string
	}{
		{"", "Pod", podWithPullSecrets, []string{"regcred", "ecr"}},
		{"apps", "Deployment", deploymentWithPullSecrets, []string{"regcred"}},
		{"", "Pod", `{"spec":{"containers":[{"name":"a","image":"x"}]}}`, nil},
	} {
		w, ok, err := FromJSON(tt.group, tt.kind, []byte(tt.raw))
		if err != nil || !ok {
			t.Fatalf("%s: ok %v err %v", tt.kind, ok, err)
		}
		if !reflect.DeepEqual(w.Pod.ImagePullSecrets, tt.want) {
			t.Errorf("%s: ImagePullSecrets = %q, want %q", tt.kind, w.Pod.ImagePullSecrets, tt.want)
		}
	}
}
