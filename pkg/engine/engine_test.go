package engine

import (
	"context"
	"testing"

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

func TestJudgeTagOnly(t *testing.T) {
	c, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	e := New(c, sdkdetect.TagOnly{}, nil)
	findings, verdict := e.Judge(context.Background(), threeContainers())
	if verdict != policy.VerdictTooOld {
		t.Errorf("verdict %s, want too-old", verdict)
	}
	want := map[string]policy.Verdict{"aws-node": policy.VerdictTooOld, "dns": policy.VerdictOK, "app": policy.VerdictUnknown}
	if len(findings) != len(want) {
		t.Fatalf("%d findings: %+v", len(findings), findings)
	}
	for _, f := range findings {
		if want[f.Container] != f.Verdict {
			t.Errorf("container %s: %s, want %s", f.Container, f.Verdict, want[f.Container])
		}
	}
	// An invalid reference is unknown evidence with the reason, not a failure.
	findings, verdict = e.Judge(context.Background(), &policy.PodSpec{Containers: []policy.Container{{Name: "x", Image: "Bad/Image:1"}}})
	if verdict != policy.VerdictUnknown || len(findings) != 1 {
		t.Fatalf("invalid reference: %s %+v", verdict, findings)
	}
}

// BenchmarkJudgeTagOnly is one admission decision without registry
// evidence: parse three references, match, compare, build messages.
func BenchmarkJudgeTagOnly(b *testing.B) {
	c, err := policy.DefaultCatalog()
	if err != nil {
		b.Fatal(err)
	}
	e := New(c, sdkdetect.TagOnly{}, nil)
	pod := threeContainers()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		e.Judge(ctx, pod)
	}
}
