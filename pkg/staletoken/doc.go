// Package staletoken reads Kubernetes API-server audit logs and aggregates,
// per service account, the events the API server annotated with
// authentication.k8s.io/stale-token: pure parsing and aggregation, no CLI and
// no clock.
package staletoken
