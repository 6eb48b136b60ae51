package engine

import (
	"context"
	"testing"
	"time"

	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect"
)

func threeContainers() *policy.PodSpec {
	return &policy.PodSpec{Containers: []policy.Container{
		{Name: "aws-node", Image: "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.7.5-eksbuild.1"},
		{Name: "dns", Image: "registry.k8s.io/coredns/coredns:v1.11.1"},
		{Name: "app", Image: "ghcr.io/acme/api:1.4"},
	}}
}

func mustCatalog(t testing.TB) *policy.Catalog {
	c, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEvaluateTagOnly(t *testing.T) {
	e := New(Options{Catalog: mustCatalog(t), Evidence: sdkdetect.TagOnly{}})
	r := e.Evaluate(context.Background(), Subject{Namespace: "ns", Pod: threeContainers()})
	if r.Verdict != policy.VerdictTooOld {
		t.Errorf("verdict %s, want too-old", r.Verdict)
	}
	want := map[string]policy.Verdict{"aws-node": policy.VerdictTooOld, "dns": policy.VerdictOK, "app": policy.VerdictUnknown}
	if len(r.Findings) != len(want) {
		t.Fatalf("%d findings: %+v", len(r.Findings), r.Findings)
	}
	for _, f := range r.Findings {
		if want[f.Container] != f.Verdict {
			t.Errorf("container %s: %s, want %s", f.Container, f.Verdict, want[f.Container])
		}
	}
	// An invalid reference is unknown evidence with the reason, not a failure.
	r = e.Evaluate(context.Background(), Subject{Pod: &policy.PodSpec{Containers: []policy.Container{{Name: "x", Image: "Bad/Image:1"}}}})
	if r.Verdict != policy.VerdictUnknown || len(r.Findings) != 1 || r.Findings[0].Detail == "" {
		t.Fatalf("invalid reference: %+v", r)
	}
}

// recordingSource remembers who pulled.
type recordingSource struct{ pullers []policy.Puller }

func (s *recordingSource) Evidence(_ context.Context, p policy.Puller, image string) *policy.Evidence {
	s.pullers = append(s.pullers, p)
	return sdkdetect.TagEvidence(image)
}

// The evidence source is told, as an argument, who pulls: the subject's
// namespace, service account and pull secrets.
func TestEvaluatePassesPuller(t *testing.T) {
	src := &recordingSource{}
	e := New(Options{Catalog: mustCatalog(t), Evidence: src})
	pod := threeContainers()
	pod.ServiceAccountName, pod.ImagePullSecrets = "builder", []string{"regcred"}
	e.Evaluate(context.Background(), Subject{Namespace: "team-a", Pod: pod})
	if len(src.pullers) != 3 {
		t.Fatalf("%d lookups", len(src.pullers))
	}
	for _, p := range src.pullers {
		if p.Namespace != "team-a" || p.ServiceAccount != "builder" || len(p.PullSecrets) != 1 || p.PullSecrets[0] != "regcred" {
			t.Errorf("puller %+v", p)
		}
	}
}

// BenchmarkEvaluateTagOnly is one admission evaluation without registry
// evidence: parse three references, match, compare (messages are rendered
// only when a decision needs them).
func BenchmarkEvaluateTagOnly(b *testing.B) {
	e := New(Options{Catalog: mustCatalog(b), Evidence: sdkdetect.TagOnly{}})
	s := Subject{Namespace: "ns", Pod: threeContainers()}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		e.Evaluate(ctx, s)
	}
}

// deadlineSource records the deadline of each lookup's context.
type deadlineSource struct{ deadlines []time.Time }

func (s *deadlineSource) Evidence(ctx context.Context, _ policy.Puller, image string) *policy.Evidence {
	d, _ := ctx.Deadline()
	s.deadlines = append(s.deadlines, d)
	return sdkdetect.TagEvidence(image)
}

// One budget per evaluation, shared by all the pod's images (issue #13):
// every lookup sees the same deadline, not one budget each.
func TestEvaluateSharesOneBudget(t *testing.T) {
	src := &deadlineSource{}
	e := New(Options{Catalog: mustCatalog(t), Evidence: src, Budget: time.Hour})
	e.Evaluate(context.Background(), Subject{Pod: threeContainers()})
	if len(src.deadlines) != 3 || src.deadlines[0].IsZero() {
		t.Fatalf("deadlines %v", src.deadlines)
	}
	for _, d := range src.deadlines[1:] {
		if !d.Equal(src.deadlines[0]) {
			t.Errorf("lookups of one pod have different deadlines: %v", src.deadlines)
		}
	}
	src.deadlines = nil
	New(Options{Catalog: mustCatalog(t), Evidence: src}).Evaluate(context.Background(), Subject{Pod: threeContainers()})
	if !src.deadlines[0].IsZero() {
		t.Error("a deadline without a budget")
	}
}
