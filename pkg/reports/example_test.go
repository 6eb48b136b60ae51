package reports_test

import (
	"fmt"
	"time"

	"github.com/tokenguard/tokenguard/pkg/clusteraudit"
	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/reports"
	"github.com/tokenguard/tokenguard/pkg/staletoken"
)

// A workload judged by clusteraudit, with a stale-token observation of the
// service account it runs as, becomes one Report.
func ExampleBuild() {
	w := clusteraudit.Workload{
		Kind: "Deployment", Namespace: "shop", Name: "api", ServiceAccounts: []string{"api"},
		Findings: []policy.Finding{{
			Container: "app", Image: "ghcr.io/acme/api:1", Component: "k8s.io/client-go", Kind: policy.KindSDK,
			Version: "v0.14.0", Minimum: "v0.15.7", Source: policy.SourceTag, Verdict: policy.VerdictTooOld,
			Reason: policy.ReasonBelowMinimum, Fix: "upgrade k8s.io/client-go to v0.15.7 or later",
		}},
	}
	subject := staletoken.Subject{Subject: "system:serviceaccount:shop:api", Status: staletoken.StatusExpiring, DaysLeft: 4}
	r := reports.Build(reports.Input{
		APIVersion: "apps/v1", Kind: w.Kind, Namespace: w.Namespace, Name: w.Name, UID: "6c0e-uid",
		Findings:    w.Findings,
		StaleTokens: []reports.StaleToken{reports.StaleTokenOf(&subject)},
		Restart:     clusteraudit.Restart(&w),
		Time:        time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC),
	})
	fmt.Printf("%s/%s: %+v\n", r.Namespace, r.Name, r.Summary)
	for _, res := range r.Results {
		fmt.Printf("%s %s %s: %s\n", res.Result, res.Severity, res.Rule, res.Description)
	}
	// Output:
	// shop/tokenguard-deployment-api: {Pass:0 Fail:1 Warn:1 Error:0 Skip:0}
	// fail high k8s.io/client-go: would violate tokenguard "token-refresh": container "app" uses k8s.io/client-go v0.14.0 (found in image tag), minimum v0.15.7; upgrade k8s.io/client-go to v0.15.7 or later
	// warn medium stale-token: service account "shop/api" uses a stale token: 4 days left before Amazon EKS rejects it; fresh tokens now: kubectl rollout restart deployment/api -n shop; the lasting fix is a client that re-reads its token
}
