package deploy

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tokenguard/tokenguard/deploy/safety"
	"github.com/tokenguard/tokenguard/pkg/admission"
	"github.com/tokenguard/tokenguard/pkg/auditsink"
	"github.com/tokenguard/tokenguard/pkg/controller"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect/registry"
)

// exportedMetrics are the names of the metrics tokenguard's packages
// register (admission, registry lookups and layer scans, the audit sink,
// the controller), read from their descriptors.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	reg := prometheus.NewRegistry()
	admission.NewMetrics(reg)
	registry.NewPrometheusMetrics(reg)
	auditsink.New(reg, slog.New(slog.DiscardHandler), auditsink.Options{})
	controller.NewMetrics(reg)
	names := map[string]bool{}
	descs := make(chan *prometheus.Desc)
	go func() {
		reg.Describe(descs)
		close(descs)
	}()
	fq := regexp.MustCompile(`fqName: "([a-z0-9_:]+)"`)
	for d := range descs {
		if m := fq.FindStringSubmatch(d.String()); m != nil {
			names[m[1]] = true
		}
	}
	if len(names) < 10 {
		t.Fatalf("only %d metrics found: %v", len(names), names)
	}
	return names
}

// TestDashboardQueriesExportedMetrics: every query of the Grafana
// dashboard (panels and variables) names only metrics the binaries export
// (a histogram's _bucket, _sum and _count count as its own), and the
// dashboard shows the workloads per verdict and the service accounts
// closest to the 90-day limit. A renamed metric would otherwise leave an
// empty panel that nobody notices.
func TestDashboardQueriesExportedMetrics(t *testing.T) {
	f, err := os.Open("components/monitoring/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title      string
		Templating struct {
			List []struct {
				Name  string
				Query json.RawMessage
			}
		}
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	if err := dec.Decode(&dash); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	var exprs []string
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	for _, v := range dash.Templating.List {
		exprs = append(exprs, string(v.Query))
	}
	exported := exportedMetrics(t)
	metric := regexp.MustCompile(`tokenguard_[a-z0-9_]+`)
	used := map[string]bool{}
	for _, e := range exprs {
		for _, name := range metric.FindAllString(e, -1) {
			base := name
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if b, ok := strings.CutSuffix(name, suffix); ok && exported[b] {
					base = b
				}
			}
			if !exported[base] {
				t.Errorf("the dashboard queries %s, which no tokenguard package exports (query %q)", name, e)
			}
			used[base] = true
		}
	}
	for _, want := range []string{"tokenguard_workloads", "tokenguard_stale_token_seconds_after_threshold"} {
		if !used[want] {
			t.Errorf("the dashboard does not show %s", want)
		}
	}
	keys := make([]string, 0, len(used))
	for k := range used {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	t.Logf("%q queries %d metrics: %v", dash.Title, len(keys), keys)

	// The monitoring component ships it as the ConfigMap Grafana's sidecar
	// loads.
	objs, err := BuildWithComponents(t.TempDir(), "overlays/self-signed", "components/monitoring")
	if err != nil {
		t.Fatal(err)
	}
	safety.Dashboard(t, objs, install("overlays/self-signed"), data)
}
