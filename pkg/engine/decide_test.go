package engine

import (
	"context"
	"testing"

	"github.com/tokenguard/tokenguard/pkg/config"
	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect"
)

func finding(container string, v policy.Verdict) policy.Finding {
	return policy.Finding{Container: container, Component: "c-" + container, Verdict: v}
}

func names(fs []*policy.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Container)
	}
	return out
}

func TestDecide(t *testing.T) {
	tooOld, unknown, ok := finding("old", policy.VerdictTooOld), finding("unk", policy.VerdictUnknown), finding("ok", policy.VerdictOK)
	exempt := finding("exempt", policy.VerdictTooOld)
	exempt.Exempt = "namespace legacy is exempt"
	advisory := finding("adv", policy.VerdictTooOld)
	advisory.Advisory = "sources disagree"
	tests := []struct {
		name     string
		mode     Mode
		unknown  UnknownAction
		findings []policy.Finding
		allowed  bool
		deny     []string
		warn     []string
		verdict  policy.Verdict
	}{
		{"enforce denies too-old", ModeEnforce, config.UnknownAllow, []policy.Finding{ok, tooOld, unknown}, false, []string{"old"}, nil, policy.VerdictTooOld},
		{"enforce with unknown warn denies, no warnings", ModeEnforce, config.UnknownWarn, []policy.Finding{tooOld, unknown}, false, []string{"old"}, nil, policy.VerdictTooOld},
		{"enforce warns unknown", ModeEnforce, config.UnknownWarn, []policy.Finding{ok, unknown}, true, nil, []string{"unk"}, policy.VerdictUnknown},
		{"enforce denies unknown when told", ModeEnforce, config.UnknownDeny, []policy.Finding{ok, unknown}, false, []string{"unk"}, nil, policy.VerdictUnknown},
		{"enforce allows unknown by default", ModeEnforce, config.UnknownAllow, []policy.Finding{unknown}, true, nil, nil, policy.VerdictUnknown},
		{"warn warns violations then unknowns", ModeWarn, config.UnknownWarn, []policy.Finding{unknown, tooOld}, true, nil, []string{"old", "unk"}, policy.VerdictTooOld},
		{"warn with unknown deny warns both", ModeWarn, config.UnknownDeny, []policy.Finding{unknown, tooOld}, true, nil, []string{"unk", "old"}, policy.VerdictTooOld},
		{"audit is silent", ModeAudit, config.UnknownDeny, []policy.Finding{tooOld, unknown}, true, nil, nil, policy.VerdictTooOld},
		{"exempt decides nothing", ModeEnforce, config.UnknownDeny, []policy.Finding{exempt, ok}, true, nil, nil, policy.VerdictOK},
		{"nothing", ModeEnforce, config.UnknownDeny, nil, true, nil, nil, policy.VerdictNotApplicable},
		{"enforce warns advisory, never denies", ModeEnforce, config.UnknownDeny, []policy.Finding{ok, advisory}, true, nil, []string{"adv"}, policy.VerdictUnknown},
		{"enforce warns advisory with unknown allowed", ModeEnforce, config.UnknownAllow, []policy.Finding{advisory, unknown}, true, nil, []string{"adv"}, policy.VerdictUnknown},
		{"enforce denies too-old beside advisory", ModeEnforce, config.UnknownAllow, []policy.Finding{advisory, tooOld}, false, []string{"old"}, nil, policy.VerdictTooOld},
		{"warn orders violations, advisories, unknowns", ModeWarn, config.UnknownWarn, []policy.Finding{unknown, advisory, tooOld}, true, nil, []string{"old", "adv", "unk"}, policy.VerdictTooOld},
		{"audit is silent on advisory", ModeAudit, config.UnknownDeny, []policy.Finding{advisory}, true, nil, nil, policy.VerdictUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(tt.mode, tt.unknown, tt.findings)
			if d.Allowed != tt.allowed || d.Verdict != tt.verdict {
				t.Errorf("allowed %v verdict %s, want %v %s", d.Allowed, d.Verdict, tt.allowed, tt.verdict)
			}
			if got := names(d.Deny); !equal(got, tt.deny) {
				t.Errorf("deny %v, want %v", got, tt.deny)
			}
			if got := names(d.Warn); !equal(got, tt.warn) {
				t.Errorf("warn %v, want %v", got, tt.warn)
			}
			if _, denied := WouldDeny(tt.unknown, tt.findings); tt.mode == ModeEnforce && denied == tt.allowed {
				t.Errorf("WouldDeny %v disagrees with Decide in enforce", denied)
			}
		})
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

type fakeExempter struct{ ns, sa, image, component string }

func (x fakeExempter) Namespace(ns string) string {
	if ns == x.ns {
		return "namespace " + ns
	}
	return ""
}
func (x fakeExempter) ServiceAccount(ns, sa string) string {
	if ns+":"+sa == x.sa {
		return "service account " + sa
	}
	return ""
}
func (x fakeExempter) Image(image string) string {
	if image == x.image {
		return "image " + image
	}
	return ""
}
func (x fakeExempter) Component(id string) string {
	if id == x.component {
		return "component " + id
	}
	return ""
}

func TestEvaluateExemptions(t *testing.T) {
	x := fakeExempter{ns: "legacy", sa: "prod:old", image: "registry.k8s.io/coredns/coredns:v1.11.1", component: "amazon-vpc-cni"}
	e := New(Options{Catalog: mustCatalog(t), Evidence: sdkdetect.TagOnly{}, Exempter: x})
	ctx := context.Background()
	r := e.Evaluate(ctx, Subject{Namespace: "legacy", Pod: threeContainers()})
	if r.Exemption.By != "namespace" || r.Verdict != policy.VerdictNotApplicable {
		t.Errorf("exempt namespace: %+v", r)
	}
	pod := threeContainers()
	pod.ServiceAccountName = "old"
	if r = e.Evaluate(ctx, Subject{Namespace: "prod", Pod: pod}); r.Exemption.By != "service-account" || r.Verdict != policy.VerdictNotApplicable {
		t.Errorf("exempt service account: %+v", r)
	}
	// The image and the component are exempt one by one: what is left is the
	// app's unknown.
	r = e.Evaluate(ctx, Subject{Namespace: "prod", Pod: threeContainers()})
	if r.Exemption.Images != 1 || r.Exemption.Components != 1 || r.Verdict != policy.VerdictUnknown {
		t.Errorf("exempt image and component: %+v", r)
	}
}

// A workload whose pods run as two service accounts, one exempt: the pods
// of the other would be denied, so the merged result is too-old.
func TestMergeTwoServiceAccounts(t *testing.T) {
	x := fakeExempter{sa: "prod:old"}
	e := New(Options{Catalog: mustCatalog(t), Evidence: sdkdetect.TagOnly{}, Exempter: x})
	a, b := threeContainers(), threeContainers()
	a.ServiceAccountName, b.ServiceAccountName = "old", "new"
	ra := e.Evaluate(context.Background(), Subject{Namespace: "prod", Pod: a})
	rb := e.Evaluate(context.Background(), Subject{Namespace: "prod", Pod: b})
	m := Merge(ra, rb)
	if m.Verdict != policy.VerdictTooOld || len(m.Findings) != len(ra.Findings)+len(rb.Findings) {
		t.Fatalf("merged %+v", m)
	}
	if _, denied := WouldDeny(config.UnknownAllow, m.Findings); !denied {
		t.Error("merged result would not be denied")
	}
	if m2 := Merge(rb, rb); len(m2.Findings) != len(rb.Findings) {
		t.Errorf("merging the same result twice duplicated findings: %d", len(m2.Findings))
	}
}
