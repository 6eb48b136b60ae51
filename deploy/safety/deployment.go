package safety

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// Deployment checks the webhook's Deployment: in its namespace with two
// replicas or more, system-cluster-critical, spread over a topology,
// non-root with a restricted container security context, probes and
// resources, a termination grace above --shutdown-delay plus
// --shutdown-grace, GOMEMLIMIT in step with the memory limit; and the
// objects around it (service account, RBAC, configuration, Service,
// PodDisruptionBudget, the Namespace when expected, and the serving
// certificate's Secret when expected).
func Deployment(t testing.TB, objs []map[string]any, in Install) {
	t.Helper()
	d := Find[appsv1.Deployment](t, objs, "Deployment", in.Name)
	if d.Namespace != in.Namespace || d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
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
	RestrictedContainer(t, c)
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
	GOMEMLIMIT(t, c)
	kinds := Kinds(objs)
	want := []string{"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "Service", "PodDisruptionBudget"}
	if in.NamespaceObject {
		want = append(want, "Namespace")
	}
	for _, k := range want {
		if kinds[k] == 0 {
			t.Errorf("no %s", k)
		}
	}
	if in.Secret && kinds["Secret"] == 0 {
		t.Error("no Secret with the serving certificate")
	}
}

// RestrictedContainer: the container's security context is that of the
// restricted Pod Security Standard and more (read-only root filesystem).
func RestrictedContainer(t testing.TB, c *corev1.Container) {
	t.Helper()
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") ||
		sc.SeccompProfile == nil || sc.SeccompProfile.Type != "RuntimeDefault" {
		t.Errorf("container %s: security context not restricted: %+v", c.Name, sc)
	}
}

// GOMEMLIMIT: the Go runtime's soft limit sits at 80-95% of the
// container's memory limit, so the GC works harder before the kernel
// OOM-kills (issue #13).
func GOMEMLIMIT(t testing.TB, c *corev1.Container) {
	t.Helper()
	limit := c.Resources.Limits.Memory().Value()
	var value string
	for _, e := range c.Env {
		if e.Name == "GOMEMLIMIT" {
			value = e.Value
		}
	}
	n, err := ParseGoMemLimit(value)
	if err != nil {
		t.Errorf("GOMEMLIMIT %q: %v", value, err)
		return
	}
	if limit <= 0 {
		t.Errorf("GOMEMLIMIT %s without limits.memory", value)
		return
	}
	if n < limit*80/100 || n > limit*95/100 {
		t.Errorf("GOMEMLIMIT %s is %d%% of limits.memory %d; want 80-95%%", value, n*100/limit, limit)
	}
}

// ParseGoMemLimit reads GOMEMLIMIT as the Go runtime does: an integer with
// an optional B, KiB, MiB, GiB or TiB suffix.
func ParseGoMemLimit(s string) (int64, error) {
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
