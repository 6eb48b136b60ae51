//go:build tools

// Package tools pins Open Policy Agent, one of the peers that
// test/load/peers.sh measures tokenguard against (issue #8). Kept apart from
// the product go.mod on purpose; test/load/peer-binaries.sh builds it.
package tools

import (
	_ "github.com/open-policy-agent/opa"
)
