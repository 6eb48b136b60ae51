package safety

import (
	"encoding/json"
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

// Grant is one permission: a verb on a resource of an API group, in a
// namespace ("" for a ClusterRole's, which hold everywhere).
type Grant struct{ Namespace, Group, Resource, Verb string }

// Grants returns what the service account namespace/name may do: the rules
// of every Role and ClusterRole bound to it by the objects' RoleBindings
// and ClusterRoleBindings (a RoleBinding's grants hold in its namespace).
func Grants(t testing.TB, objs []map[string]any, namespace, name string) map[Grant]bool {
	t.Helper()
	rules := map[string][]rbacv1.PolicyRule{} // "Kind/namespace/name"
	type binding struct {
		kind, namespace string
		ref             rbacv1.RoleRef
		subjects        []rbacv1.Subject
	}
	var bindings []binding
	for _, o := range objs {
		kind, _ := o["kind"].(string)
		data, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		switch kind {
		case "Role", "ClusterRole":
			var r rbacv1.Role
			if err := json.Unmarshal(data, &r); err != nil {
				t.Fatal(err)
			}
			rules[kind+"/"+r.Namespace+"/"+r.Name] = r.Rules
		case "RoleBinding", "ClusterRoleBinding":
			var b rbacv1.RoleBinding
			if err := json.Unmarshal(data, &b); err != nil {
				t.Fatal(err)
			}
			bindings = append(bindings, binding{kind, b.Namespace, b.RoleRef, b.Subjects})
		}
	}
	out := map[Grant]bool{}
	for _, b := range bindings {
		if !slices.ContainsFunc(b.subjects, func(s rbacv1.Subject) bool {
			return s.Kind == "ServiceAccount" && s.Name == name && s.Namespace == namespace
		}) {
			continue
		}
		key := b.ref.Kind + "/" + b.namespace + "/" + b.ref.Name
		if b.ref.Kind == "ClusterRole" {
			key = "ClusterRole//" + b.ref.Name
		}
		ns := ""
		if b.kind == "RoleBinding" {
			ns = b.namespace
		}
		for _, r := range rules[key] {
			for _, g := range r.APIGroups {
				for _, res := range r.Resources {
					for _, v := range r.Verbs {
						out[Grant{ns, g, res, v}] = true
					}
				}
			}
		}
	}
	return out
}

// in reports whether grants allow g (in its namespace, or everywhere).
func (g Grant) in(grants map[Grant]bool) bool {
	return grants[g] || grants[Grant{"", g.Group, g.Resource, g.Verb}]
}

// checkGrants fails for each of want the grants lack and each of never
// they hold.
func checkGrants(t testing.TB, who string, grants map[Grant]bool, want, never []Grant) {
	t.Helper()
	for _, g := range want {
		if !g.in(grants) {
			t.Errorf("%s may not %s %s.%s in %q", who, g.Verb, g.Resource, g.Group, g.Namespace)
		}
	}
	for _, g := range never {
		if g.in(grants) {
			t.Errorf("%s may %s %s.%s in %q: more than it needs", who, g.Verb, g.Resource, g.Group, g.Namespace)
		}
	}
}
