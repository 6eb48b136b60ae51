package workload

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	clientsetscheme "k8s.io/client-go/kubernetes/scheme"

	"github.com/tokenguard/tokenguard/pkg/policy"
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
	for _, o := range awsEnvObjects {
		objects = append(objects, []byte(o))
	}
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
	if compared < 18+len(awsEnvObjects) {
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

// awsEnvObjects are pods whose env the fast decoder must read as the typed
// decode does: its "AWS_ check skipped, taken, and fooled by an escape.
var awsEnvObjects = []string{
	irsaPod,
	// EKS Pod Identity, in init, regular and ephemeral containers; a
	// value from a source; names that only look like AWS_ ones.
	`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{
	 "initContainers":[{"name":"i","image":"i:1","env":[{"name":"AWS_REGION","valueFrom":{"configMapKeyRef":{"name":"aws","key":"region"}}}]}],
	 "containers":[{"name":"c","image":"c:1","env":[{"name":"AWS","value":"x"},{"name":"aws_region","value":"x"},{"name":"MY_AWS_ROLE","value":"x"},
	  {"name":"AWS_CONTAINER_CREDENTIALS_FULL_URI","value":"http://169.254.170.23/v1/credentials"},
	  {"name":"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE","value":"/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"}]}],
	 "ephemeralContainers":[{"name":"e","image":"e:1","env":[{"name":"AWS_PROFILE","value":"debug"}]}]}}`,
	// A name spelt with an escape; a value that looks like a name; null
	// and empty envs.
	`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[
	 {"name":"a","image":"a:1","env":[{"name":"AWS\u005fROLE_ARN","value":"arn"}]},
	 {"name":"x","image":"x:1","env":[{"name":"X","value":"\"AWS_"}]},
	 {"name":"b","image":"b:1","env":[{"name":"Y","value":"\"AWS_ROLE_ARN"}]},
	 {"name":"c","image":"c:1","env":null},{"name":"d","image":"d:1","env":[]},
	 {"name":"e","image":"e:1","env":[{"name":"AWS_ROLE_ARN","value":null},{"value":"v","name":"AWS_REGION"}]}]}}`,
	// Plain and escaped names and values mixed: the plain ones share a
	// string, in order.
	`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"a","image":"a:1","env":[
	 {"name":"AWS\u005fA","value":"v1"},{"name":"AWS_B","value":"x\"y"},{"name":"\u0041B","value":"zz"},
	 {"name":"AWS_C","value":"w"},{"name":"AWS_D"},{"name":"AWS_E","value":"\u00e9t\u00e9"},{"name":"AWS_F","value":"été"}]}]}}`,
	// A CronJob with IRSA's variables.
	`{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"c"},"spec":{"schedule":"@daily","jobTemplate":{"spec":{"template":{"spec":{
	 "restartPolicy":"Never","containers":[{"name":"c","image":"c:1","env":[{"name":"AWS_ROLE_ARN","value":"arn:aws:iam::1:role/r"},
	 {"name":"AWS_WEB_IDENTITY_TOKEN_FILE","value":"/var/run/secrets/eks.amazonaws.com/serviceaccount/token"}]}]}}}}}}`,
}

func TestFromJSONAWSEnv(t *testing.T) {
	for i, tt := range []struct {
		raw  string
		want map[string][]policy.EnvVar // by container
	}{
		{awsEnvObjects[1], map[string][]policy.EnvVar{
			"i": {{Name: "AWS_REGION"}},
			"c": {{Name: "AWS_CONTAINER_CREDENTIALS_FULL_URI", Value: "http://169.254.170.23/v1/credentials"},
				{Name: "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", Value: "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"}},
			"e": {{Name: "AWS_PROFILE", Value: "debug"}},
		}},
		{awsEnvObjects[2], map[string][]policy.EnvVar{
			"a": {{Name: "AWS_ROLE_ARN", Value: "arn"}},
			"e": {{Name: "AWS_ROLE_ARN"}, {Name: "AWS_REGION", Value: "v"}},
		}},
		{awsEnvObjects[3], map[string][]policy.EnvVar{
			"a": {{Name: "AWS_A", Value: "v1"}, {Name: "AWS_B", Value: `x"y`}, {Name: "AWS_C", Value: "w"}, {Name: "AWS_D"},
				{Name: "AWS_E", Value: "été"}, {Name: "AWS_F", Value: "été"}},
		}},
		// The last "env" wins, as in the typed decode.
		{`{"spec":{"containers":[{"name":"a","image":"a:1","env":[{"name":"AWS_REGION","value":"x"}],"env":null},
		  {"name":"b","image":"b:1","env":[{"name":"AWS_REGION","value":"x"}],"env":[{"name":"AWS_REGION","value":"y"}]}]}}`,
			map[string][]policy.EnvVar{"b": {{Name: "AWS_REGION", Value: "y"}}}},
	} {
		w, ok, err := FromJSON("", "Pod", []byte(tt.raw))
		if !ok || err != nil {
			t.Fatalf("%d: ok %v err %v", i, ok, err)
		}
		for _, c := range w.Pod.Containers {
			if !reflect.DeepEqual(c.Env, tt.want[c.Name]) {
				t.Errorf("%d: container %s: Env = %+v, want %+v", i, c.Name, c.Env, tt.want[c.Name])
			}
		}
	}
	for _, raw := range []string{
		`{"spec":{"containers":[{"name":"a","image":"a:1","env":"AWS_"}]}}`,
		`{"spec":{"containers":[{"name":"a","image":"a:1","env":[{"name":"AWS_X","value":1}]}]}}`,
		`{"spec":{"containers":[{"name":"a","image":"a:1","env":{"name":"AWS_X"}}]}}`,
	} {
		if _, _, err := FromJSON("", "Pod", []byte(raw)); err == nil {
			t.Errorf("%s: no error", raw)
		}
	}
}

// TestScanEnvAgreesWithEncodingJSON: the escape-free env scanner cuts out
// the same names and values as encoding/json, or declines.
func TestScanEnvAgreesWithEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`[]`, ` [ ] `,
		`[{"name":"AWS_REGION","value":"us-west-2"}]`,
		`[{"NAME":"AWS_REGION","Value":"eu"},{"name":"X","valueFrom":{"fieldRef":{"fieldPath":"spec.nodeName"}}}]`,
		`[{"name":"AWS_A","value":"1","name":"AWS_B"}]`,
		`[{"value":"v}]{[","name":"AWS_ROLE_ARN"}, {"name": "AWS_X" , "value" : null }]`,
		`[{"name":"AWS_N","value":12,"extra":[1,{"a":"]"}],"t":true}]`,
		`[{}, {"name":"AWS_ONLY"}]`,
		`[null]`, `[1]`,
	} {
		var want []envEntry
		wantErr := json.Unmarshal([]byte(in), &want)
		got, ok := scanEnv([]byte(in), nil)
		if !ok {
			continue // declined: encoding/json decides
		}
		if wantErr != nil {
			t.Errorf("%s: scanned, but encoding/json says %v", in, wantErr)
			continue
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d entries, encoding/json %d", in, len(got), len(want))
			continue
		}
		for i := range got {
			if string(got[i].Name) != string(want[i].Name) || string(got[i].Value) != string(want[i].Value) {
				t.Errorf("%s: entry %d = %q %q, encoding/json %q %q", in, i, got[i].Name, got[i].Value, want[i].Name, want[i].Value)
			}
		}
	}
}
