package reports

import (
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/staletoken"
)

// Input is one judged workload: who it is, its findings, and what the
// audit logs say of the service accounts it runs as.
type Input struct {
	// APIVersion, Kind, Namespace, Name and UID identify the workload
	// ("apps/v1", "Deployment", ...). They make the report's scope, its
	// subjects and its ownerReference; without a UID the report has no
	// ownerReference (the API server requires one in each).
	APIVersion string
	Kind       string
	Namespace  string
	Name       string
	UID        types.UID
	// Findings are the workload's findings (clusteraudit.Workload.Findings):
	// one result each, except the not-applicable ones.
	Findings []policy.Finding
	// StaleTokens are the stale-token observations of the service
	// accounts the workload runs as: one result each. Optional.
	StaleTokens []StaleToken
	// Restart is the command that gives the workload's pods fresh tokens
	// now (clusteraudit.Restart); the stale-token results name it.
	// Optional.
	Restart string
	// Time stamps every result: when the workload was judged.
	Time time.Time
}

// StaleToken is what the audit logs say of one service account's token:
// the part of a staletoken.Subject that a report shows, so that events
// that change only counts and times do not change the report.
type StaleToken struct {
	// Subject is "system:serviceaccount:<namespace>:<name>".
	Subject string
	// Status is rejected, expiring or stale.
	Status staletoken.Status
	// DaysLeft is the whole days before Amazon EKS rejects the token
	// (negative once past).
	DaysLeft int64
}

// StaleTokenOf keeps the fields of s that a report shows.
func StaleTokenOf(s *staletoken.Subject) StaleToken {
	return StaleToken{Subject: s.Subject, Status: s.Status, DaysLeft: s.DaysLeft}
}
