package main

import (
	"context"
	"strings"

	"github.com/tokenguard/tokenguard/pkg/admission"
	"github.com/tokenguard/tokenguard/pkg/clusteraudit"
	"github.com/tokenguard/tokenguard/pkg/config"
	"github.com/tokenguard/tokenguard/pkg/engine"
	"github.com/tokenguard/tokenguard/pkg/policy"
)

// enforcePreview lists a namespace's running workloads and says which the
// enforce mode would deny (admission.Previewer). It reads pods, replica
// sets and jobs of that namespace (RBAC in deploy/base/rbac.yaml).
type enforcePreview struct {
	client   clusteraudit.Client
	engine   *engine.Engine
	unknown  config.UnknownAction
	exempter admission.Exempter
	// evidenceContext is the reviews' (registry.pullSecrets), so that the
	// preview reads registries with the same credentials as admission.
	evidenceContext evidenceContextFunc
}

func (p *enforcePreview) PreviewEnforce(ctx context.Context, namespace string, max int) ([]string, int, error) {
	if p.exempter != nil && p.exempter.Namespace(namespace) != "" {
		return nil, 0, nil
	}
	ws, err := clusteraudit.Collect(ctx, p.client, clusteraudit.Options{Namespace: namespace, PageSize: 500})
	if err != nil {
		return nil, 0, err
	}
	clusteraudit.Judge(ctx, p.engine, ws, p.evidenceContext)
	var lines []string
	total := 0
	for i := range ws {
		w := &ws[i]
		f := p.firstDenying(w)
		if f == nil {
			continue
		}
		total++
		if len(lines) < max {
			lines = append(lines, w.Kind+"/"+w.Name+": "+strings.TrimSpace(f.Detail()))
		}
	}
	return lines, total, nil
}

// firstDenying returns the first finding of w that enforce would deny on,
// leaving out what the configuration exempts, or nil.
func (p *enforcePreview) firstDenying(w *clusteraudit.Workload) *policy.Finding {
	if p.exempter != nil {
		for _, sa := range w.ServiceAccounts {
			if p.exempter.ServiceAccount(w.Namespace, sa) != "" {
				return nil
			}
		}
	}
	for i := range w.Findings {
		f := &w.Findings[i]
		if p.exempter != nil && (p.exempter.Image(f.Image) != "" || f.Component != "" && p.exempter.Component(f.Component) != "") {
			continue
		}
		if f.Verdict == policy.VerdictTooOld || f.Verdict == policy.VerdictUnknown && p.unknown == config.UnknownDeny {
			return f
		}
	}
	return nil
}
