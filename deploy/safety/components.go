package safety

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
)

// RegistryCredentials: the webhook's ClusterRole may list and watch
// secrets and service accounts (registry.pullSecrets reads them through
// informer caches).
func RegistryCredentials(t testing.TB, objs []map[string]any, in Install) {
	t.Helper()
	role := Find[rbacv1.ClusterRole](t, objs, "ClusterRole", in.Name)
	if !canReadPullSecrets(role.Rules) {
		t.Errorf("ClusterRole %s cannot list and watch secrets and serviceaccounts: %+v", role.Name, role.Rules)
	}
}

// NoRegistryCredentials: without the option, the webhook reads no secrets.
func NoRegistryCredentials(t testing.TB, objs []map[string]any, in Install) {
	t.Helper()
	role := Find[rbacv1.ClusterRole](t, objs, "ClusterRole", in.Name)
	for _, r := range role.Rules {
		if slices.Contains(r.Resources, "secrets") {
			t.Errorf("ClusterRole %s reads secrets without the registry-credentials option: %+v", role.Name, r)
		}
	}
}

func canReadPullSecrets(rules []rbacv1.PolicyRule) bool {
	for _, r := range rules {
		if slices.Contains(r.Resources, "secrets") && slices.Contains(r.Resources, "serviceaccounts") &&
			slices.Contains(r.Verbs, "list") && slices.Contains(r.Verbs, "watch") {
			return true
		}
	}
	return false
}

// AuditSink: the audit-webhook listener on :8444, authenticated by a token
// file under a read-only mount of the Secret tokenguard-audit, with the
// port on the container and the Service.
func AuditSink(t testing.TB, objs []map[string]any, in Install) {
	t.Helper()
	dep := Find[appsv1.Deployment](t, objs, "Deployment", in.Name)
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
	// The sink refuses to start without authentication; the token file
	// must be where the Secret is mounted.
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
	svc := Find[corev1.Service](t, objs, "Service", in.Name)
	svcPort := false
	for _, p := range svc.Spec.Ports {
		svcPort = svcPort || p.Name == "audit" && p.Port == 8444 && p.TargetPort.StrVal == "audit"
	}
	if !port || !svcPort {
		t.Errorf("the audit port: container %v, Service %v", c.Ports, svc.Spec.Ports)
	}
	// Each replica publishes its observations to its own ConfigMap, named
	// after its Pod, for the controller's reports.
	env := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil {
			env[e.Name] = e.ValueFrom.FieldRef.FieldPath
		}
	}
	if env["POD_NAME"] != "metadata.name" || env["POD_NAMESPACE"] != "metadata.namespace" {
		t.Errorf("the webhook's identity for publishing stale tokens, from the downward API: %v", env)
	}
	checkGrants(t, "the webhook", Grants(t, objs, dep.Namespace, in.Name),
		[]Grant{{dep.Namespace, "", "configmaps", "get"}, {dep.Namespace, "", "configmaps", "create"}, {dep.Namespace, "", "configmaps", "update"}},
		[]Grant{{dep.Namespace, "", "configmaps", "delete"}, {"", "", "configmaps", "update"}})
}

// Monitoring: a ServiceMonitor beside the Service, selecting it, scraping
// the plain-HTTP metrics port; and a PrometheusRule of at least five
// alerts, each with an expression, a severity, a summary and a description
// an operator can act on, selecting tokenguard's metrics by the Service's
// job label.
func Monitoring(t testing.TB, objs []map[string]any, in Install) {
	t.Helper()
	svc := Find[corev1.Service](t, objs, "Service", in.Name)
	sm := FindMap(t, objs, "ServiceMonitor", "")
	if ns := Nested[string](sm, "metadata", "namespace"); ns != svc.Namespace {
		t.Errorf("ServiceMonitor in %q, Service in %q", ns, svc.Namespace)
	}
	for k, v := range Nested[map[string]any](sm, "spec", "selector", "matchLabels") {
		if svc.Labels[k] != v {
			t.Errorf("ServiceMonitor selects %s=%v; the Service has labels %v", k, v, svc.Labels)
		}
	}
	if names := Nested[[]any](sm, "spec", "namespaceSelector", "matchNames"); len(names) > 0 && !slices.Contains(names, any(svc.Namespace)) {
		t.Errorf("ServiceMonitor looks in namespaces %v, the Service is in %s", names, svc.Namespace)
	}
	ports := map[string]bool{}
	for _, p := range svc.Spec.Ports {
		ports[p.Name] = true
	}
	endpoints := Nested[[]any](sm, "spec", "endpoints")
	if len(endpoints) == 0 {
		t.Fatal("ServiceMonitor has no endpoints")
	}
	for _, e := range endpoints {
		if port, _ := e.(map[string]any)["port"].(string); port != "metrics" || !ports[port] {
			t.Errorf("ServiceMonitor scrapes port %q; the Service's ports are %v (metrics is the plain-HTTP one)", port, ports)
		}
	}
	// Prometheus names the job after the Service.
	job := `job="` + svc.Name + `"`
	rule := FindMap(t, objs, "PrometheusRule", "")
	if ns := Nested[string](rule, "metadata", "namespace"); ns != svc.Namespace {
		t.Errorf("PrometheusRule in %q, Service in %q", ns, svc.Namespace)
	}
	alerts := 0
	for _, g := range Nested[[]any](rule, "spec", "groups") {
		for _, r := range g.(map[string]any)["rules"].([]any) {
			r := r.(map[string]any)
			alerts++
			name, _ := r["alert"].(string)
			expr, _ := r["expr"].(string)
			sev := Nested[string](r, "labels", "severity")
			summary := Nested[string](r, "annotations", "summary")
			desc := Nested[string](r, "annotations", "description")
			if name == "" || expr == "" || !slices.Contains([]string{"critical", "warning", "info"}, sev) || summary == "" || len(desc) < 60 {
				t.Errorf("alert %q: needs expr, severity, a summary and a description an operator can act on: %+v", name, r)
			}
			if strings.Count(expr, "(") != strings.Count(expr, ")") {
				t.Errorf("alert %s: unbalanced parentheses in %s", name, expr)
			}
			if strings.Contains(expr, "tokenguard_") && !strings.Contains(expr, job) {
				t.Errorf("alert %s: selects tokenguard's metrics without %s: %s", name, job, expr)
			}
			if strings.Contains(expr, "up{") && !strings.Contains(expr, `namespace="`+svc.Namespace+`"`) {
				t.Errorf("alert %s: looks for tokenguard outside its namespace %s: %s", name, svc.Namespace, expr)
			}
		}
	}
	if alerts < 5 {
		t.Errorf("%d alerts", alerts)
	}
}

// MonitoringDecodesStrictly decodes the ServiceMonitor and the
// PrometheusRule into the Prometheus Operator's own Go types, rejecting
// unknown fields: a misspelt field would otherwise be dropped by the
// operator (or refused by its CRD schema) in the cluster, where no test
// here can see it. Each alert's for: is a duration.
func MonitoringDecodesStrictly(t testing.TB, objs []map[string]any) {
	t.Helper()
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

// Dashboard: a ConfigMap in the webhook's namespace, labelled
// grafana_dashboard=1 (the label the Grafana sidecar of
// kube-prometheus-stack loads), holds dashboard, as grafana-dashboard.json.
func Dashboard(t testing.TB, objs []map[string]any, in Install, dashboard []byte) {
	t.Helper()
	for _, o := range objs {
		if o["kind"] != "ConfigMap" {
			continue
		}
		labels := Nested[map[string]any](o, "metadata", "labels")
		d, _ := o["data"].(map[string]any)
		if labels["grafana_dashboard"] == "1" && d["grafana-dashboard.json"] == string(dashboard) {
			if ns := Nested[string](o, "metadata", "namespace"); ns != in.Namespace {
				t.Errorf("the dashboard's ConfigMap is in namespace %q, not %s", ns, in.Namespace)
			}
			return
		}
	}
	t.Error("no ConfigMap labelled grafana_dashboard=1 holding grafana-dashboard.json")
}

// Controller: two replicas of `tokenguard controller` in the webhook's
// namespace, restricted like the webhook, with GOMEMLIMIT in step, of the
// webhook's image and configuration, its identity from the downward API,
// and RBAC that reads pods and their owners, writes reports and holds only
// its own Lease.
func Controller(t testing.TB, objs []map[string]any, in Install) {
	t.Helper()
	var d *appsv1.Deployment
	var webhook *appsv1.Deployment
	rules := map[string][]rbacv1.PolicyRule{}
	namespaces := map[string]string{}
	for _, o := range objs {
		data, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		name := Nested[string](o, "metadata", "name")
		ns := Nested[string](o, "metadata", "namespace")
		if strings.HasPrefix(name, in.ControllerName()) {
			namespaces[o["kind"].(string)+"/"+name] = ns
		}
		switch o["kind"] {
		case "Deployment":
			var x appsv1.Deployment
			if err := json.Unmarshal(data, &x); err != nil {
				t.Fatal(err)
			}
			switch x.Name {
			case in.ControllerName():
				d = &x
			case in.Name:
				webhook = &x
			}
		case "ClusterRole", "Role":
			var r rbacv1.ClusterRole
			if err := json.Unmarshal(data, &r); err != nil {
				t.Fatal(err)
			}
			rules[o["kind"].(string)+"/"+r.Name] = r.Rules
		}
	}
	if d == nil || webhook == nil {
		t.Fatal("no controller Deployment rendered beside the webhook's")
	}
	for k, ns := range namespaces {
		if ns != "" && ns != webhook.Namespace {
			t.Errorf("%s in namespace %q, the webhook in %q", k, ns, webhook.Namespace)
		}
	}
	if d.Namespace != webhook.Namespace {
		t.Errorf("controller in %q, webhook in %q", d.Namespace, webhook.Namespace)
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("replicas %v, want 2 (a leader and a standby)", d.Spec.Replicas)
	}
	c := d.Spec.Template.Spec.Containers[0]
	if len(c.Args) == 0 || c.Args[0] != "controller" || c.Image != webhook.Spec.Template.Spec.Containers[0].Image {
		t.Errorf("container runs %v of %s, want controller of the webhook's image", c.Args, c.Image)
	}
	sc := c.SecurityContext
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Errorf("container security context not restricted: %+v", sc)
	}
	GOMEMLIMIT(t, &c)
	env := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil {
			env[e.Name] = e.ValueFrom.FieldRef.FieldPath
		}
	}
	if env["POD_NAME"] != "metadata.name" || env["POD_NAMESPACE"] != "metadata.namespace" {
		t.Errorf("identity and Lease namespace from the downward API: %v", env)
	}
	// The configuration is the webhook's (its generated, hashed name).
	var config string
	for _, v := range webhook.Spec.Template.Spec.Volumes {
		if v.ConfigMap != nil {
			config = v.ConfigMap.Name
		}
	}
	found := false
	for _, v := range d.Spec.Template.Spec.Volumes {
		found = found || v.ConfigMap != nil && v.ConfigMap.Name == config
	}
	if !found {
		t.Errorf("the controller does not mount the webhook's configuration %q", config)
	}
	role := "ClusterRole/" + in.ControllerName()
	can := func(key, group, resource, verb string) bool {
		for _, r := range rules[key] {
			if slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) && slices.Contains(r.Verbs, verb) {
				return true
			}
		}
		return false
	}
	for _, need := range [][3]string{{"", "pods", "watch"}, {"", "serviceaccounts", "list"}, {"apps", "replicasets", "list"}, {"batch", "jobs", "watch"}, {"openreports.io", "reports", "update"}, {"wgpolicyk8s.io", "policyreports", "create"}} {
		if !can(role, need[0], need[1], need[2]) {
			t.Errorf("the controller may not %s %s.%s", need[2], need[1], need[0])
		}
	}
	for _, never := range [][3]string{{"", "secrets", "get"}, {"", "pods", "delete"}, {"", "pods", "create"}} {
		if can(role, never[0], never[1], never[2]) {
			t.Errorf("the controller may %s %s: more than it needs", never[2], never[1])
		}
	}
	// Shared evidence: the controller writes and deletes ImageEvidence, the
	// webhook's replicas read and write it but never delete; the CRD comes
	// with the component. Stale tokens: the controller lists (and deletes
	// stale) the sinks' ConfigMaps in its own namespace only.
	ns := webhook.Namespace
	checkGrants(t, "the controller", Grants(t, objs, ns, in.ControllerName()),
		[]Grant{{"", "tokenguard.io", "imageevidences", "watch"}, {"", "tokenguard.io", "imageevidences", "create"}, {"", "tokenguard.io", "imageevidences", "delete"},
			{"", "tokenguard.io", "imageevidences/status", "update"}, {ns, "", "configmaps", "list"}, {ns, "", "configmaps", "delete"}},
		[]Grant{{"", "", "configmaps", "list"}, {ns, "", "configmaps", "update"}, {ns, "", "secrets", "list"}})
	checkGrants(t, "the webhook", Grants(t, objs, ns, in.Name),
		[]Grant{{"", "tokenguard.io", "imageevidences", "list"}, {"", "tokenguard.io", "imageevidences", "watch"}, {"", "tokenguard.io", "imageevidences", "create"},
			{"", "tokenguard.io", "imageevidences", "update"}, {"", "tokenguard.io", "imageevidences/status", "update"}},
		[]Grant{{"", "tokenguard.io", "imageevidences", "delete"}})
	crd := false
	for _, o := range objs {
		crd = crd || o["kind"] == "CustomResourceDefinition" && Nested[string](o, "metadata", "name") == "imageevidences.tokenguard.io"
	}
	if !crd {
		t.Error("the ImageEvidence CRD (deploy/crds) does not come with the controller")
	}
	leaseRules := rules["Role/"+in.ControllerName()+"-lease"]
	if len(leaseRules) == 0 {
		t.Errorf("no Role %s-lease for the controller's Lease", in.ControllerName())
	}
	for _, r := range leaseRules {
		if slices.Contains(r.Verbs, "update") && !slices.Equal(r.ResourceNames, []string{LeaseName}) {
			t.Errorf("the controller may update Leases %v, want only its own", r.ResourceNames)
		}
	}
}
