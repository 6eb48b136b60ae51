package workload

import (
	"encoding/json"
	"os"
	"testing"
)

// irsaPod is a pod as the EKS pod identity webhook leaves it: IRSA's
// variables among the container's own, a token volume for them.
const irsaPod = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"api","namespace":"prod"},
 "spec":{"serviceAccountName":"api","containers":[{"name":"api","image":"123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1.4",
  "env":[{"name":"LOG_LEVEL","value":"info"},{"name":"PORT","value":"8080"},{"name":"POD_NAME","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}},
   {"name":"DATABASE_URL","valueFrom":{"secretKeyRef":{"name":"db","key":"url"}}},{"name":"FEATURES","value":"a,b,c"},
   {"name":"AWS_STS_REGIONAL_ENDPOINTS","value":"regional"},{"name":"AWS_DEFAULT_REGION","value":"us-east-1"},{"name":"AWS_REGION","value":"us-east-1"},
   {"name":"AWS_ROLE_ARN","value":"arn:aws:iam::123456789012:role/api"},{"name":"AWS_WEB_IDENTITY_TOKEN_FILE","value":"/var/run/secrets/eks.amazonaws.com/serviceaccount/token"}],
  "volumeMounts":[{"name":"kube-api-access-abcde","mountPath":"/var/run/secrets/kubernetes.io/serviceaccount","readOnly":true},
   {"name":"aws-iam-token","mountPath":"/var/run/secrets/eks.amazonaws.com/serviceaccount","readOnly":true}]},
  {"name":"proxy","image":"envoyproxy/envoy:v1.30.1","env":[{"name":"ENVOY_UID","value":"0"},{"name":"NODE","valueFrom":{"fieldRef":{"fieldPath":"spec.nodeName"}}}]}],
 "volumes":[{"name":"aws-iam-token","projected":{"defaultMode":420,"sources":[{"serviceAccountToken":{"audience":"sts.amazonaws.com","expirationSeconds":86400,"path":"token"}}]}},
  {"name":"kube-api-access-abcde","projected":{"defaultMode":420,"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},
   {"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}}]}}]}}`

// reviewObject returns request.object of an AdmissionReview fixture.
func reviewObject(b *testing.B, path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Skip(err)
	}
	var r struct {
		Request struct{ Object json.RawMessage }
	}
	if err := json.Unmarshal(data, &r); err != nil {
		b.Fatal(err)
	}
	return r.Request.Object
}

// BenchmarkFromJSON is the fast decoder on the admission path: the load
// test's three-container pod (two AWS_ variables among others) and
// Deployment (no AWS_ variable), and an IRSA pod.
func BenchmarkFromJSON(b *testing.B) {
	for _, bb := range []struct {
		name, group, kind string
		raw               []byte
	}{
		{"pod-3c", "", "Pod", reviewObject(b, "../../test/load/fixtures/pod-3c-allowed.json")},
		{"deployment", "apps", "Deployment", reviewObject(b, "../../test/load/fixtures/deployment-allowed.json")},
		{"irsa-pod", "", "Pod", []byte(irsaPod)},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.raw)))
			for b.Loop() {
				if _, ok, err := FromJSON(bb.group, bb.kind, bb.raw); !ok || err != nil {
					b.Fatal(ok, err)
				}
			}
		})
	}
}
