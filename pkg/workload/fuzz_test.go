package workload

import (
	"bytes"
	"os"
	"path/filepath"
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
