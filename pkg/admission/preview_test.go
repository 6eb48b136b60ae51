package admission

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

type fakePreviewer struct {
	lines []string
	total int
	err   error
	calls int
}

func (f *fakePreviewer) PreviewEnforce(ctx context.Context, ns string, max int) ([]string, int, error) {
	f.calls++
	if _, ok := ctx.Deadline(); !ok {
		return nil, 0, errors.New("no deadline")
	}
	if len(f.lines) > max {
		return f.lines[:max], f.total, f.err
	}
	return f.lines, f.total, f.err
}

func namespaceReview(newMode, oldMode string) []byte {
	obj := func(mode string) string {
		labels := `{"kubernetes.io/metadata.name":"team-a"}`
		if mode != "" {
			labels = `{"kubernetes.io/metadata.name":"team-a","tokenguard.io/mode":"` + mode + `"}`
		}
		return `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team-a","labels":` + labels + `}}`
	}
	old := "null"
	if oldMode != "-" {
		old = obj(oldMode)
	}
	return []byte(fmt.Sprintf(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"ns-1",`+
		`"kind":{"group":"","version":"v1","kind":"Namespace"},"resource":{"group":"","version":"v1","resource":"namespaces"},`+
		`"name":"team-a","operation":"UPDATE","object":%s,"oldObject":%s}}`, obj(newMode), old))
}

func TestNamespacePreview(t *testing.T) {
	lines := []string{"Deployment/coredns: a", "DaemonSet/aws-node: b", "Deployment/x: c", "Deployment/y: d", "Deployment/z: e", "Job/j: f"}
	tests := []struct {
		name       string
		newMode    string
		oldMode    string
		prev       *fakePreviewer
		calls      int
		want       []string
		noWarnings bool
	}{
		{"warn to enforce", "enforce", "warn", &fakePreviewer{lines: lines[:2], total: 2}, 1,
			[]string{`namespace "team-a" is now enforced: 2 running workloads would be denied`, "would be denied: Deployment/coredns: a", "would be denied: DaemonSet/aws-node: b"}, false},
		{"capped", "enforce", "", &fakePreviewer{lines: lines, total: 6}, 1,
			[]string{"6 running workloads would be denied", `1 more; run "tokenguard audit --preview-mode enforce -n team-a"`}, false},
		{"nothing to deny", "enforce", "audit", &fakePreviewer{total: 0}, 1, nil, true},
		{"already enforce", "enforce", "enforce", &fakePreviewer{lines: lines, total: 6}, 0, nil, true},
		{"not enforce", "warn", "enforce", &fakePreviewer{lines: lines, total: 6}, 0, nil, true},
		{"preview fails", "enforce", "warn", &fakePreviewer{err: errors.New("forbidden: cannot list pods")}, 1,
			[]string{"could not be checked (forbidden: cannot list pods)"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, UnknownAllow)
			for _, h := range s.handlers {
				h.webhook.(*modeWebhook).r.Previewer = tt.prev
				break
			}
			resp := decodeResponse(t, s.post(ModeWarn, namespaceReview(tt.newMode, tt.oldMode), ""))
			if !resp.Allowed {
				t.Fatalf("a namespace was denied: %+v", resp)
			}
			if tt.prev.calls != tt.calls {
				t.Errorf("previewer called %d times, want %d", tt.prev.calls, tt.calls)
			}
			if tt.noWarnings && len(resp.Warnings) != 0 {
				t.Errorf("warnings: %q", resp.Warnings)
			}
			all := strings.Join(resp.Warnings, "\n")
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("warnings lack %q:\n%s", w, all)
				}
			}
			if len(resp.Warnings) > previewMaxLines+2 {
				t.Errorf("%d warnings: not capped", len(resp.Warnings))
			}
		})
	}
}
