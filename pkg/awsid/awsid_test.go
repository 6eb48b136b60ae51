package awsid

import (
	"strings"
	"testing"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// listOutput is what `aws eks list-pod-identity-associations --cluster-name
// prod` prints (AWS CLI v2, JSON output).
const listOutput = `{
    "associations": [
        {
            "clusterName": "prod",
            "namespace": "shop",
            "serviceAccount": "uploader",
            "associationArn": "arn:aws:eks:us-west-2:111122223333:podidentityassociation/prod/a-abcdefghijklmnop1",
            "associationId": "a-abcdefghijklmnop1"
        },
        {
            "clusterName": "prod",
            "namespace": "default",
            "serviceAccount": "default",
            "associationArn": "arn:aws:eks:us-west-2:111122223333:podidentityassociation/prod/a-abcdefghijklmnop2",
            "associationId": "a-abcdefghijklmnop2"
        }
    ]
}`

func TestReadAssociations(t *testing.T) {
	var d Directory
	n, err := d.ReadAssociations(strings.NewReader(listOutput + "\n" + `{"association": {"namespace": "batch", "serviceAccount": "etl"}}` + "\n" + `[{"namespace": "ops", "serviceAccount": "backup"}]`))
	if err != nil || n != 4 {
		t.Fatalf("read %d, %v; want 4", n, err)
	}
	for _, tc := range []struct {
		ns, sa string
		want   policy.AWSMechanism
	}{
		{"shop", "uploader", policy.AWSPodIdentity},
		{"default", "", policy.AWSPodIdentity}, // "" runs as default
		{"", "default", policy.AWSPodIdentity}, // a manifest without namespace lands in default
		{"batch", "etl", policy.AWSPodIdentity},
		{"ops", "backup", policy.AWSPodIdentity},
		{"shop", "other", 0},
		{"other", "uploader", 0},
	} {
		if got := d.AWSContext(tc.ns, tc.sa).Mechanisms; got != tc.want {
			t.Errorf("AWSContext(%q, %q) = %v, want %v", tc.ns, tc.sa, got, tc.want)
		}
	}
}

func TestReadAssociationsErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "no JSON document"},
		{"{", "document 1"},
		{`{"clusters": []}`, `no "associations" field`},
		{`{"associations": {"namespace": "a"}}`, "expected"},
		{`{"associations": [{"namespace": "a"}]}`, "associations[0]: namespace and serviceAccount are required"},
		{listOutput + "\nnot json", "document 2"},
	} {
		var d Directory
		_, err := d.ReadAssociations(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.40q: error %v, want one containing %q", tc.in, err, tc.want)
		}
	}
	// A document that does not parse adds nothing.
	var d Directory
	_, _ = d.ReadAssociations(strings.NewReader(`{"associations": [{"namespace": "a", "serviceAccount": "b"}, {"namespace": "c"}]}`))
	if d.Len() != 0 {
		t.Errorf("%d service accounts recorded from a rejected document", d.Len())
	}
}

func TestServiceAccountsAndMerge(t *testing.T) {
	var d Directory
	d.AddServiceAccount("shop", "reports", map[string]string{AnnotationRoleARN: "arn:aws:iam::111122223333:role/reports", AnnotationTokenExpiration: "8640000"})
	d.AddServiceAccount("shop", "plain", map[string]string{"other": "x"})
	d.AddPodIdentityAssociation("shop", "reports")
	got := d.AWSContext("shop", "reports")
	if got.Mechanisms != policy.AWSIRSA|policy.AWSPodIdentity || got.TokenExpiration != "8640000" || got.TokenExpirationFrom != `service account "reports"` {
		t.Errorf("AWSContext = %+v", got)
	}
	if d.Len() != 1 {
		t.Errorf("%d service accounts recorded, want 1 (no AWS annotation, nothing to record)", d.Len())
	}
	pod := policy.AWSContext{TokenExpiration: "3600", TokenExpirationFrom: "pod template"}
	m := Merge(pod, got)
	if m.Mechanisms != got.Mechanisms || m.TokenExpiration != "3600" || m.TokenExpirationFrom != "pod template" {
		t.Errorf("Merge: %+v; the pod's annotation overrides the service account's, mechanisms add up", m)
	}
	if c := FromServiceAccount("", map[string]string{AnnotationRoleARN: " "}); c != (policy.AWSContext{}) {
		t.Errorf("a blank role-arn is no IRSA: %+v", c)
	}
}
