// Package charts holds tokenguard's Helm chart (charts/tokenguard) and what
// its tests and the end-to-end suite need to run it: the helm binary
// (HelmPath; built from the Go module proxy by hack/tools/helm/build.sh),
// rendering (Template), the chart's copies of deploy/ files (Copies) and
// the values table of its README (ValuesTable).
//
// go generate ./charts/ rewrites the README's values table from
// values.yaml and refreshes the copies of deploy/ files.
package charts

//go:generate go run ./internal/chartgen
