//go:build tools

// Package tools pins the etcd server that hack/e2e-binaries.sh builds for
// the end-to-end tests.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
)
