package charts

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tokenguard/tokenguard/deploy/safety"
	"github.com/tokenguard/tokenguard/pkg/config"
)

// TestCIValuesListed: every ci/*-values.yaml has its switches in
// ciOptions (so the safety and drift tests know what it turns on), and
// every entry of ciOptions has its file.
func TestCIValuesListed(t *testing.T) {
	files, err := CIValues()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), "-values.yaml")
		seen[name] = true
		if _, ok := ciOptions[name]; !ok {
			t.Errorf("%s is not in ciOptions (charts/helpers_test.go): say which switches it turns on", f)
		}
	}
	for name := range ciOptions {
		if !seen[name] {
			t.Errorf("ciOptions lists %q, but there is no %s", name, ciFile(name))
		}
	}
}

// TestLint: helm lint --strict (warnings are errors) is clean for every
// ci/ values file.
func TestLint(t *testing.T) {
	h := helm(t)
	for name := range ciOptions {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out, err := h.Run("lint", "--strict", ChartDir(), "--namespace", namespace, "-f", ciFile(name))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(out), "1 chart(s) linted, 0 chart(s) failed") {
				t.Errorf("helm lint:\n%s", out)
			}
		})
	}
}

// TestTemplateSafety renders every ci/ values file with helm template and
// holds the result to the assertions deploy/ is held to (deploy/safety):
// the webhook configuration, its coverage of the workload kinds, the
// Deployment, and each option that is on (and nothing of those that are
// off); the configuration it renders is one tokenguard accepts.
func TestTemplateSafety(t *testing.T) {
	h := helm(t)
	dashboard, err := os.ReadFile(filepath.Join(ChartDir(), "files", "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	for name, o := range ciOptions {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			objs, err := h.Template(release, namespace, "-f", ciFile(name))
			if err != nil {
				t.Fatal(err)
			}
			checkOption(t, objs, o, o.install(release, namespace), dashboard)
		})
	}
}

// TestReleaseNameAndNamespace renders the all-on and default values as
// release "tg" in namespace "security": the names follow the release, the
// webhook never judges the release's namespace (not tokenguard-system),
// the certificates name its Service, and the alerts select its job.
func TestReleaseNameAndNamespace(t *testing.T) {
	h := helm(t)
	dashboard, err := os.ReadFile(filepath.Join(ChartDir(), "files", "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"default", "all-on"} {
		t.Run(name, func(t *testing.T) {
			o := ciOptions[name]
			objs, err := h.Template("tg", "security", "-f", ciFile(name))
			if err != nil {
				t.Fatal(err)
			}
			checkOption(t, objs, o, o.install("tg-tokenguard", "security"), dashboard)
			for _, obj := range objs {
				if strings.Contains(string(mustJSON(t, obj)), "tokenguard-system") {
					t.Errorf("%s %s mentions tokenguard-system, not the release namespace", obj["kind"], safety.Nested[string](obj, "metadata", "name"))
				}
			}
		})
	}
}

// checkOption runs the safety assertions for o on objs.
func checkOption(t *testing.T, objs []map[string]any, o option, in safety.Install, dashboard []byte) {
	t.Helper()
	safety.WebhookConfiguration(t, objs, in)
	safety.WebhookRulesCoverKinds(t, objs, in)
	safety.Deployment(t, objs, in)
	if o.registryCredentials {
		safety.RegistryCredentials(t, objs, in)
	} else {
		safety.NoRegistryCredentials(t, objs, in)
	}
	if o.auditSink {
		safety.AuditSink(t, objs, in)
	}
	if o.monitoring {
		safety.Monitoring(t, objs, in)
		safety.MonitoringDecodesStrictly(t, objs)
		safety.Dashboard(t, objs, in, dashboard)
	}
	if o.controller {
		safety.Controller(t, objs, in)
	}
	kinds := safety.Kinds(objs)
	for kind, on := range map[string]bool{
		"ServiceMonitor": o.monitoring, "PrometheusRule": o.monitoring,
		"Certificate": o.certManager, "Issuer": o.certManager, "Secret": !o.certManager,
		"Role": o.controller || o.auditSink, "RoleBinding": o.controller || o.auditSink,
		"CustomResourceDefinition": true,
	} {
		if (kinds[kind] > 0) != on {
			t.Errorf("%d %s objects with the option %v", kinds[kind], kind, on)
		}
	}
	if want := map[bool]int{false: 1, true: 2}[o.controller]; kinds["Deployment"] != want {
		t.Errorf("%d Deployments, want %d", kinds["Deployment"], want)
	}
	clusterScoped := []string{"Namespace", "ClusterRole", "ClusterRoleBinding", "ValidatingWebhookConfiguration", "CustomResourceDefinition"}
	for _, obj := range objs {
		name := safety.Nested[string](obj, "metadata", "name")
		ns := safety.Nested[string](obj, "metadata", "namespace")
		kind, _ := obj["kind"].(string)
		if name == "" {
			t.Errorf("a %s without a name", kind)
		}
		if cluster := slices.Contains(clusterScoped, kind); cluster != (ns == "") || !cluster && ns != in.Namespace {
			t.Errorf("%s %s in namespace %q (the release's: %s)", kind, name, ns, in.Namespace)
		}
	}
	checkConfig(t, objs)
}

// checkConfig: the webhook's ConfigMap holds a TokenGuardConfiguration
// that tokenguard accepts (strict decoding, defaults, validation).
func checkConfig(t *testing.T, objs []map[string]any) *config.Configuration {
	t.Helper()
	for _, o := range objs {
		if o["kind"] != "ConfigMap" {
			continue
		}
		data, ok := safety.Nested[map[string]any](o, "data")["tokenguard.yaml"].(string)
		if !ok {
			continue
		}
		c, err := config.Parse([]byte(data), "ConfigMap "+safety.Nested[string](o, "metadata", "name"))
		if err != nil {
			t.Errorf("tokenguard would refuse its configuration: %v\n%s", err, data)
		}
		return c
	}
	t.Error("no ConfigMap with tokenguard.yaml")
	return nil
}

// TestHelmIsThePinnedVersion: the helm the tests run is the version
// hack/tools/helm/go.mod pins (build.sh stamps it into the binary).
func TestHelmIsThePinnedVersion(t *testing.T) {
	h := helm(t)
	out, err := h.Run("version", "--template", "{{.Version}}")
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(RepoRoot(), HelmModule, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "require helm.sh/helm/v4 " + strings.TrimSpace(string(out)) + "\n"; !strings.Contains(string(gomod), want) {
		t.Errorf("helm %s; %s/go.mod does not say %q", out, HelmModule, strings.TrimSpace(want))
	}
}
