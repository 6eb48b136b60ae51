//go:build tools

// Package tools pins the helm CLI that hack/tools/helm/build.sh builds for
// the chart tests (charts/): helm lint and helm template of
// charts/tokenguard. Kept apart from the product go.mod on purpose.
package tools

import (
	_ "helm.sh/helm/v4/cmd/helm"
)
