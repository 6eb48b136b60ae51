package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"

	"github.com/tokenguard/tokenguard/pkg/workload"
)

func build(t *testing.T, overlay string) []map[string]any {
	t.Helper()
	objs, err := Build(t.TempDir(), overlay)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func find[T any](t *testing.T, objs []map[string]any, kind string) *T {
	t.Helper()
	for _, o := range objs {
		if o["kind"] == kind {
			data, _ := json.Marshal(o)
			var v T
			if err := json.Unmarshal(data, &v); err != nil {
				t.Fatal(err)
			}
			return &v
		}
	}
	t.Fatalf("no %s", kind)
	return nil
}

func selector(w *admissionregistrationv1.ValidatingWebhook, key string) (op string, values []string) {
	if w.NamespaceSelector == nil {
		return "", nil
	}
	for _, e := range w.NamespaceSelector.MatchExpressions {
		if e.Key == key {
			return string(e.Operator), e.Values
		}
	}
	return "", nil
}

// TestWebhookConfigurationSafety pins the properties of DESIGN.md and issue
// #6 in every overlay.
func TestWebhookConfigurationSafety(t *testing.T) {
	for _, overlay := range Overlays {
		t.Run(overlay, func(t *testing.T) {
			vwc := find[admissionregistrationv1.ValidatingWebhookConfiguration](t, build(t, overlay), "ValidatingWebhookConfiguration")
			if len(vwc.Webhooks) != len(WebhookNames) {
				t.Fatalf("%d entries", len(vwc.Webhooks))
			}
			for i := range vwc.Webhooks {
				w := &vwc.Webhooks[i]
				if w.Name != WebhookNames[i] {
					t.Errorf("entry %d is %s, want %s", i, w.Name, WebhookNames[i])
				}
				if w.SideEffects == nil || *w.SideEffects != admissionregistrationv1.SideEffectClassNone {
					t.Errorf("%s: sideEffects must be None", w.Name)
				}
				if w.MatchPolicy == nil || *w.MatchPolicy != admissionregistrationv1.Equivalent {
					t.Errorf("%s: matchPolicy must be Equivalent", w.Name)
				}
				if !slices.Equal(w.AdmissionReviewVersions, []string{"v1"}) {
					t.Errorf("%s: admissionReviewVersions %v", w.Name, w.AdmissionReviewVersions)
				}
				// Above the 2 s evidence budget, well below the 30 s maximum.
				if w.TimeoutSeconds == nil || *w.TimeoutSeconds < 3 || *w.TimeoutSeconds > 10 {
					t.Errorf("%s: timeoutSeconds %v", w.Name, w.TimeoutSeconds)
				}
				op, ns := selector(w, "kubernetes.io/metadata.name")
				ownExcluded := op == "NotIn" && slices.Contains(ns, "tokenguard-system") || op == "In" && !slices.Contains(ns, "tokenguard-system")
				if !ownExcluded {
					t.Errorf("%s: tokenguard-system is not excluded (%s %v)", w.Name, op, ns)
				}
				fail := w.FailurePolicy != nil && *w.FailurePolicy == admissionregistrationv1.Fail
				// Pods, and the ephemeral containers added to them.
				podsOnly := len(w.Rules) > 0
				for _, r := range w.Rules {
					for _, res := range r.Resources {
						podsOnly = podsOnly && (res == "pods" || res == ephemeralContainers)
					}
				}
				modeOp, modes := selector(w, "tokenguard.io/mode")
				enforcing := modeOp == "In" && slices.Equal(modes, []string{"enforce"}) || modeOp == "NotIn" && !slices.Contains(modes, "enforce")
				if fail && !(podsOnly && enforcing) {
					t.Errorf("%s: failurePolicy Fail outside enforce Pods", w.Name)
				}
				if fail && (op == "In" && slices.Contains(ns, "kube-system") || op == "NotIn" && !slices.Contains(ns, "kube-system")) {
					t.Errorf("%s: kube-system can fail closed", w.Name)
				}
				for _, r := range w.Rules {
					if slices.Contains(r.Resources, "pods") && slices.Contains(r.Operations, admissionregistrationv1.Update) {
						t.Errorf("%s: pods on UPDATE", w.Name)
					}
					for _, res := range r.Resources {
						if strings.Contains(res, "/") && (res != ephemeralContainers || !slices.Equal(r.Operations, []admissionregistrationv1.OperationType{admissionregistrationv1.Update})) {
							t.Errorf("%s: subresource %s on %v", w.Name, res, r.Operations)
						}
					}
				}
				if w.ClientConfig.Service == nil || w.ClientConfig.Service.Namespace != "tokenguard-system" || w.ClientConfig.Service.Name != "tokenguard" {
					t.Errorf("%s: clientConfig %+v", w.Name, w.ClientConfig)
				}
				if overlay == "overlays/self-signed" && len(w.ClientConfig.CABundle) == 0 {
					t.Errorf("%s: no caBundle", w.Name)
				}
			}
			failClosed := 0
			for i := range vwc.Webhooks {
				if p := vwc.Webhooks[i].FailurePolicy; p != nil && *p == admissionregistrationv1.Fail {
					failClosed++
				}
			}
			if failClosed != 1 {
				t.Errorf("%d fail-closed entries, want exactly enforce-pods", failClosed)
			}
			if overlay == "overlays/cert-manager" && vwc.Annotations["cert-manager.io/inject-ca-from"] != "tokenguard-system/tokenguard" {
				t.Errorf("no CA injection annotation: %v", vwc.Annotations)
			}
		})
	}
}

// TestWebhookRulesCoverKinds holds the webhook configuration against the
// one table of workload kinds (workload.Kinds): in every mode, in an
// ordinary namespace and in kube-system, the API server sends every kind
// of the table to the mode's path, on CREATE, and on UPDATE when the kind
// is judged on UPDATE (never otherwise); the namespace preview gets
// namespaces; and no rule names anything else.
func TestWebhookRulesCoverKinds(t *testing.T) {
	type namespace struct {
		name, mode string // mode "" is unlabelled
		path       string // where its workloads go, "" for nowhere (unlabelled: set below, per overlay)
	}
	namespaces := []namespace{
		{"prod", "enforce", "/validate/enforce"},
		{"prod", "warn", "/validate/warn"},
		{"prod", "", ""}, // the cluster default
		{"prod", "audit", "/validate/audit"},
		{"prod", "off", ""},
		{"kube-system", "enforce", "/validate/enforce"},
		{"kube-system", "", ""},
		{"tokenguard-system", "enforce", ""},
	}
	kinds := workload.Kinds()
	for _, overlay := range Overlays {
		t.Run(overlay, func(t *testing.T) {
			vwc := find[admissionregistrationv1.ValidatingWebhookConfiguration](t, build(t, overlay), "ValidatingWebhookConfiguration")
			for _, ns := range namespaces {
				if ns.mode == "" {
					ns.path = "/validate/warn"
					if overlay == "overlays/enforce-default" {
						ns.path = "/validate/enforce"
					}
				}
				set := labels.Set{"kubernetes.io/metadata.name": ns.name}
				if ns.mode != "" {
					set["tokenguard.io/mode"] = ns.mode
				}
				// ops[path][group/resource] are the operations sent there.
				ops := map[string]map[string][]admissionregistrationv1.OperationType{}
				for i := range vwc.Webhooks {
					w := &vwc.Webhooks[i]
					sel, err := metav1.LabelSelectorAsSelector(w.NamespaceSelector)
					if err != nil {
						t.Fatalf("%s: %v", w.Name, err)
					}
					if !sel.Matches(set) || w.ClientConfig.Service == nil || w.ClientConfig.Service.Path == nil {
						continue
					}
					path := *w.ClientConfig.Service.Path
					for _, r := range w.Rules {
						if r.Scope == nil || *r.Scope != admissionregistrationv1.NamespacedScope {
							continue
						}
						for _, g := range r.APIGroups {
							for _, res := range r.Resources {
								if ops[path] == nil {
									ops[path] = map[string][]admissionregistrationv1.OperationType{}
								}
								ops[path][g+"/"+res] = append(ops[path][g+"/"+res], r.Operations...)
							}
						}
					}
				}
				for path := range ops {
					if path != ns.path {
						t.Errorf("namespace %s labelled %q: workloads go to %s, want only %q", ns.name, ns.mode, path, ns.path)
					}
				}
				if ns.path == "" {
					continue
				}
				// kubectl debug's ephemeral containers go wherever Pods do,
				// on UPDATE (issue #13).
				if got := ops[ns.path]["/"+ephemeralContainers]; !slices.Equal(got, []admissionregistrationv1.OperationType{admissionregistrationv1.Update}) {
					t.Errorf("namespace %s labelled %q: %s sent to %s on %v, want UPDATE", ns.name, ns.mode, ephemeralContainers, ns.path, got)
				}
				for _, k := range kinds {
					got := ops[ns.path][k.Group+"/"+k.Resource]
					if !slices.Contains(got, admissionregistrationv1.Create) {
						t.Errorf("namespace %s labelled %q: %s/%s %s not sent to %s on CREATE (operations %v)", ns.name, ns.mode, k.Group, k.Version, k.Resource, ns.path, got)
					}
					if slices.Contains(got, admissionregistrationv1.Update) != k.JudgedOnUpdate {
						t.Errorf("namespace %s labelled %q: %s on UPDATE is %v, the table says %v", ns.name, ns.mode, k.Resource, !k.JudgedOnUpdate, k.JudgedOnUpdate)
					}
				}
			}
			// Every rule names a kind of the table, in its group and served
			// version, or namespaces for the preview.
			preview := false
			for i := range vwc.Webhooks {
				w := &vwc.Webhooks[i]
				for _, r := range w.Rules {
					for _, res := range r.Resources {
						if res == "namespaces" && slices.Equal(r.APIGroups, []string{""}) {
							preview = w.Name == "namespace-preview.tokenguard.io" &&
								slices.Contains(r.Operations, admissionregistrationv1.Create) && slices.Contains(r.Operations, admissionregistrationv1.Update)
							continue
						}
						if res == ephemeralContainers && slices.Equal(r.APIGroups, []string{""}) && slices.Equal(r.APIVersions, []string{"v1"}) {
							continue
						}
						i := slices.IndexFunc(kinds, func(k workload.Kind) bool { return k.Resource == res })
						if i < 0 {
							t.Errorf("%s: %s is not a workload kind of the table (pkg/workload/kinds.go)", w.Name, res)
							continue
						}
						if k := kinds[i]; !slices.Equal(r.APIGroups, []string{k.Group}) || !slices.Equal(r.APIVersions, []string{k.Version}) {
							t.Errorf("%s: %s in groups %q versions %q, want %q %q", w.Name, res, r.APIGroups, r.APIVersions, k.Group, k.Version)
						}
					}
				}
			}
			if !preview {
				t.Error("the namespace preview does not get namespaces on CREATE and UPDATE")
			}
		})
	}
}

// ephemeralContainers is the subresource through which `kubectl debug` adds
// containers to a Pod; the only subresource the webhook is sent.
const ephemeralContainers = "pods/ephemeralcontainers"

func TestDeploymentSafety(t *testing.T) {
	for _, overlay := range Overlays {
		t.Run(overlay, func(t *testing.T) {
			objs := build(t, overlay)
			d := find[appsv1.Deployment](t, objs, "Deployment")
			if d.Namespace != "tokenguard-system" || d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
				t.Errorf("namespace %s replicas %v", d.Namespace, d.Spec.Replicas)
			}
			p := &d.Spec.Template.Spec
			if p.PriorityClassName != "system-cluster-critical" || len(p.TopologySpreadConstraints) == 0 {
				t.Errorf("priority %q spread %v", p.PriorityClassName, p.TopologySpreadConstraints)
			}
			if p.SecurityContext == nil || p.SecurityContext.RunAsNonRoot == nil || !*p.SecurityContext.RunAsNonRoot {
				t.Error("pod not runAsNonRoot")
			}
			c := &p.Containers[0]
			sc := c.SecurityContext
			if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
				sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
				sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") ||
				sc.SeccompProfile == nil || sc.SeccompProfile.Type != "RuntimeDefault" {
				t.Errorf("container security context not restricted: %+v", sc)
			}
			if c.ReadinessProbe == nil || c.LivenessProbe == nil || c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
				t.Error("probes or resources missing")
			}
			var delay, grace time.Duration
			for _, a := range c.Args {
				if v, ok := strings.CutPrefix(a, "--shutdown-delay="); ok {
					delay, _ = time.ParseDuration(v)
				}
				if v, ok := strings.CutPrefix(a, "--shutdown-grace="); ok {
					grace, _ = time.ParseDuration(v)
				}
			}
			if delay <= 0 || grace <= 0 || p.TerminationGracePeriodSeconds == nil || time.Duration(*p.TerminationGracePeriodSeconds)*time.Second <= delay+grace {
				t.Errorf("termination grace %v not above --shutdown-delay %v plus --shutdown-grace %v", p.TerminationGracePeriodSeconds, delay, grace)
			}
			checkGOMEMLIMIT(t, c)
			kinds := map[string]bool{}
			for _, o := range objs {
				kinds[o["kind"].(string)] = true
			}
			for _, k := range []string{"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "Service", "PodDisruptionBudget"} {
				if !kinds[k] {
					t.Errorf("no %s", k)
				}
			}
			if overlay == "overlays/self-signed" && !kinds["Secret"] {
				t.Error("self-signed overlay has no Secret")
			}
		})
	}
}

// TestComponents builds each component onto every overlay, as an operator's
// overlay would add it, and checks what it is for.
func TestComponents(t *testing.T) {
	for _, overlay := range Overlays {
		objs, err := BuildWithComponents(t.TempDir(), overlay, Components...)
		if err != nil {
			t.Fatalf("%s with %v: %v", overlay, Components, err)
		}
		t.Run(overlay+"/registry-credentials", func(t *testing.T) {
			role := find[rbacv1.ClusterRole](t, objs, "ClusterRole")
			ok := false
			for _, r := range role.Rules {
				if slices.Contains(r.Resources, "secrets") && slices.Contains(r.Resources, "serviceaccounts") &&
					slices.Contains(r.Verbs, "list") && slices.Contains(r.Verbs, "watch") {
					ok = true
				}
			}
			if !ok {
				t.Errorf("ClusterRole %s cannot list and watch secrets and serviceaccounts: %+v", role.Name, role.Rules)
			}
		})
		t.Run(overlay+"/audit-sink", func(t *testing.T) {
			dep := find[appsv1.Deployment](t, objs, "Deployment")
			c := &dep.Spec.Template.Spec.Containers[0]
			args := map[string]string{}
			for _, a := range c.Args {
				if k, v, ok := strings.Cut(a, "="); ok {
					args[k] = v
				}
			}
			if args["--audit-listen"] != ":8444" {
				t.Errorf("--audit-listen = %q, want :8444", args["--audit-listen"])
			}
			// The sink refuses to start without authentication; the token
			// file must be where the Secret is mounted.
			tokens := args["--audit-token-file"]
			mounted := false
			for _, m := range c.VolumeMounts {
				if m.Name == "audit" && m.ReadOnly && strings.HasPrefix(tokens, m.MountPath+"/") {
					mounted = true
				}
			}
			if !mounted {
				t.Errorf("--audit-token-file=%s is not under a read-only mount of volume audit: %+v", tokens, c.VolumeMounts)
			}
			secret := ""
			for _, v := range dep.Spec.Template.Spec.Volumes {
				if v.Name == "audit" && v.Secret != nil {
					secret = v.Secret.SecretName
				}
			}
			if secret != "tokenguard-audit" {
				t.Errorf("volume audit comes from Secret %q, want tokenguard-audit (docs/audit-webhook.md)", secret)
			}
			port := false
			for _, p := range c.Ports {
				port = port || p.Name == "audit" && p.ContainerPort == 8444
			}
			svc := find[corev1.Service](t, objs, "Service")
			svcPort := false
			for _, p := range svc.Spec.Ports {
				svcPort = svcPort || p.Name == "audit" && p.Port == 8444 && p.TargetPort.StrVal == "audit"
			}
			if !port || !svcPort {
				t.Errorf("the audit port: container %v, Service %v", c.Ports, svc.Spec.Ports)
			}
		})
		t.Run(overlay+"/monitoring", func(t *testing.T) {
			svc := find[corev1.Service](t, objs, "Service")
			sm := findMap(t, objs, "ServiceMonitor")
			if ns := nested[string](sm, "metadata", "namespace"); ns != svc.Namespace {
				t.Errorf("ServiceMonitor in %q, Service in %q", ns, svc.Namespace)
			}
			for k, v := range nested[map[string]any](sm, "spec", "selector", "matchLabels") {
				if svc.Labels[k] != v {
					t.Errorf("ServiceMonitor selects %s=%v; the Service has labels %v", k, v, svc.Labels)
				}
			}
			ports := map[string]bool{}
			for _, p := range svc.Spec.Ports {
				ports[p.Name] = true
			}
			endpoints := nested[[]any](sm, "spec", "endpoints")
			if len(endpoints) == 0 {
				t.Fatal("ServiceMonitor has no endpoints")
			}
			for _, e := range endpoints {
				if port, _ := e.(map[string]any)["port"].(string); port != "metrics" || !ports[port] {
					t.Errorf("ServiceMonitor scrapes port %q; the Service's ports are %v (metrics is the plain-HTTP one)", port, ports)
				}
			}
			rule := findMap(t, objs, "PrometheusRule")
			alerts := 0
			for _, g := range nested[[]any](rule, "spec", "groups") {
				for _, r := range g.(map[string]any)["rules"].([]any) {
					r := r.(map[string]any)
					alerts++
					name, _ := r["alert"].(string)
					expr, _ := r["expr"].(string)
					sev := nested[string](r, "labels", "severity")
					summary := nested[string](r, "annotations", "summary")
					desc := nested[string](r, "annotations", "description")
					if name == "" || expr == "" || !slices.Contains([]string{"critical", "warning", "info"}, sev) || summary == "" || len(desc) < 60 {
						t.Errorf("alert %q: needs expr, severity, a summary and a description an operator can act on: %+v", name, r)
					}
					if strings.Count(expr, "(") != strings.Count(expr, ")") {
						t.Errorf("alert %s: unbalanced parentheses in %s", name, expr)
					}
					if strings.Contains(expr, "tokenguard_") && !strings.Contains(expr, `job="tokenguard"`) {
						t.Errorf("alert %s: selects tokenguard's metrics without job=\"tokenguard\": %s", name, expr)
					}
				}
			}
			if alerts < 5 {
				t.Errorf("%d alerts", alerts)
			}
		})
	}
}

func findMap(t *testing.T, objs []map[string]any, kind string) map[string]any {
	t.Helper()
	for _, o := range objs {
		if o["kind"] == kind {
			return o
		}
	}
	t.Fatalf("no %s", kind)
	return nil
}

// nested returns the value at path in m, or T's zero value.
func nested[T any](m map[string]any, path ...string) T {
	var zero T
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return zero
		}
		cur = mm[p]
	}
	v, _ := cur.(T)
	return v
}

// TestMonitoringObjectsDecodeStrictly decodes the monitoring component's
// objects into the Prometheus Operator's own Go types, rejecting unknown
// fields: a misspelt field would otherwise be dropped by the operator (or
// refused by its CRD schema) in the cluster, where no test here can see it.
func TestMonitoringObjectsDecodeStrictly(t *testing.T) {
	objs, err := BuildWithComponents(t.TempDir(), "overlays/self-signed", "components/monitoring")
	if err != nil {
		t.Fatal(err)
	}
	decoded := 0
	for _, o := range objs {
		var into any
		switch o["kind"] {
		case "ServiceMonitor":
			into = &monitoringv1.ServiceMonitor{}
		case "PrometheusRule":
			into = &monitoringv1.PrometheusRule{}
		default:
			continue
		}
		data, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(into); err != nil {
			t.Errorf("%s: not a valid %s: %v", o["kind"], o["kind"], err)
			continue
		}
		decoded++
		if r, ok := into.(*monitoringv1.PrometheusRule); ok {
			for _, g := range r.Spec.Groups {
				for _, rule := range g.Rules {
					if rule.For != nil {
						if _, err := time.ParseDuration(string(*rule.For)); err != nil {
							t.Errorf("alert %s: for %q is not a duration", rule.Alert, *rule.For)
						}
					}
				}
			}
		}
	}
	if decoded != 2 {
		t.Errorf("decoded %d monitoring objects, want the ServiceMonitor and the PrometheusRule", decoded)
	}
}

// checkGOMEMLIMIT: the Go runtime's soft limit sits at 80-95% of the
// container's memory limit, so the GC works harder before the kernel
// OOM-kills (issue #13).
func checkGOMEMLIMIT(t *testing.T, c *corev1.Container) {
	t.Helper()
	limit := c.Resources.Limits.Memory().Value()
	var value string
	for _, e := range c.Env {
		if e.Name == "GOMEMLIMIT" {
			value = e.Value
		}
	}
	n, err := parseGoMemLimit(value)
	if err != nil {
		t.Errorf("GOMEMLIMIT %q: %v", value, err)
		return
	}
	if n < limit*80/100 || n > limit*95/100 {
		t.Errorf("GOMEMLIMIT %s is %d%% of limits.memory %d; want 80-95%%", value, n*100/limit, limit)
	}
}

// parseGoMemLimit reads GOMEMLIMIT as the Go runtime does: an integer with
// an optional B, KiB, MiB, GiB or TiB suffix.
func parseGoMemLimit(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = v, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("not a size in bytes (e.g. 230MiB)")
	}
	return n * mult, nil
}
