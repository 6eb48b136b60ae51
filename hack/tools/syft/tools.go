//go:build tools

// Package tools pins syft, the SBOM generator that test/corpus runs over the
// layer-scanning corpus as a peer of tokenguard's layer scanning. Kept apart
// from the product go.mod on purpose; hack/layer-corpus.sh builds it.
package tools

import (
	_ "github.com/anchore/syft/cmd/syft"
)
