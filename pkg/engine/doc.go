// Package engine joins evidence lookup and policy evaluation, so that the
// CLI and the admission webhook judge a workload the same way.
package engine
