// Package auditsink is a Kubernetes audit-webhook backend: it receives the
// API server's audit EventList batches and turns stale-token annotations
// into per-service-account metrics and log lines.
package auditsink
