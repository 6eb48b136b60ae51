//go:build tools

// Package tools pins the Pod Security Admission webhook, one of the peers
// that test/load/peers.sh measures tokenguard against (issue #8).
// k8s.io/pod-security-admission is published with real versions, so unlike
// hack/tools/k8s this module needs no replace lines. Kept apart from the
// product go.mod (and from hack/tools/k8s, whose go.sum keys the e2e binary
// cache) on purpose; hack/peer-binaries.sh builds it.
package tools

import (
	_ "k8s.io/pod-security-admission/cmd/webhook"
)
