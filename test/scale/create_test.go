package scale

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
)

// The objects are made as a kubelet-less cluster would hold them after
// kube-controller-manager, the scheduler, the ServiceAccount admission
// plugin and the kubelets did their work: owner chains, pods bound to
// nodes with the kube-api-access projected volume (and the IRSA webhook's
// token volume and environment), then marked Running (Succeeded for Job
// pods) with container statuses through the status subresource. No
// controller manager runs, so nothing reconciles or deletes them.

// created counts what create sent.
type created struct {
	owners, pods atomic.Int64
}

// create puts the fleet in the cluster through cs with workers
// goroutines: namespaces and service accounts, then each workload's
// objects (workload, ReplicaSets or Jobs), then every pod and its status.
func (f *fleet) create(ctx context.Context, cs kubernetes.Interface, workers int) (*created, error) {
	n := &created{}
	for _, ns := range f.namespaces {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns,
			Labels: map[string]string{"team": ns}}}, metav1.CreateOptions{}); err != nil {
			return n, err
		}
	}
	for _, a := range f.accounts {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: a.name, Namespace: a.namespace}}
		if a.roleARN != "" {
			sa.Annotations = map[string]string{"eks.amazonaws.com/role-arn": a.roleARN}
		}
		if _, err := cs.CoreV1().ServiceAccounts(a.namespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
			return n, err
		}
	}

	// Owners: each workload's chain, in parallel over workloads.
	type podTask struct {
		w     *workload
		t     *template
		owner metav1.OwnerReference
		i     int
	}
	var tasks []podTask
	var mu sync.Mutex
	err := parallel(ctx, workers, len(f.workloads), func(ctx context.Context, i int) error {
		w := &f.workloads[i]
		owners, err := createOwners(ctx, cs, w)
		n.owners.Add(int64(1 + len(w.templates)))
		if err != nil {
			return fmt.Errorf("%s %s/%s: %w", w.kind, w.namespace, w.name, err)
		}
		mu.Lock()
		defer mu.Unlock()
		for j := range w.templates {
			for p := 0; p < w.templates[j].pods; p++ {
				tasks = append(tasks, podTask{w: w, t: &w.templates[j], owner: owners[j], i: p})
			}
		}
		return nil
	})
	if err != nil {
		return n, err
	}

	// Pods: create, then the status a kubelet would report.
	started := time.Now().Add(-36 * time.Hour).Truncate(time.Second)
	err = parallel(ctx, workers, len(tasks), func(ctx context.Context, i int) error {
		t := tasks[i]
		p := f.pod(t.w, t.t, t.owner, t.i)
		out, err := cs.CoreV1().Pods(p.Namespace).Create(ctx, p, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("pod %s/%s: %w", p.Namespace, p.Name, err)
		}
		out.Status = podStatus(out, t.w.kind == kindCronJob, i, started)
		if _, err := cs.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, out, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("status of pod %s/%s: %w", p.Namespace, p.Name, err)
		}
		n.pods.Add(1)
		return nil
	})
	return n, err
}

// parallel runs do(0..count-1) on workers goroutines; the first error
// stops the others and is returned.
func parallel(ctx context.Context, workers, count int, do func(context.Context, int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= count {
					return
				}
				if err := do(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && err != context.Canceled {
		return err
	}
	return nil
}

var (
	yes = true
	no  = false
)

func ownerRef(apiVersion, kind, name string, uid metav1.Object) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, UID: uid.GetUID(), Controller: &yes, BlockOwnerDeletion: &yes}
}

// createOwners creates the workload object and its ReplicaSets or Jobs,
// and returns the owner reference of each template's pods.
func createOwners(ctx context.Context, cs kubernetes.Interface, w *workload) ([]metav1.OwnerReference, error) {
	labels := map[string]string{"app": w.name}
	selector := &metav1.LabelSelector{MatchLabels: labels}
	newest := &w.templates[len(w.templates)-1]
	replicas := int32(w.pods())
	switch w.kind {
	case kindDaemonSet:
		ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: w.name, Namespace: w.namespace, Labels: labels},
			Spec: appsv1.DaemonSetSpec{Selector: selector, Template: podTemplate(w, newest, labels)}}
		out, err := cs.AppsV1().DaemonSets(w.namespace).Create(ctx, ds, metav1.CreateOptions{})
		if err != nil {
			return nil, err
		}
		return []metav1.OwnerReference{ownerRef("apps/v1", kindDaemonSet, w.name, out)}, nil
	case kindStatefulSet:
		ss := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: w.name, Namespace: w.namespace, Labels: labels},
			Spec: appsv1.StatefulSetSpec{Replicas: &replicas, ServiceName: w.name, Selector: selector, Template: podTemplate(w, newest, labels)}}
		out, err := cs.AppsV1().StatefulSets(w.namespace).Create(ctx, ss, metav1.CreateOptions{})
		if err != nil {
			return nil, err
		}
		return []metav1.OwnerReference{ownerRef("apps/v1", kindStatefulSet, w.name, out)}, nil
	case kindCronJob:
		jobTemplate := func(t *template) batchv1.JobSpec {
			pods := int32(t.pods)
			pt := podTemplate(w, t, map[string]string{"app": w.name})
			pt.Spec.RestartPolicy = corev1.RestartPolicyNever
			return batchv1.JobSpec{Parallelism: &pods, Completions: &pods, Template: pt}
		}
		cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: w.name, Namespace: w.namespace, Labels: labels},
			Spec: batchv1.CronJobSpec{Schedule: "0 * * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: jobTemplate(newest)}}}
		out, err := cs.BatchV1().CronJobs(w.namespace).Create(ctx, cj, metav1.CreateOptions{})
		if err != nil {
			return nil, err
		}
		var refs []metav1.OwnerReference
		for i := range w.templates {
			t := &w.templates[i]
			job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: t.name, Namespace: w.namespace, Labels: labels,
				OwnerReferences: []metav1.OwnerReference{ownerRef("batch/v1", kindCronJob, w.name, out)}}, Spec: jobTemplate(t)}
			j, err := cs.BatchV1().Jobs(w.namespace).Create(ctx, job, metav1.CreateOptions{})
			if err != nil {
				return nil, err
			}
			refs = append(refs, ownerRef("batch/v1", "Job", t.name, j))
		}
		return refs, nil
	}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: w.name, Namespace: w.namespace, Labels: labels},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: selector, Template: podTemplate(w, newest, labels)}}
	out, err := cs.AppsV1().Deployments(w.namespace).Create(ctx, d, metav1.CreateOptions{})
	if err != nil {
		return nil, err
	}
	var refs []metav1.OwnerReference
	for i := range w.templates {
		t := &w.templates[i]
		rsLabels := map[string]string{"app": w.name, "pod-template-hash": t.hash}
		n := int32(t.pods)
		rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: t.name, Namespace: w.namespace, Labels: rsLabels,
			Annotations:     map[string]string{"deployment.kubernetes.io/revision": fmt.Sprint(i + 1), "deployment.kubernetes.io/desired-replicas": fmt.Sprint(replicas)},
			OwnerReferences: []metav1.OwnerReference{ownerRef("apps/v1", kindDeployment, w.name, out)}},
			Spec: appsv1.ReplicaSetSpec{Replicas: &n, Selector: &metav1.LabelSelector{MatchLabels: rsLabels}, Template: podTemplate(w, t, rsLabels)}}
		r, err := cs.AppsV1().ReplicaSets(w.namespace).Create(ctx, rs, metav1.CreateOptions{})
		if err != nil {
			return nil, err
		}
		refs = append(refs, ownerRef("apps/v1", "ReplicaSet", t.name, r))
	}
	return refs, nil
}

// podTemplate is the template of t's pods, as a workload declares it.
func podTemplate(w *workload, t *template, labels map[string]string) corev1.PodTemplateSpec {
	l := map[string]string{"team": w.namespace, "version": "v1"}
	for k, v := range labels {
		l[k] = v
	}
	spec := podSpec(w, t, "")
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: l,
		Annotations: map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "9102"}}, Spec: spec}
}

// pod is the i-th pod of template t, owned by owner.
func (f *fleet) pod(w *workload, t *template, owner metav1.OwnerReference, i int) *corev1.Pod {
	labels := map[string]string{"app": w.name}
	name := t.name + "-" + safeHash(fmt.Sprintf("%s/%d", t.name, i), 5)
	switch w.kind {
	case kindDeployment:
		labels["pod-template-hash"] = t.hash
	case kindDaemonSet:
		labels["controller-revision-hash"] = t.hash
		labels["pod-template-generation"] = "1"
		name = w.name + "-" + safeHash(fmt.Sprintf("%s/%d", t.name, i), 5)
	case kindStatefulSet:
		labels["controller-revision-hash"] = w.name + "-" + t.hash
		labels["apps.kubernetes.io/pod-index"] = fmt.Sprint(i)
		labels["statefulset.kubernetes.io/pod-name"] = fmt.Sprintf("%s-%d", w.name, i)
		name = fmt.Sprintf("%s-%d", w.name, i)
	case kindCronJob:
		labels["batch.kubernetes.io/job-name"] = t.name
		labels["batch.kubernetes.io/controller-uid"] = string(owner.UID)
	}
	tmpl := podTemplate(w, t, labels)
	node := (t.firstNode + i) % f.nodes
	spec := podSpec(w, t, name)
	spec.NodeName = nodeName(node)
	if w.kind == kindCronJob {
		spec.RestartPolicy = corev1.RestartPolicyNever
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: w.namespace, Labels: tmpl.Labels, Annotations: tmpl.Annotations,
			OwnerReferences: []metav1.OwnerReference{owner}},
		Spec: spec,
	}
}

func nodeName(i int) string {
	return fmt.Sprintf("ip-10-0-%d-%d.us-west-2.compute.internal", i/200, 10+i%200)
}

// podSpec is the spec of t's pods; podName, when set, adds what admission
// adds to a pod (the kube-api-access volume, the IRSA webhook's token
// volume and environment).
func podSpec(w *workload, t *template, podName string) corev1.PodSpec {
	cpu, mem := resource.MustParse("100m"), resource.MustParse("128Mi")
	var containers []corev1.Container
	for i, img := range t.images {
		c := corev1.Container{
			Name:  "app",
			Image: img,
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}, {Name: "metrics", ContainerPort: 9102, Protocol: corev1.ProtocolTCP}},
			Env: []corev1.EnvVar{
				{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}},
				{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}},
				{Name: "LOG_LEVEL", Value: "info"},
				{Name: "OTEL_EXPORTER_OTLP_ENDPOINT", Value: "http://otel-collector.observability:4317"},
			},
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: cpu, corev1.ResourceMemory: mem},
				Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
			},
			LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http"), Scheme: corev1.URISchemeHTTP}},
				PeriodSeconds: 10, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3},
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/readyz", Port: intstr.FromString("http"), Scheme: corev1.URISchemeHTTP}},
				PeriodSeconds: 5, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3},
			SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: &no, RunAsNonRoot: &yes,
				Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
			TerminationMessagePath:   corev1.TerminationMessagePathDefault,
			TerminationMessagePolicy: corev1.TerminationMessageReadFile,
			ImagePullPolicy:          corev1.PullIfNotPresent,
		}
		if i > 0 {
			c.Name = "proxy"
			c.Ports = []corev1.ContainerPort{{Name: "proxy", ContainerPort: 15001, Protocol: corev1.ProtocolTCP}}
			c.LivenessProbe, c.ReadinessProbe = nil, nil
		}
		containers = append(containers, c)
	}
	grace := int64(30)
	spec := corev1.PodSpec{
		Containers:                    containers,
		ServiceAccountName:            w.serviceAccount,
		DeprecatedServiceAccount:      w.serviceAccount,
		RestartPolicy:                 corev1.RestartPolicyAlways,
		TerminationGracePeriodSeconds: &grace,
		DNSPolicy:                     corev1.DNSClusterFirst,
		SchedulerName:                 corev1.DefaultSchedulerName,
		SecurityContext:               &corev1.PodSecurityContext{FSGroup: ptr(int64(65532))},
		EnableServiceLinks:            &yes,
	}
	if podName == "" {
		return spec
	}
	// What admission adds: the service account token (kube-api-access),
	// and for IRSA the webhook's web-identity token and environment.
	expiration, day := int64(3607), int64(86400)
	access := "kube-api-access-" + safeHash(podName, 5)
	spec.Volumes = append(spec.Volumes, corev1.Volume{Name: access, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		DefaultMode: ptr(int32(0o644)),
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{ExpirationSeconds: &expiration, Path: "token"}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}, Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
		}}}})
	if w.irsa {
		spec.Volumes = append(spec.Volumes, corev1.Volume{Name: "aws-iam-token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
			DefaultMode: ptr(int32(0o644)),
			Sources:     []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Audience: "sts.amazonaws.com", ExpirationSeconds: &day, Path: "token"}}}}}})
	}
	for i := range spec.Containers {
		c := &spec.Containers[i]
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: access, ReadOnly: true, MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"})
		if w.irsa {
			c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "aws-iam-token", ReadOnly: true, MountPath: "/var/run/secrets/eks.amazonaws.com/serviceaccount"})
			c.Env = append(c.Env,
				corev1.EnvVar{Name: "AWS_STS_REGIONAL_ENDPOINTS", Value: "regional"},
				corev1.EnvVar{Name: "AWS_DEFAULT_REGION", Value: "us-west-2"},
				corev1.EnvVar{Name: "AWS_REGION", Value: "us-west-2"},
				corev1.EnvVar{Name: "AWS_ROLE_ARN", Value: fmt.Sprintf("arn:aws:iam::111122223333:role/%s-app", w.namespace)},
				corev1.EnvVar{Name: "AWS_WEB_IDENTITY_TOKEN_FILE", Value: "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"})
		}
	}
	spec.Tolerations = []corev1.Toleration{
		{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(300))},
		{Key: "node.kubernetes.io/unreachable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(300))},
	}
	spec.Priority = ptr(int32(0))
	spec.PreemptionPolicy = ptr(corev1.PreemptLowerPriority)
	return spec
}

func ptr[T any](v T) *T { return &v }

// podStatus is what a kubelet reports of p: Running and ready, or, for a
// Job's pod, Succeeded.
func podStatus(p *corev1.Pod, done bool, i int, started time.Time) corev1.PodStatus {
	at := metav1.NewTime(started)
	node := p.Spec.NodeName
	hostIP := "10.0." + strings.TrimPrefix(strings.SplitN(node, ".", 2)[0], "ip-10-0-")
	hostIP = strings.ReplaceAll(hostIP, "-", ".")
	podIP := fmt.Sprintf("10.1.%d.%d", i/250, 1+i%250)
	s := corev1.PodStatus{
		Phase:     corev1.PodRunning,
		HostIP:    hostIP,
		HostIPs:   []corev1.HostIP{{IP: hostIP}},
		PodIP:     podIP,
		PodIPs:    []corev1.PodIP{{IP: podIP}},
		StartTime: &at,
		QOSClass:  corev1.PodQOSBurstable,
	}
	ready := corev1.ConditionTrue
	if done {
		s.Phase, ready = corev1.PodSucceeded, corev1.ConditionFalse
	}
	for _, c := range []struct {
		t      corev1.PodConditionType
		status corev1.ConditionStatus
	}{{"PodReadyToStartContainers", ready}, {corev1.PodInitialized, corev1.ConditionTrue}, {corev1.PodReady, ready},
		{corev1.ContainersReady, ready}, {corev1.PodScheduled, corev1.ConditionTrue}} {
		s.Conditions = append(s.Conditions, corev1.PodCondition{Type: c.t, Status: c.status, LastTransitionTime: at})
	}
	for _, c := range p.Spec.Containers {
		digest := sha256.Sum256([]byte(c.Image))
		id := sha256.Sum256([]byte(p.Namespace + "/" + p.Name + "/" + c.Name))
		cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: imageRepo(c.Image) + "@sha256:" + hex.EncodeToString(digest[:]),
			ContainerID: "containerd://" + hex.EncodeToString(id[:]), Ready: !done, Started: ptr(!done), RestartCount: 0}
		if done {
			cs.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", StartedAt: at, FinishedAt: metav1.NewTime(started.Add(time.Minute)),
				ContainerID: cs.ContainerID}
		} else {
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: at}
		}
		s.ContainerStatuses = append(s.ContainerStatuses, cs)
	}
	return s
}

// imageRepo is an image reference without its tag.
func imageRepo(image string) string {
	slash := strings.LastIndex(image, "/")
	if colon := strings.LastIndex(image, ":"); colon > slash {
		return image[:colon]
	}
	return image
}
