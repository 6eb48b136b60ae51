package workload

import (
	"bytes"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

const awsManifests = `apiVersion: apps/v1
kind: Deployment
metadata: {name: reports, namespace: shop, annotations: {eks.amazonaws.com/token-expiration: "1"}}
spec:
  template:
    metadata: {annotations: {eks.amazonaws.com/token-expiration: "8640000", eks.amazonaws.com/skip-containers: "sidecar,init", other: x}}
    spec:
      serviceAccountName: reports
      containers: [{name: app, image: ghcr.io/acme/reports:1}]
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: reports
  namespace: shop
  annotations: {eks.amazonaws.com/role-arn: "arn:aws:iam::111122223333:role/reports"}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: shop}
spec:
  schedule: "@daily"
  jobTemplate:
    spec:
      template:
        metadata: {annotations: {eks.amazonaws.com/token-expiration: "7200"}}
        spec:
          restartPolicy: Never
          containers: [{name: job, image: ghcr.io/acme/job:1}]
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: shop, annotations: {eks.amazonaws.com/token-expiration: "3600"}}
spec:
  containers: [{name: c, image: ghcr.io/acme/c:1}]
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: broken, annotations: [1]}
`

// TestAWSFromManifests: the pod (template) token-expiration annotation
// reaches PodSpec.AWS through both decoders, the object's own annotations
// do not, and ServiceAccounts go to their visitor, a malformed one to
// Error.
func TestAWSFromManifests(t *testing.T) {
	var sas []ServiceAccount
	var ws []Workload
	var errs []*DocError
	err := Walk([]string{"-"}, strings.NewReader(awsManifests), Visitor{
		Workload:       func(w Workload) error { ws = append(ws, w); return nil },
		ServiceAccount: func(sa ServiceAccount) { sas = append(sas, sa) },
		Error:          func(e *DocError) error { errs = append(errs, e); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sas) != 1 || sas[0].Name != "reports" || sas[0].Namespace != "shop" || sas[0].Annotations["eks.amazonaws.com/role-arn"] == "" || sas[0].Document != 2 {
		t.Errorf("service accounts %+v", sas)
	}
	if len(errs) != 1 || errs[0].Document != 5 {
		t.Errorf("errors %v, want one for document 5 (annotations is not a map)", errs)
	}
	want := map[string]policy.AWSContext{
		"reports": {TokenExpiration: "8640000", TokenExpirationFrom: "pod template", SkipContainers: "sidecar,init"},
		"nightly": {TokenExpiration: "7200", TokenExpirationFrom: "pod template"},
		"p":       {TokenExpiration: "3600", TokenExpirationFrom: "pod"},
	}
	if len(ws) != len(want) {
		t.Fatalf("%d workloads, want %d", len(ws), len(want))
	}
	for _, w := range ws {
		if w.Pod.AWS != want[w.Name] {
			t.Errorf("%s %s: AWS %+v, want %+v", w.Kind, w.Name, w.Pod.AWS, want[w.Name])
		}
		group, _ := splitAPIVersion(w.APIVersion)
		raw := jsonOf(t, awsManifests, w.Document)
		fj, ok, err := FromJSON(group, w.Kind, raw)
		if !ok || err != nil || fj.Pod.AWS != w.Pod.AWS {
			t.Errorf("%s %s: FromJSON AWS %+v (%v, %v), FromObject %+v", w.Kind, w.Name, fj.Pod.AWS, ok, err, w.Pod.AWS)
		}
	}
	// Without a ServiceAccount visitor they are skipped kinds, as before.
	var skipped []string
	_ = Walk([]string{"-"}, strings.NewReader(awsManifests), Visitor{Skipped: func(k string) { skipped = append(skipped, k) }, Workload: func(Workload) error { return nil }})
	if len(skipped) != 2 || skipped[0] != "ServiceAccount" {
		t.Errorf("skipped %v, want the two ServiceAccounts", skipped)
	}
}

// jsonOf returns document n (1-based) of a YAML stream as JSON.
func jsonOf(t *testing.T, stream string, n int) []byte {
	t.Helper()
	docs := strings.Split(stream, "\n---\n")
	b, err := yaml.YAMLToJSON([]byte(docs[n-1]))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPodAnnotationsExact: the fast decoder matches annotation keys
// exactly, as the typed decode's map does (the IRSA webhook reads them so),
// escapes included.
func TestPodAnnotationsExact(t *testing.T) {
	for _, tc := range []struct {
		annotations string
		want        string
	}{
		{`{"eks.amazonaws.com/token-expiration": "8640000"}`, "8640000"},
		{`{"EKS.amazonaws.com/token-expiration": "8640000"}`, ""},
		{`{"eks.amazonaws.com\/token-expiration": "8640000"}`, "8640000"},
		{`{"\u0065ks.amazonaws.com/token-expiration": "8640000"}`, "8640000"},
		{`{"kubectl.kubernetes.io/last-applied-configuration": "{\"a\":\"b\\n\"}"}`, ""},
		{`null`, ""},
	} {
		raw := []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","annotations":` + tc.annotations + `},"spec":{"containers":[{"name":"c","image":"i"}]}}`)
		fj, _, err := FromJSON("", "Pod", raw)
		if err != nil {
			t.Fatalf("%s: %v", tc.annotations, err)
		}
		var typed []Workload
		_ = Walk([]string{"-"}, bytes.NewReader(raw), Visitor{Workload: func(w Workload) error { typed = append(typed, w); return nil }})
		if len(typed) != 1 {
			t.Fatalf("%s: typed decode gave %d workloads", tc.annotations, len(typed))
		}
		if fj.Pod.AWS.TokenExpiration != tc.want || typed[0].Pod.AWS.TokenExpiration != tc.want {
			t.Errorf("%s: fast %q, typed %q, want %q", tc.annotations, fj.Pod.AWS.TokenExpiration, typed[0].Pod.AWS.TokenExpiration, tc.want)
		}
	}
	for _, bad := range []string{`[]`, `"x"`, `{"eks.amazonaws.com/token-expiration": 5}`} {
		raw := []byte(`{"metadata":{"annotations":` + bad + `},"spec":{"containers":[{"name":"c","image":"i"}]}}`)
		if _, _, err := FromJSON("", "Pod", raw); err == nil {
			t.Errorf("annotations %s: no error", bad)
		}
	}
}
