package clusteraudit

import (
	"strings"

	"github.com/tokenguard/tokenguard/pkg/staletoken"
)

// StaleToken is one service account the audit logs show using a stale
// token, with the workloads in scope that run as it.
type StaleToken struct {
	Subject        string            `json:"subject"`
	Namespace      string            `json:"namespace"`
	ServiceAccount string            `json:"serviceAccount"`
	Status         staletoken.Status `json:"status"`
	DaysLeft       int64             `json:"daysLeft"`
	Workloads      []StaleWorkload   `json:"workloads"`
	// RealFix is the workloads' real fix; when they differ, each distinct
	// fix after the workloads it applies to ("CronJob/a, Pod/b: upgrade
	// ..."), joined with "; ". NoWorkloadFix when no workload in scope runs
	// as the service account.
	RealFix string `json:"realFix"`
}

// StaleWorkload is a workload whose pods run as a stale service account.
type StaleWorkload struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Restart is the immediate fix (fresh tokens now).
	Restart string `json:"restart"`
	// RealFix is the lasting fix (the component to upgrade).
	RealFix string `json:"realFix"`
}

// NoWorkloadFix is the real fix of a subject no workload in scope runs as.
const NoWorkloadFix = "no pod in scope runs as this service account (it ran outside the audited namespaces, or its pods are gone)"

// JoinStaleTokens joins the subjects (in their order: most urgent first) to
// the judged workloads whose pods run as their service account. Subjects
// outside namespace (when not "") are dropped.
func JoinStaleTokens(subjects []staletoken.Subject, ws []Workload, namespace string) []StaleToken {
	bySA := map[string][]int{}
	for i := range ws {
		for _, sa := range ws[i].ServiceAccounts {
			k := ws[i].Namespace + "/" + sa
			bySA[k] = append(bySA[k], i)
		}
	}
	out := []StaleToken{}
	for _, s := range subjects {
		if namespace != "" && s.Namespace != namespace {
			continue
		}
		st := StaleToken{
			Subject: s.Subject, Namespace: s.Namespace, ServiceAccount: s.ServiceAccount,
			Status: s.Status, DaysLeft: s.DaysLeft, Workloads: []StaleWorkload{},
		}
		var fixes []string
		who := map[string][]string{}
		for _, i := range bySA[s.Namespace+"/"+s.ServiceAccount] {
			w := &ws[i]
			fix := RealFix(w)
			st.Workloads = append(st.Workloads, StaleWorkload{
				Kind: w.Kind, Namespace: w.Namespace, Name: w.Name,
				Restart: Restart(w), RealFix: fix,
			})
			if who[fix] == nil {
				fixes = append(fixes, fix)
			}
			who[fix] = append(who[fix], w.Kind+"/"+w.Name)
		}
		switch {
		case len(st.Workloads) == 0:
			st.RealFix = NoWorkloadFix
		case len(fixes) == 1:
			st.RealFix = fixes[0]
		default:
			for i, f := range fixes {
				fixes[i] = strings.Join(who[f], ", ") + ": " + f
			}
			st.RealFix = strings.Join(fixes, "; ")
		}
		out = append(out, st)
	}
	return out
}
