// Package auditsink is a Kubernetes audit-webhook backend: it receives the
// API server's audit EventList batches and turns stale-token annotations
// into per-service-account metrics and log lines.
//
// The sink authenticates every batch: a client certificate the listener
// verified (a listener configured with ClientAuthTLS) or a bearer token of
// Options.BearerTokens; anything else is a 401. Whoever can post to it can
// fire or silence the stale-token alerts, so a caller must not serve it at
// all unless Options.Authenticated reports that some authentication is
// configured. It is bounded: body size, events per batch, name lengths and
// plausible seconds are checked before anything is counted, and the
// per-service-account series live in an LRU with a time bound
// (Options.MaxSubjects, Options.SubjectTTL).
package auditsink
