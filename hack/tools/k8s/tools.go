//go:build tools

// Package tools pins the Kubernetes control-plane commands that
// hack/e2e-binaries.sh builds for the end-to-end tests.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
