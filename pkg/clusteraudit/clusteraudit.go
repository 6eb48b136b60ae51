// Package clusteraudit reads what runs in a live cluster for `tokenguard
// audit`: it lists Pods, groups them by their owning workload (following
// ownerReferences through ReplicaSets and Jobs), judges each distinct pod
// template once, and joins stale-token subjects to the workloads that run
// as them.
package clusteraudit

import (
	"context"
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tokenguard/tokenguard/pkg/engine"
	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/workload"
)

// DefaultPageSize is the Limit of each LIST request.
const DefaultPageSize = 500

// Client lists pods, replica sets and jobs of a namespace ("" is every
// namespace): *kube.Client, or in tests a clientset through
// kubetest.Clientset. Its errors name the resource and namespace.
type Client interface {
	ListPods(ctx context.Context, namespace string, opts metav1.ListOptions) (*corev1.PodList, error)
	ListReplicaSets(ctx context.Context, namespace string, opts metav1.ListOptions) (*appsv1.ReplicaSetList, error)
	ListJobs(ctx context.Context, namespace string, opts metav1.ListOptions) (*batchv1.JobList, error)
}

// Options says what to read.
type Options struct {
	// Namespace limits the audit to one namespace; "" is all namespaces.
	Namespace string
	// PageSize is the Limit of each LIST; zero means DefaultPageSize.
	PageSize int64
}

// Workload is one owning workload and the pods that run for it.
type Workload struct {
	Kind      string
	Namespace string
	Name      string
	// APIVersion and UID identify the workload object (from the owner
	// reference that leads to it, or the bare Pod's own), for objects
	// owned by it such as the controller's reports.
	APIVersion string
	UID        types.UID
	// Pods are the names of its pods, sorted.
	Pods []string
	// ServiceAccounts are the service accounts its pods run as, sorted.
	ServiceAccounts []string
	// Evaluated are the pods whose specs were judged: one per distinct pod
	// template (ReplicaSet, Job, controller revision), sorted.
	Evaluated []string
	// Findings and Verdict are filled by Judge.
	Findings []policy.Finding
	Verdict  policy.Verdict

	specs []policy.PodSpec // one per Evaluated pod
}

// Collect lists the Pods in scope (one paginated LIST), and, only when some
// pod is owned by one, the ReplicaSets and Jobs in scope (one paginated LIST
// each) to find their owners. It returns the workloads sorted by namespace,
// kind and name.
func Collect(ctx context.Context, client Client, opts Options) ([]Workload, error) {
	limit := opts.PageSize
	if limit <= 0 {
		limit = DefaultPageSize
	}
	ns := opts.Namespace
	var pods []corev1.Pod
	err := paginate(ctx, limit, func(lo metav1.ListOptions) (string, error) {
		l, err := client.ListPods(ctx, ns, lo)
		if err != nil {
			return "", err
		}
		pods = append(pods, l.Items...)
		return l.Continue, nil
	})
	if err != nil {
		return nil, err
	}
	needRS, needJobs := false, false
	for i := range pods {
		if c := metav1.GetControllerOf(&pods[i]); c != nil {
			needRS = needRS || c.Kind == "ReplicaSet"
			needJobs = needJobs || c.Kind == "Job"
		}
	}
	// owners maps a ReplicaSet's or Job's UID to its own controller (nil
	// when it has none).
	owners := map[types.UID]*metav1.OwnerReference{}
	if needRS {
		err := paginate(ctx, limit, func(lo metav1.ListOptions) (string, error) {
			l, err := client.ListReplicaSets(ctx, ns, lo)
			if err != nil {
				return "", err
			}
			for i := range l.Items {
				owners[l.Items[i].UID] = metav1.GetControllerOf(&l.Items[i])
			}
			return l.Continue, nil
		})
		if err != nil {
			return nil, err
		}
	}
	if needJobs {
		err := paginate(ctx, limit, func(lo metav1.ListOptions) (string, error) {
			l, err := client.ListJobs(ctx, ns, lo)
			if err != nil {
				return "", err
			}
			for i := range l.Items {
				owners[l.Items[i].UID] = metav1.GetControllerOf(&l.Items[i])
			}
			return l.Continue, nil
		})
		if err != nil {
			return nil, err
		}
	}
	return group(pods, owners), nil
}

// paginate calls list with Limit and each Continue token until the last page.
func paginate(ctx context.Context, limit int64, list func(metav1.ListOptions) (string, error)) error {
	lo := metav1.ListOptions{Limit: limit}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		next, err := list(lo)
		if err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		lo.Continue = next
	}
}

type key struct{ kind, namespace, name string }

// owner returns the workload a pod belongs to and the key of its pod
// template within that workload.
func owner(p *corev1.Pod, owners map[types.UID]*metav1.OwnerReference) (key, string, objectRef) {
	c := metav1.GetControllerOf(p)
	if c == nil || c.Kind == "Node" { // bare, or a static (mirror) pod
		return key{"Pod", p.Namespace, p.Name}, "pod/" + p.Name, objectRef{"v1", p.UID}
	}
	switch c.Kind {
	case "ReplicaSet", "Job":
		template := string(c.UID)
		// The ReplicaSet's or Job's own controller is the workload: a
		// Deployment or CronJob, or a custom one (Argo Rollouts' Rollout,
		// KEDA's ScaledJob), one template per ReplicaSet or Job.
		if up, ok := owners[c.UID]; ok && up != nil {
			return key{up.Kind, p.Namespace, up.Name}, template, objectRef{up.APIVersion, up.UID}
		}
		return key{c.Kind, p.Namespace, c.Name}, template, objectRef{c.APIVersion, c.UID}
	case "StatefulSet", "DaemonSet":
		return key{c.Kind, p.Namespace, c.Name}, p.Labels[appsv1.ControllerRevisionHashLabelKey], objectRef{c.APIVersion, c.UID}
	}
	// ReplicationController, and controllers tokenguard does not know
	// (custom resources): the controller itself, one template.
	return key{c.Kind, p.Namespace, c.Name}, "", objectRef{c.APIVersion, c.UID}
}

// objectRef is a workload object's API version and UID.
type objectRef struct {
	apiVersion string
	uid        types.UID
}

func group(pods []corev1.Pod, owners map[types.UID]*metav1.OwnerReference) []Workload {
	sort.Slice(pods, func(i, j int) bool {
		if pods[i].Namespace != pods[j].Namespace {
			return pods[i].Namespace < pods[j].Namespace
		}
		return pods[i].Name < pods[j].Name
	})
	index := map[key]int{}
	templates := map[key]map[string]bool{}
	sas := map[key]map[string]bool{}
	var out []Workload
	for i := range pods {
		p := &pods[i]
		k, tmpl, ref := owner(p, owners)
		n, ok := index[k]
		if !ok {
			n = len(out)
			index[k] = n
			out = append(out, Workload{Kind: k.kind, Namespace: k.namespace, Name: k.name, APIVersion: ref.apiVersion, UID: ref.uid})
			templates[k] = map[string]bool{}
			sas[k] = map[string]bool{}
		}
		w := &out[n]
		w.Pods = append(w.Pods, p.Name)
		sas[k][ServiceAccountOf(p)] = true
		if !templates[k][tmpl] {
			templates[k][tmpl] = true
			w.Evaluated = append(w.Evaluated, p.Name)
			// FromObject, not PodSpecFromCore alone: the pod's IRSA
			// annotations (skip-containers) count too.
			pw, _, _ := workload.FromObject(p)
			w.specs = append(w.specs, pw.Pod)
		}
	}
	for i := range out {
		k := key{out[i].Kind, out[i].Namespace, out[i].Name}
		for sa := range sas[k] {
			out[i].ServiceAccounts = append(out[i].ServiceAccounts, sa)
		}
		sort.Strings(out[i].ServiceAccounts)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Name < b.Name
	})
	return out
}

// ServiceAccountOf is the service account a pod runs as ("default" when the
// spec leaves it empty, as the API server defaults it).
func ServiceAccountOf(p *corev1.Pod) string {
	switch {
	case p.Spec.ServiceAccountName != "":
		return p.Spec.ServiceAccountName
	case p.Spec.DeprecatedServiceAccount != "":
		return p.Spec.DeprecatedServiceAccount
	}
	return "default"
}

// Judge evaluates each workload's evaluated pod specs with eng, each as
// admission would see it (its own service account and pull secrets); a
// workload with several templates (mid-rollout) gets the union of their
// findings and the worst verdict (engine.Merge).
func Judge(ctx context.Context, eng *engine.Engine, ws []Workload) {
	for i := range ws {
		w := &ws[i]
		results := make([]engine.Result, 0, len(w.specs))
		for j := range w.specs {
			results = append(results, eng.Evaluate(ctx, engine.Subject{Namespace: w.Namespace, Pod: &w.specs[j]}))
		}
		m := engine.Merge(results...)
		w.Findings, w.Verdict = m.Findings, m.Verdict
	}
}

// Restart is the immediate fix that gives a workload's pods fresh tokens.
func Restart(w *Workload) string {
	k, ok := workload.KindNamed(w.Kind)
	switch {
	case ok && k.Restart == workload.RestartRollout:
		return fmt.Sprintf("kubectl rollout restart %s/%s -n %s", strings.ToLower(w.Kind), w.Name, w.Namespace)
	case ok && k.Restart == workload.RestartDeletePods:
		return fmt.Sprintf("kubectl delete pod %s -n %s (the %s recreates them)", strings.Join(w.Pods, " "), w.Namespace, w.Kind)
	case w.Kind == "Rollout": // Argo Rollouts, not a kind tokenguard reads
		return fmt.Sprintf("kubectl argo rollouts restart %s -n %s", w.Name, w.Namespace)
	}
	// Pod, Job, CronJob and unknown controllers: the pods must be replaced.
	return fmt.Sprintf("delete and recreate pod %s -n %s", strings.Join(w.Pods, " "), w.Namespace)
}

// NoTooOldFix is the real fix when the findings name no too-old component.
const NoTooOldFix = "no too-old component found in the image; check its client SDK"

// RealFix names the too-old components of a workload and the versions to
// upgrade to, or NoTooOldFix.
func RealFix(w *Workload) string {
	var fixes []string
	seen := map[string]bool{}
	for _, f := range w.Findings {
		// An AWS SDK does not read the Kubernetes token: it is no fix for
		// a stale one.
		if f.Verdict != policy.VerdictTooOld || f.Exempt != "" || f.Kind == policy.KindAWSSDK {
			continue
		}
		var s string
		switch {
		case f.Kind == policy.KindToken:
			s = fmt.Sprintf("container %q, volume %q: %s", f.Container, f.Volume, f.Fix)
		case f.Minimum != "":
			s = fmt.Sprintf("upgrade %s %s to %s or later (container %q)", componentName(&f), f.Version, f.Minimum, f.Container)
		default:
			s = fmt.Sprintf("upgrade %s %s (container %q)", componentName(&f), f.Version, f.Container)
		}
		if !seen[s] {
			seen[s] = true
			fixes = append(fixes, s)
		}
	}
	if len(fixes) == 0 {
		return NoTooOldFix
	}
	return strings.Join(fixes, "; ")
}

func componentName(f *policy.Finding) string {
	if f.Component == "" {
		return "the client SDK"
	}
	return f.Component
}
