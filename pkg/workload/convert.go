package workload

import (
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// PodSpecFromCore reduces a core/v1 pod spec to what token rules read.
//
// Containers come in spec order: init containers (policy.ContainerInit),
// then regular containers (policy.ContainerRegular), then ephemeral
// containers (policy.ContainerEphemeral). Volumes keep only projected
// serviceAccountToken sources and secret volumes; a projected volume with
// several serviceAccountToken sources yields one policy.Volume per source,
// all with the volume's name, so that every token it projects is seen.
// ImagePullSecrets keeps the pull secrets' names (for registry
// credentials). Each container's Env keeps the variables whose names start
// with "AWS_" (the IRSA and EKS Pod Identity credential environment), in
// spec order, with their literal values (empty for valueFrom).
//
// The result does not alias the input: pointers are copied. It makes a
// fixed, small number of allocations whatever the pod's size, because it
// sits on the admission path. A nil spec yields the zero PodSpec.
func PodSpecFromCore(spec *corev1.PodSpec) policy.PodSpec {
	if spec == nil {
		return policy.PodSpec{}
	}
	out := policy.PodSpec{ServiceAccountName: spec.ServiceAccountName}
	if len(spec.ImagePullSecrets) > 0 {
		out.ImagePullSecrets = make([]string, len(spec.ImagePullSecrets))
		for i := range spec.ImagePullSecrets {
			out.ImagePullSecrets[i] = spec.ImagePullSecrets[i].Name
		}
	}
	if spec.AutomountServiceAccountToken != nil {
		v := *spec.AutomountServiceAccountToken
		out.AutomountServiceAccountToken = &v
	}

	n := len(spec.InitContainers) + len(spec.Containers) + len(spec.EphemeralContainers)
	if n > 0 {
		mounts, envs := 0, 0
		for i := range spec.InitContainers {
			mounts += len(spec.InitContainers[i].VolumeMounts)
			envs += countAWSEnv(spec.InitContainers[i].Env)
		}
		for i := range spec.Containers {
			mounts += len(spec.Containers[i].VolumeMounts)
			envs += countAWSEnv(spec.Containers[i].Env)
		}
		for i := range spec.EphemeralContainers {
			mounts += len(spec.EphemeralContainers[i].VolumeMounts)
			envs += countAWSEnv(spec.EphemeralContainers[i].Env)
		}
		// One backing array for every container's mounts, one for their
		// env; each container gets full slice expressions so appends cannot
		// spill into the next.
		b := containerBuilder{
			mounts:     make([]policy.VolumeMount, 0, mounts),
			containers: make([]policy.Container, 0, n),
		}
		if envs > 0 {
			b.env = make([]policy.EnvVar, 0, envs)
		}
		for i := range spec.InitContainers {
			c := &spec.InitContainers[i]
			b.add(c.Name, c.Image, policy.ContainerInit, c.VolumeMounts, c.Env)
		}
		for i := range spec.Containers {
			c := &spec.Containers[i]
			b.add(c.Name, c.Image, policy.ContainerRegular, c.VolumeMounts, c.Env)
		}
		for i := range spec.EphemeralContainers {
			c := &spec.EphemeralContainers[i]
			b.add(c.Name, c.Image, policy.ContainerEphemeral, c.VolumeMounts, c.Env)
		}
		out.Containers = b.containers
	}

	out.Volumes = convertVolumes(spec.Volumes)
	return out
}

// containerBuilder fills preallocated container, mount and env slices.
type containerBuilder struct {
	mounts     []policy.VolumeMount
	env        []policy.EnvVar
	containers []policy.Container
}

func (b *containerBuilder) add(name, image string, kind policy.ContainerKind, vms []corev1.VolumeMount, env []corev1.EnvVar) {
	c := policy.Container{Name: name, Image: image, Kind: kind}
	if len(vms) > 0 {
		start := len(b.mounts)
		for j := range vms {
			b.mounts = append(b.mounts, policy.VolumeMount{Name: vms[j].Name, MountPath: vms[j].MountPath})
		}
		c.VolumeMounts = b.mounts[start:len(b.mounts):len(b.mounts)]
	}
	start := len(b.env)
	for j := range env {
		if isAWSEnv(env[j].Name) {
			b.env = append(b.env, policy.EnvVar{Name: env[j].Name, Value: env[j].Value})
		}
	}
	if len(b.env) > start {
		c.Env = b.env[start:len(b.env):len(b.env)]
	}
	b.containers = append(b.containers, c)
}

// awsEnvPrefix starts the names of the environment variables kept in
// policy.Container.Env: the AWS SDKs' credential settings (IRSA's
// AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE, EKS Pod Identity's
// AWS_CONTAINER_CREDENTIALS_FULL_URI and
// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE) and their neighbours
// (AWS_REGION ...).
const awsEnvPrefix = "AWS_"

func isAWSEnv(name string) bool { return strings.HasPrefix(name, awsEnvPrefix) }

func countAWSEnv(env []corev1.EnvVar) int {
	n := 0
	for i := range env {
		if isAWSEnv(env[i].Name) {
			n++
		}
	}
	return n
}

// convertVolumes keeps secret volumes and projected serviceAccountToken
// sources, in spec order, with one allocation per kind of storage.
func convertVolumes(vols []corev1.Volume) []policy.Volume {
	keep, tokens, exps := 0, 0, 0
	for i := range vols {
		vs := &vols[i].VolumeSource
		if vs.Secret != nil {
			keep++
		}
		if vs.Projected != nil {
			for j := range vs.Projected.Sources {
				if t := vs.Projected.Sources[j].ServiceAccountToken; t != nil {
					keep++
					tokens++
					if t.ExpirationSeconds != nil {
						exps++
					}
				}
			}
		}
	}
	if keep == 0 {
		return nil
	}
	out := make([]policy.Volume, 0, keep)
	var tokenPool []policy.ProjectedToken
	if tokens > 0 {
		tokenPool = make([]policy.ProjectedToken, tokens)
	}
	var expPool []int64
	if exps > 0 {
		expPool = make([]int64, exps)
	}
	for i := range vols {
		v := &vols[i]
		if v.Secret != nil {
			out = append(out, policy.Volume{Name: v.Name, SecretName: v.Secret.SecretName})
		}
		if v.Projected == nil {
			continue
		}
		for j := range v.Projected.Sources {
			t := v.Projected.Sources[j].ServiceAccountToken
			if t == nil {
				continue
			}
			pt := &tokenPool[0]
			tokenPool = tokenPool[1:]
			pt.Path = t.Path
			pt.Audience = t.Audience
			if t.ExpirationSeconds != nil {
				e := &expPool[0]
				expPool = expPool[1:]
				*e = *t.ExpirationSeconds
				pt.ExpirationSeconds = e
			}
			out = append(out, policy.Volume{Name: v.Name, ServiceAccountToken: pt})
		}
	}
	return out
}
