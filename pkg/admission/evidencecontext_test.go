package admission

import (
	"context"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slok/kubewebhook/v2/pkg/model"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tokenguard/tokenguard/pkg/engine"
	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect"
)

type credsValue struct{}

// ctxEvidence records the credentials value of each lookup's context.
type ctxEvidence struct{ seen []any }

func (e *ctxEvidence) Evidence(ctx context.Context, image string) *policy.Evidence {
	e.seen = append(e.seen, ctx.Value(credsValue{}))
	return sdkdetect.TagEvidence(image)
}

func TestEvidenceContext(t *testing.T) {
	c, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	ev := &ctxEvidence{}
	var gotNS string
	var gotPod *policy.PodSpec
	r := &Reviewer{
		Engine:  engine.New(c, ev, nil),
		Unknown: UnknownAllow,
		Metrics: NewMetrics(prometheus.NewRegistry()),
		EvidenceContext: func(ctx context.Context, namespace string, pod *policy.PodSpec) context.Context {
			gotNS, gotPod = namespace, pod
			return context.WithValue(ctx, credsValue{}, "creds")
		},
	}
	ar := &model.AdmissionReview{
		ID: "1", Namespace: "team", Operation: model.OperationCreate,
		RequestGVK: &metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
		NewObjectRaw: []byte(`{"spec":{"serviceAccountName":"builder","imagePullSecrets":[{"name":"regcred"}],
			"containers":[{"name":"app","image":"registry.example.com/team/app:1.0"}]}}`),
	}
	r.validate(context.Background(), ModeAudit, ar)
	if gotNS != "team" || gotPod == nil || gotPod.ServiceAccountName != "builder" || !slices.Equal(gotPod.ImagePullSecrets, []string{"regcred"}) {
		t.Fatalf("EvidenceContext got namespace %q, pod %+v", gotNS, gotPod)
	}
	if len(ev.seen) != 1 || ev.seen[0] != "creds" {
		t.Errorf("evidence lookups saw %v, want the derived context", ev.seen)
	}
}
