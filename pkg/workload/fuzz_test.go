package workload

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func FuzzDecode(f *testing.F) {
	files, err := filepath.Glob("testdata/*.*")
	if err != nil {
		f.Fatal(err)
	}
	more, _ := filepath.Glob("testdata/kinds/*.yaml")
	for _, name := range append(files, more...) {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"---\n---\n",
		"--- {a: 1}\n--- [\n--- |\n  x\n...\n",
		"\xef\xbb\xbf{\"kind\":\"List\",\"apiVersion\":\"v1\",\"items\":[null,1,{\"kind\":\"Pod\"}]}{",
		"apiVersion: v1\nkind: PodList\nitems:\n- spec: {containers: [{image: a}]}\n- kind: List\n  apiVersion: v1\n  items: []\n",
		"a: &a [*a]\n",
		"apiVersion: v1\nkind: Pod\nspec: {containers: [{image: ''}], initContainers: [{}]}\n",
		"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"image\":\"x\"}],\"volumes\":[{\"projected\":{\"sources\":[{\"serviceAccountToken\":{\"expirationSeconds\":1e99}}]}}]}}",
		strings.Repeat("[", 20000),
		strings.Repeat("- ", 5000) + "x\n",
		"apiVersion: batch/v1\nkind: CronJob\nspec:\n  jobTemplate: {spec: {template: {spec: {containers: [{name: c, image: \"i\"}]}}}}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res := Decode("fuzz.yaml", bytes.NewReader(data))
		for _, w := range res.Workloads {
			regular := 0
			for _, c := range w.Pod.Containers {
				if c.Image == "" {
					t.Fatalf("workload %s has a container without image", describe(w))
				}
				if c.Kind == 0 {
					regular++
				}
			}
			if regular == 0 {
				t.Fatalf("workload %s has no containers", describe(w))
			}
			if w.Source != "fuzz.yaml" || w.Document < 1 || w.APIVersion == "" || w.Kind == "" {
				t.Fatalf("workload %+v lacks its origin", w)
			}
		}
		for _, e := range res.Errors {
			if e.Source != "fuzz.yaml" || e.Document < 1 || e.Err == nil {
				t.Fatalf("error %+v lacks source, document or cause", e)
			}
			_ = e.Error()
		}
		for k, n := range res.Skipped {
			if n < 1 || k == "" {
				t.Fatalf("skipped[%q] = %d", k, n)
			}
		}
	})
}

// FuzzFromJSON holds the fast decoder against the typed one: whenever both
// read an object of a kind of the table, they must agree on its pod spec,
// AWS_* environment included. The typed side decodes with encoding/json too,
// so that both match keys alike (case-insensitively).
//
// Both read the input without repeated keys, as the API server writes
// objects: encoding/json decodes a repeated array into the elements the
// first one left, merging them ("env":[{"name":"AWS_X"}],"env":[{}] keeps
// AWS_X), which the fast decoder, reading only AWS_* variables, cannot
// mimic.
func FuzzFromJSON(f *testing.F) {
	for i, o := range awsEnvObjects {
		f.Add(uint8(i), []byte(o))
	}
	f.Add(uint8(0), []byte(podWithPullSecrets))
	f.Add(uint8(2), []byte(deploymentWithPullSecrets))
	fixtures, _ := filepath.Glob("../../test/load/fixtures/*.json")
	for i, name := range fixtures {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		var r struct {
			Request struct{ Object json.RawMessage }
		}
		if json.Unmarshal(data, &r) == nil {
			f.Add(uint8(i), []byte(r.Request.Object))
		}
	}
	f.Add(uint8(0), []byte(`{"spec":{"containers":[{"name":"a","image":"a","env":[{"name":"AWS_X","value":"1"}],"ENV":null,"Env":[{"NAME":"AWS_Y"}]}]}}`))
	table := Kinds()
	f.Fuzz(func(t *testing.T, kind uint8, raw []byte) {
		k := &table[int(kind)%len(table)]
		raw, ok := withoutRepeatedKeys(raw)
		if !ok {
			return
		}
		got, ok, err := FromJSON(k.Group, k.Kind, raw)
		if !ok {
			t.Fatalf("FromJSON(%s) is not a workload", k.Kind)
		}
		obj := k.newObject()
		if json.Unmarshal(raw, obj) != nil || err != nil {
			return // the fast decoder checks less, and more (a template is required)
		}
		want, _, wantErr := FromObject(obj)
		if wantErr != nil {
			t.Fatal(wantErr)
		}
		want.APIVersion = ""
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", k.Kind, dumpPod(got.Pod), dumpPod(want.Pod))
		}
	})
}

// withoutRepeatedKeys re-encodes a JSON document with its object keys in
// lower case, keeping the last of keys repeated even in another case; ok
// is false when it is not JSON. Numbers are kept as written.
func withoutRepeatedKeys(raw []byte) (_ []byte, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil, false
	}
	var lower func(v any) any
	lower = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			m := make(map[string]any, len(v))
			for k, e := range v {
				m[strings.ToLower(k)] = lower(e)
			}
			return m
		case []any:
			for i := range v {
				v[i] = lower(v[i])
			}
		}
		return v
	}
	out, err := json.Marshal(lower(v))
	return out, err == nil
}
