package charts

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/tokenguard/tokenguard/deploy"
	"github.com/tokenguard/tokenguard/deploy/crds"
	"github.com/tokenguard/tokenguard/deploy/safety"
)

// TestChartMatchesKustomize renders each option of ci/ twice, with the
// chart (the option's switches alone, the release namespace rendered too)
// and with its kustomize counterpart in deploy/ (an overlay, the option's
// components, and deploy/crds), and compares what the API server and the
// pods would see: the same kinds and objects; the same webhook entries
// (rules, namespace and object selectors, failure and match policies,
// side effects, timeouts, the Service called); the same containers (image,
// args, env, ports, probes, resources, security contexts, mounts) and pod
// settings; the same RBAC rules, Service ports, disruption budgets,
// configuration, certificates, monitoring objects and CRDs. It reads
// deploy/ when it runs: a change there (a new RBAC rule for the
// controller, say) fails here until the chart has it too.
func TestChartMatchesKustomize(t *testing.T) {
	h := helm(t)
	for name, o := range ciOptions {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			overlay, components := o.kustomize()
			var kobjs []map[string]any
			var err error
			if len(components) == 0 {
				kobjs, err = deploy.Build(t.TempDir(), overlay)
			} else {
				kobjs, err = deploy.BuildWithComponents(t.TempDir(), overlay, components...)
			}
			if err != nil {
				t.Fatal(err)
			}
			var crd map[string]any
			if err := yaml.Unmarshal(crds.ImageEvidenceYAML, &crd); err != nil {
				t.Fatal(err)
			}
			// The chart installs the CRDs whatever the options (crds.install);
			// kustomize with components/controller only.
			if safety.Lookup(kobjs, "CustomResourceDefinition", safety.Nested[string](crd, "metadata", "name")) == nil {
				kobjs = append(kobjs, crd)
			}
			hobjs, err := h.Template(release, namespace, append(o.set(), "--set", "namespace.create=true")...)
			if err != nil {
				t.Fatal(err)
			}
			compareRenderings(t, normalize(t, kobjs), normalize(t, hobjs), fmt.Sprintf("kustomize %s %v", overlay, components))
		})
	}
}

// normalize passes objects through JSON, so that numbers compare alike
// (kustomize gives ints, YAML float64).
func normalize(t *testing.T, objs []map[string]any) []map[string]any {
	t.Helper()
	out := make([]map[string]any, len(objs))
	for i, o := range objs {
		if err := json.Unmarshal(mustJSON(t, o), &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// hashSuffix is the content hash of a generated ConfigMap's name
// (kustomize's, or the chart's).
var hashSuffix = regexp.MustCompile(`-[a-z0-9]{10}$`)

func objectKey(o map[string]any) string {
	name := safety.Nested[string](o, "metadata", "name")
	if o["kind"] == "ConfigMap" && strings.Contains(name, "-config-") {
		name = hashSuffix.ReplaceAllString(name, "")
	}
	return fmt.Sprint(o["kind"], "/", name)
}

func compareRenderings(t *testing.T, kobjs, hobjs []map[string]any, what string) {
	t.Helper()
	if k, h := safety.Kinds(kobjs), safety.Kinds(hobjs); !reflect.DeepEqual(k, h) {
		t.Errorf("kinds: %s renders %v, the chart %v", what, k, h)
	}
	chart := map[string]map[string]any{}
	for _, o := range hobjs {
		chart[objectKey(o)] = o
	}
	for _, k := range kobjs {
		key := objectKey(k)
		h, ok := chart[key]
		if !ok {
			t.Errorf("%s renders %s; the chart does not", what, key)
			continue
		}
		t.Run(key, func(t *testing.T) { compareObject(t, k, h) })
	}
}

// same fails when a and b differ as JSON.
func same(t *testing.T, what string, kustomize, chart any) {
	t.Helper()
	k, _ := json.Marshal(kustomize)
	h, _ := json.Marshal(chart)
	if string(k) != string(h) {
		t.Errorf("%s differs:\n kustomize %s\n     chart %s", what, k, h)
	}
}

// decode converts a normalized object into T.
func decode[T any](t *testing.T, o map[string]any) *T {
	t.Helper()
	var v T
	if err := json.Unmarshal(mustJSON(t, o), &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

// subset fails unless every key of want is in got with the same value.
func subset(t *testing.T, what string, want, got map[string]any) {
	t.Helper()
	for k, v := range want {
		if !reflect.DeepEqual(got[k], v) {
			t.Errorf("%s: %s is %v in kustomize, %v in the chart", what, k, v, got[k])
		}
	}
}

func compareObject(t *testing.T, k, h map[string]any) {
	switch k["kind"] {
	case "Namespace":
		labels := safety.Nested[map[string]any](h, "metadata", "labels")
		subset(t, "labels", safety.Nested[map[string]any](k, "metadata", "labels"), labels)
	case "ServiceAccount":
		same(t, "automountServiceAccountToken", k["automountServiceAccountToken"], h["automountServiceAccountToken"])
	case "ClusterRole", "Role":
		compareRules(t, decode[rbacv1.ClusterRole](t, k), decode[rbacv1.ClusterRole](t, h))
	case "ClusterRoleBinding", "RoleBinding":
		same(t, "roleRef", k["roleRef"], h["roleRef"])
		same(t, "subjects", k["subjects"], h["subjects"])
	case "ConfigMap":
		compareConfigMap(t, k, h)
	case "Service":
		same(t, "ports", safety.Nested[[]any](k, "spec", "ports"), safety.Nested[[]any](h, "spec", "ports"))
		subset(t, "selector", safety.Nested[map[string]any](k, "spec", "selector"), safety.Nested[map[string]any](h, "spec", "selector"))
	case "PodDisruptionBudget":
		same(t, "maxUnavailable", safety.Nested[any](k, "spec", "maxUnavailable"), safety.Nested[any](h, "spec", "maxUnavailable"))
		subset(t, "selector", safety.Nested[map[string]any](k, "spec", "selector", "matchLabels"), safety.Nested[map[string]any](h, "spec", "selector", "matchLabels"))
	case "Deployment":
		compareDeployment(t, decode[appsv1.Deployment](t, k), decode[appsv1.Deployment](t, h))
	case "ValidatingWebhookConfiguration":
		compareWebhooks(t, decode[admissionregistrationv1.ValidatingWebhookConfiguration](t, k), decode[admissionregistrationv1.ValidatingWebhookConfiguration](t, h))
	case "Secret":
		same(t, "type", k["type"], h["type"])
		for key := range safety.Nested[map[string]any](k, "data") {
			if _, ok := safety.Nested[map[string]any](h, "data")[key]; !ok {
				t.Errorf("the chart's Secret has no %s", key)
			}
		}
	case "Issuer", "Certificate", "PrometheusRule", "CustomResourceDefinition":
		same(t, "spec", k["spec"], h["spec"])
		subset(t, "labels", safety.Nested[map[string]any](k, "metadata", "labels"), safety.Nested[map[string]any](h, "metadata", "labels"))
	case "ServiceMonitor":
		same(t, "endpoints", safety.Nested[any](k, "spec", "endpoints"), safety.Nested[any](h, "spec", "endpoints"))
		same(t, "namespaceSelector", safety.Nested[any](k, "spec", "namespaceSelector"), safety.Nested[any](h, "spec", "namespaceSelector"))
		subset(t, "selector", safety.Nested[map[string]any](k, "spec", "selector", "matchLabels"), safety.Nested[map[string]any](h, "spec", "selector", "matchLabels"))
	default:
		t.Errorf("no comparison for %s: add one to compareObject", k["kind"])
	}
	if k["kind"] != "Namespace" && k["kind"] != "ValidatingWebhookConfiguration" && k["kind"] != "CustomResourceDefinition" && k["kind"] != "ClusterRole" && k["kind"] != "ClusterRoleBinding" {
		same(t, "namespace", safety.Nested[string](k, "metadata", "namespace"), safety.Nested[string](h, "metadata", "namespace"))
	}
}

// grant is one permission: verb on group/resource (by name, when named).
type grant struct{ group, resource, name, verb string }

func grants(rules []rbacv1.PolicyRule) map[grant]bool {
	out := map[grant]bool{}
	for _, r := range rules {
		names := r.ResourceNames
		if len(names) == 0 {
			names = []string{""}
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, n := range names {
					for _, v := range r.Verbs {
						out[grant{g, res, n, v}] = true
					}
				}
			}
		}
	}
	return out
}

// compareRules compares what the roles grant, however the rules are
// grouped and ordered.
func compareRules(t *testing.T, k, h *rbacv1.ClusterRole) {
	t.Helper()
	kg, hg := grants(k.Rules), grants(h.Rules)
	template := "charts/tokenguard/templates/rbac.yaml"
	if strings.HasSuffix(k.Name, "-controller") || strings.HasSuffix(k.Name, "-controller-lease") {
		template = "charts/tokenguard/templates/controller/rbac.yaml"
	}
	for g := range kg {
		if !hg[g] {
			t.Errorf("deploy/ grants %s %s.%s%s; the chart's %s does not: add it to %s", g.verb, g.resource, g.group, named(g.name), h.Name, template)
		}
	}
	for g := range hg {
		if !kg[g] {
			t.Errorf("the chart's %s grants %s %s.%s%s, which deploy/ does not", h.Name, g.verb, g.resource, g.group, named(g.name))
		}
	}
}

func named(n string) string {
	if n == "" {
		return ""
	}
	return " named " + n
}

func compareConfigMap(t *testing.T, k, h map[string]any) {
	t.Helper()
	subset(t, "labels", map[string]any{"grafana_dashboard": safety.Nested[map[string]any](k, "metadata", "labels")["grafana_dashboard"]},
		map[string]any{"grafana_dashboard": safety.Nested[map[string]any](h, "metadata", "labels")["grafana_dashboard"]})
	kd, hd := safety.Nested[map[string]any](k, "data"), safety.Nested[map[string]any](h, "data")
	if len(kd) != len(hd) {
		t.Errorf("data keys: kustomize %d, chart %d", len(kd), len(hd))
	}
	for key, kv := range kd {
		ks, _ := kv.(string)
		hs, _ := hd[key].(string)
		if !strings.HasSuffix(key, ".yaml") {
			same(t, key, ks, hs)
			continue
		}
		// The configuration: the same document, comments aside.
		var km, hm map[string]any
		if err := yaml.Unmarshal([]byte(ks), &km); err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal([]byte(hs), &hm); err != nil {
			t.Fatal(err)
		}
		same(t, key, km, hm)
	}
}

func compareDeployment(t *testing.T, k, h *appsv1.Deployment) {
	t.Helper()
	same(t, "replicas", k.Spec.Replicas, h.Spec.Replicas)
	same(t, "strategy", k.Spec.Strategy, h.Spec.Strategy)
	same(t, "revisionHistoryLimit", k.Spec.RevisionHistoryLimit, h.Spec.RevisionHistoryLimit)
	subset(t, "selector", toAny(k.Spec.Selector.MatchLabels), toAny(h.Spec.Selector.MatchLabels))
	kp, hp := &k.Spec.Template.Spec, &h.Spec.Template.Spec
	same(t, "serviceAccountName", kp.ServiceAccountName, hp.ServiceAccountName)
	same(t, "priorityClassName", kp.PriorityClassName, hp.PriorityClassName)
	same(t, "terminationGracePeriodSeconds", kp.TerminationGracePeriodSeconds, hp.TerminationGracePeriodSeconds)
	same(t, "pod securityContext", kp.SecurityContext, hp.SecurityContext)
	// Spread: the same constraints; the chart's selectors add the release.
	if len(kp.TopologySpreadConstraints) != len(hp.TopologySpreadConstraints) {
		t.Errorf("topology spread: kustomize %v, chart %v", kp.TopologySpreadConstraints, hp.TopologySpreadConstraints)
	} else {
		for i := range kp.TopologySpreadConstraints {
			kc, hc := kp.TopologySpreadConstraints[i], hp.TopologySpreadConstraints[i]
			subset(t, "topology spread selector", toAny(kc.LabelSelector.MatchLabels), toAny(hc.LabelSelector.MatchLabels))
			kc.LabelSelector, hc.LabelSelector = nil, nil
			same(t, fmt.Sprintf("topology spread %d", i), kc, hc)
		}
	}
	same(t, "volumes", normalizeVolumes(t, kp), normalizeVolumes(t, hp))
	if len(kp.Containers) != len(hp.Containers) {
		t.Fatalf("containers: kustomize %d, chart %d", len(kp.Containers), len(hp.Containers))
	}
	for i := range kp.Containers {
		kc, hc := &kp.Containers[i], &hp.Containers[i]
		c := "container " + kc.Name + ": "
		same(t, c+"name", kc.Name, hc.Name)
		same(t, c+"image", kc.Image, hc.Image)
		same(t, c+"imagePullPolicy", kc.ImagePullPolicy, hc.ImagePullPolicy)
		same(t, c+"args", kc.Args, hc.Args)
		same(t, c+"env", kc.Env, hc.Env)
		same(t, c+"ports", kc.Ports, hc.Ports)
		same(t, c+"readinessProbe", kc.ReadinessProbe, hc.ReadinessProbe)
		same(t, c+"livenessProbe", kc.LivenessProbe, hc.LivenessProbe)
		same(t, c+"resources", kc.Resources, hc.Resources)
		same(t, c+"securityContext", kc.SecurityContext, hc.SecurityContext)
		same(t, c+"volumeMounts", kc.VolumeMounts, hc.VolumeMounts)
	}
}

// normalizeVolumes drops the content hash of the configuration's
// ConfigMap name.
func normalizeVolumes(t *testing.T, p *corev1.PodSpec) any {
	t.Helper()
	var out []map[string]any
	for _, v := range p.Volumes {
		m := map[string]any{}
		if err := json.Unmarshal(mustJSON(t, v), &m); err != nil {
			t.Fatal(err)
		}
		if v.ConfigMap != nil {
			m["configMap"] = map[string]any{"name": hashSuffix.ReplaceAllString(v.ConfigMap.Name, "")}
		}
		out = append(out, m)
	}
	return out
}

func toAny(m map[string]string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// compareWebhooks compares every entry, in order, except the caBundle
// (made at install, or injected), whose presence must match.
func compareWebhooks(t *testing.T, k, h *admissionregistrationv1.ValidatingWebhookConfiguration) {
	t.Helper()
	same(t, "CA injection", k.Annotations["cert-manager.io/inject-ca-from"], h.Annotations["cert-manager.io/inject-ca-from"])
	if len(k.Webhooks) != len(h.Webhooks) {
		t.Fatalf("entries: kustomize %d, chart %d", len(k.Webhooks), len(h.Webhooks))
	}
	names := func(ws []admissionregistrationv1.ValidatingWebhook) []string {
		var out []string
		for _, w := range ws {
			out = append(out, w.Name)
		}
		return out
	}
	if !slices.Equal(names(k.Webhooks), names(h.Webhooks)) {
		t.Errorf("entries: kustomize %v, chart %v", names(k.Webhooks), names(h.Webhooks))
	}
	for i := range k.Webhooks {
		kw, hw := k.Webhooks[i], h.Webhooks[i]
		if (len(kw.ClientConfig.CABundle) > 0) != (len(hw.ClientConfig.CABundle) > 0) {
			t.Errorf("%s: caBundle in kustomize %v, in the chart %v", kw.Name, len(kw.ClientConfig.CABundle) > 0, len(hw.ClientConfig.CABundle) > 0)
		}
		kw.ClientConfig.CABundle, hw.ClientConfig.CABundle = nil, nil
		w := kw.Name + ": "
		same(t, w+"clientConfig", kw.ClientConfig, hw.ClientConfig)
		same(t, w+"rules", kw.Rules, hw.Rules)
		same(t, w+"namespaceSelector", kw.NamespaceSelector, hw.NamespaceSelector)
		same(t, w+"objectSelector", kw.ObjectSelector, hw.ObjectSelector)
		same(t, w+"failurePolicy", kw.FailurePolicy, hw.FailurePolicy)
		same(t, w+"matchPolicy", kw.MatchPolicy, hw.MatchPolicy)
		same(t, w+"sideEffects", kw.SideEffects, hw.SideEffects)
		same(t, w+"timeoutSeconds", kw.TimeoutSeconds, hw.TimeoutSeconds)
		same(t, w+"admissionReviewVersions", kw.AdmissionReviewVersions, hw.AdmissionReviewVersions)
		same(t, w+"matchConditions", kw.MatchConditions, hw.MatchConditions)
		// Whatever else an entry may say (reinvocation, say).
		kw.ClientConfig, hw.ClientConfig = admissionregistrationv1.WebhookClientConfig{}, admissionregistrationv1.WebhookClientConfig{}
		kw.Rules, hw.Rules = nil, nil
		kw.NamespaceSelector, hw.NamespaceSelector = nil, nil
		kw.ObjectSelector, hw.ObjectSelector = nil, nil
		kw.FailurePolicy, hw.FailurePolicy = nil, nil
		kw.MatchPolicy, hw.MatchPolicy = nil, nil
		kw.SideEffects, hw.SideEffects = nil, nil
		kw.TimeoutSeconds, hw.TimeoutSeconds = nil, nil
		kw.AdmissionReviewVersions, hw.AdmissionReviewVersions = nil, nil
		kw.MatchConditions, hw.MatchConditions = nil, nil
		same(t, w+"other fields", kw, hw)
	}
}
