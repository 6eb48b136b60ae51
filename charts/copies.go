package charts

import (
	"bytes"
	"os"
	"path/filepath"
)

// Copy is a file of deploy/ that the chart ships a copy of (Helm reads
// only files inside the chart), byte for byte.
type Copy struct {
	// Deploy is the original, relative to the repository root.
	Deploy string
	// Chart is the copy, relative to the repository root.
	Chart string
}

// Copies are the chart's copies of deploy/ files: the Grafana dashboard
// and the alerts (templates/monitoring), and the CRDs (templates/crds.yaml).
var Copies = []Copy{
	{"deploy/components/monitoring/grafana-dashboard.json", "charts/tokenguard/files/grafana-dashboard.json"},
	{"deploy/components/monitoring/prometheusrule.yaml", "charts/tokenguard/files/prometheusrule.yaml"},
	{"deploy/crds/tokenguard.io_imageevidences.yaml", "charts/tokenguard/files/crds/tokenguard.io_imageevidences.yaml"},
}

// Stale reports whether the chart's copy differs from deploy's file (or
// is missing).
func (c Copy) Stale() (bool, error) {
	want, err := os.ReadFile(filepath.Join(RepoRoot(), c.Deploy))
	if err != nil {
		return false, err
	}
	got, err := os.ReadFile(filepath.Join(RepoRoot(), c.Chart))
	if os.IsNotExist(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return !bytes.Equal(got, want), nil
}

// Refresh writes deploy's file over the chart's copy.
func (c Copy) Refresh() error {
	data, err := os.ReadFile(filepath.Join(RepoRoot(), c.Deploy))
	if err != nil {
		return err
	}
	dst := filepath.Join(RepoRoot(), c.Chart)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}
