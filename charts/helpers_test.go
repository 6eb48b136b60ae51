package charts

import (
	"errors"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/tokenguard/tokenguard/deploy"
	"github.com/tokenguard/tokenguard/deploy/safety"
)

// helm returns the helm binary in a home of its own; it skips the test
// only when no helm is built and $TOKENGUARD_HELM is unset (make test sets
// it, so there the tests always run).
func helm(t *testing.T) *Helm {
	t.Helper()
	p, err := HelmPath()
	if errors.Is(err, ErrNoHelm) {
		t.Skipf("skipping the Helm chart tests: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return &Helm{Path: p, Home: t.TempDir()}
}

const (
	release   = "tokenguard"
	namespace = "tokenguard-system"
)

// option is one supported combination of the chart's switches: a file
// ci/<name>-values.yaml sets it (with more values besides, perhaps), and
// a kustomize overlay plus components renders its counterpart.
type option struct {
	mode                                                                string
	certManager, monitoring, controller, registryCredentials, auditSink bool
}

// ciOptions are the switches of each ci/ values file; TestCIValuesListed
// keeps the two lists in step.
var ciOptions = map[string]option{
	"default":              {mode: "warn"},
	"enforce":              {mode: "enforce", certManager: true},
	"cert-manager":         {mode: "warn", certManager: true},
	"monitoring":           {mode: "warn", monitoring: true},
	"controller":           {mode: "warn", controller: true},
	"registry-credentials": {mode: "warn", registryCredentials: true},
	"all-on":               {mode: "enforce", certManager: true, monitoring: true, controller: true, registryCredentials: true, auditSink: true},
}

// ciFile is the values file of a ci/ option.
func ciFile(name string) string {
	return filepath.Join(ChartDir(), "ci", name+"-values.yaml")
}

// set is the option as --set flags alone (the chart's defaults
// otherwise).
func (o option) set() []string {
	b := strconv.FormatBool
	return []string{
		"--set", "mode=" + o.mode,
		"--set", "certManager.enabled=" + b(o.certManager),
		"--set", "monitoring.enabled=" + b(o.monitoring),
		"--set", "controller.enabled=" + b(o.controller),
		"--set", "registryCredentials.enabled=" + b(o.registryCredentials),
		"--set", "auditSink.enabled=" + b(o.auditSink),
	}
}

// install is what a rendering of the option by release name in
// namespace ns must hold (deploy/safety).
func (o option) install(name, ns string) safety.Install {
	in := safety.Install{
		Namespace:    ns,
		Name:         name,
		DefaultMode:  o.mode,
		WebhookNames: deploy.WebhookNames,
		CABundle:     !o.certManager,
		Secret:       !o.certManager,
	}
	if o.certManager {
		in.InjectCAFrom = ns + "/" + name
	}
	return in
}

// kustomize is the counterpart in deploy/: an overlay and components.
func (o option) kustomize() (overlay string, components []string) {
	switch {
	case !o.certManager:
		overlay = "overlays/self-signed"
	case o.mode == "enforce":
		overlay = "overlays/enforce-default"
	default:
		overlay = "overlays/cert-manager"
	}
	for _, c := range []struct {
		on   bool
		path string
	}{
		{o.registryCredentials, "components/registry-credentials"},
		{o.monitoring, "components/monitoring"},
		{o.auditSink, "components/audit-sink"},
		{o.controller, "components/controller"},
	} {
		if c.on {
			components = append(components, c.path)
		}
	}
	return overlay, components
}
