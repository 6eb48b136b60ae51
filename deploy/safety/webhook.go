package safety

import (
	"slices"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/tokenguard/tokenguard/pkg/workload"
)

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

// WebhookConfiguration checks the properties of DESIGN.md and issue #6:
// the entries in order; side effects None; matchPolicy Equivalent; v1
// reviews; a timeout above the 2 s evidence budget and well below the
// API server's 30 s; the own namespace never judged; exactly one entry
// failing closed, for Pods (and their ephemeral containers) in enforce
// namespaces, never for kube-system; Pods judged on CREATE only; the
// only subresource pods/ephemeralcontainers, on UPDATE; every entry
// calling the Service; and the caBundle or cert-manager's injection.
func WebhookConfiguration(t testing.TB, objs []map[string]any, in Install) {
	t.Helper()
	vwc := Find[admissionregistrationv1.ValidatingWebhookConfiguration](t, objs, "ValidatingWebhookConfiguration", "")
	if len(vwc.Webhooks) != len(in.WebhookNames) {
		t.Fatalf("%d entries", len(vwc.Webhooks))
	}
	for i := range vwc.Webhooks {
		w := &vwc.Webhooks[i]
		if w.Name != in.WebhookNames[i] {
			t.Errorf("entry %d is %s, want %s", i, w.Name, in.WebhookNames[i])
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
		ownExcluded := op == "NotIn" && slices.Contains(ns, in.Namespace) || op == "In" && !slices.Contains(ns, in.Namespace)
		if !ownExcluded {
			t.Errorf("%s: %s is not excluded (%s %v)", w.Name, in.Namespace, op, ns)
		}
		fail := w.FailurePolicy != nil && *w.FailurePolicy == admissionregistrationv1.Fail
		// Pods, and the ephemeral containers added to them.
		podsOnly := len(w.Rules) > 0
		for _, r := range w.Rules {
			for _, res := range r.Resources {
				podsOnly = podsOnly && (res == "pods" || res == EphemeralContainers)
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
				if strings.Contains(res, "/") && (res != EphemeralContainers || !slices.Equal(r.Operations, []admissionregistrationv1.OperationType{admissionregistrationv1.Update})) {
					t.Errorf("%s: subresource %s on %v", w.Name, res, r.Operations)
				}
			}
		}
		if w.ClientConfig.Service == nil || w.ClientConfig.Service.Namespace != in.Namespace || w.ClientConfig.Service.Name != in.Name {
			t.Errorf("%s: clientConfig %+v", w.Name, w.ClientConfig)
		}
		if in.CABundle && len(w.ClientConfig.CABundle) == 0 {
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
	if in.InjectCAFrom != "" && vwc.Annotations["cert-manager.io/inject-ca-from"] != in.InjectCAFrom {
		t.Errorf("no CA injection annotation %s: %v", in.InjectCAFrom, vwc.Annotations)
	}
}

// WebhookRulesCoverKinds holds the webhook configuration against the one
// table of workload kinds (workload.Kinds): in every mode, in an ordinary
// namespace and in kube-system, the API server sends every kind of the
// table to the mode's path, on CREATE, and on UPDATE when the kind is
// judged on UPDATE (never otherwise); unlabelled namespaces go to the
// default mode's path; the own namespace goes nowhere; the namespace
// preview gets namespaces; and no rule names anything else.
func WebhookRulesCoverKinds(t testing.TB, objs []map[string]any, in Install) {
	t.Helper()
	type namespace struct {
		name, mode string // mode "" is unlabelled
		path       string // where its workloads go, "" for nowhere (unlabelled: the default mode's)
	}
	namespaces := []namespace{
		{"prod", "enforce", "/validate/enforce"},
		{"prod", "warn", "/validate/warn"},
		{"prod", "", ""}, // the cluster default
		{"prod", "audit", "/validate/audit"},
		{"prod", "off", ""},
		{"kube-system", "enforce", "/validate/enforce"},
		{"kube-system", "", ""},
		{in.Namespace, "enforce", ""},
	}
	kinds := workload.Kinds()
	vwc := Find[admissionregistrationv1.ValidatingWebhookConfiguration](t, objs, "ValidatingWebhookConfiguration", "")
	for _, ns := range namespaces {
		if ns.mode == "" {
			ns.path = "/validate/" + in.DefaultMode
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
		// kubectl debug's ephemeral containers go wherever Pods do, on
		// UPDATE (issue #13).
		if got := ops[ns.path]["/"+EphemeralContainers]; !slices.Equal(got, []admissionregistrationv1.OperationType{admissionregistrationv1.Update}) {
			t.Errorf("namespace %s labelled %q: %s sent to %s on %v, want UPDATE", ns.name, ns.mode, EphemeralContainers, ns.path, got)
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
				if res == EphemeralContainers && slices.Equal(r.APIGroups, []string{""}) && slices.Equal(r.APIVersions, []string{"v1"}) {
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
}
