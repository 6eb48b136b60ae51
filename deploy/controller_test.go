package deploy

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
)

// TestControllerComponent renders components/controller into the
// self-signed overlay: two replicas of `tokenguard controller` in the
// webhook's namespace, restricted like the webhook, with the configuration
// of the base, its identity from the downward API, and RBAC that reads pods
// and their owners, writes reports and holds only its own Lease.
func TestControllerComponent(t *testing.T) {
	objs, err := BuildWithComponents(t.TempDir(), "overlays/self-signed", "components/controller")
	if err != nil {
		t.Fatal(err)
	}
	var d *appsv1.Deployment
	var webhook *appsv1.Deployment
	rules := map[string][]rbacv1.PolicyRule{}
	namespaces := map[string]string{}
	for _, o := range objs {
		data, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		md, _ := o["metadata"].(map[string]any)
		name, _ := md["name"].(string)
		ns, _ := md["namespace"].(string)
		if strings.HasPrefix(name, "tokenguard-controller") {
			namespaces[o["kind"].(string)+"/"+name] = ns
		}
		switch o["kind"] {
		case "Deployment":
			var x appsv1.Deployment
			if err := json.Unmarshal(data, &x); err != nil {
				t.Fatal(err)
			}
			if x.Name == "tokenguard-controller" {
				d = &x
			} else {
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
	checkGOMEMLIMIT(t, &c)
	env := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil {
			env[e.Name] = e.ValueFrom.FieldRef.FieldPath
		}
	}
	if env["POD_NAME"] != "metadata.name" || env["POD_NAMESPACE"] != "metadata.namespace" {
		t.Errorf("identity and Lease namespace from the downward API: %v", env)
	}
	// The configuration is the base's (its generated, hashed name).
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
	can := func(key, group, resource, verb string) bool {
		for _, r := range rules[key] {
			if slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) && slices.Contains(r.Verbs, verb) {
				return true
			}
		}
		return false
	}
	for _, need := range [][3]string{{"", "pods", "watch"}, {"", "serviceaccounts", "list"}, {"apps", "replicasets", "list"}, {"batch", "jobs", "watch"}, {"openreports.io", "reports", "update"}, {"wgpolicyk8s.io", "policyreports", "create"}} {
		if !can("ClusterRole/tokenguard-controller", need[0], need[1], need[2]) {
			t.Errorf("the controller may not %s %s.%s", need[2], need[1], need[0])
		}
	}
	for _, never := range [][3]string{{"", "secrets", "get"}, {"", "pods", "delete"}, {"", "pods", "create"}} {
		if can("ClusterRole/tokenguard-controller", never[0], never[1], never[2]) {
			t.Errorf("the controller may %s %s: more than it needs", never[2], never[1])
		}
	}
	for _, r := range rules["Role/tokenguard-controller-lease"] {
		if slices.Contains(r.Verbs, "update") && !slices.Equal(r.ResourceNames, []string{"tokenguard-controller"}) {
			t.Errorf("the controller may update Leases %v, want only its own", r.ResourceNames)
		}
	}
}
