package clusteraudit

import (
	"context"

	"github.com/tokenguard/tokenguard/pkg/engine"
)

// Previewer answers the namespace enforce preview (admission.Previewer):
// it lists a namespace's running workloads, judges them with the engine
// admission uses, and asks the one decision whether enforce would deny
// them. It reads pods, replica sets and jobs of that namespace (RBAC in
// deploy/base/rbac.yaml).
type Previewer struct {
	Client  Client
	Engine  *engine.Engine
	Unknown engine.UnknownAction
}

// PreviewEnforce returns one line per workload enforce would deny
// (`Deployment/api: container "api" uses ...`), at most max of them, and
// how many there are.
func (p *Previewer) PreviewEnforce(ctx context.Context, namespace string, max int) ([]string, int, error) {
	ws, err := Collect(ctx, p.Client, Options{Namespace: namespace, PageSize: 500})
	if err != nil {
		return nil, 0, err
	}
	Judge(ctx, p.Engine, ws)
	var lines []string
	total := 0
	for _, d := range WouldBeDenied(ws, p.Unknown) {
		total++
		if len(lines) < max {
			lines = append(lines, d.Kind+"/"+d.Name+": "+d.Deny[0].Clause())
		}
	}
	return lines, total, nil
}

// Denied is a workload enforce would deny, with the decision's findings.
type Denied struct {
	*Workload
	engine.Decision
}

// WouldBeDenied lists the judged workloads that enforce would deny under
// the unknown setting (engine.WouldDeny), in their order.
func WouldBeDenied(ws []Workload, unknown engine.UnknownAction) []Denied {
	var out []Denied
	for i := range ws {
		if d, denied := engine.WouldDeny(unknown, ws[i].Findings); denied {
			out = append(out, Denied{Workload: &ws[i], Decision: d})
		}
	}
	return out
}
