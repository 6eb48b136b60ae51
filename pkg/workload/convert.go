package workload

import (
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
// credentials).
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
		mounts := 0
		for i := range spec.InitContainers {
			mounts += len(spec.InitContainers[i].VolumeMounts)
		}
		for i := range spec.Containers {
			mounts += len(spec.Containers[i].VolumeMounts)
		}
		for i := range spec.EphemeralContainers {
			mounts += len(spec.EphemeralContainers[i].VolumeMounts)
		}
		// One backing array for every container's mounts; each container
		// gets a full slice expression so appends cannot spill into the next.
		b := containerBuilder{
			mounts:     make([]policy.VolumeMount, 0, mounts),
			containers: make([]policy.Container, 0, n),
		}
		for i := range spec.InitContainers {
			c := &spec.InitContainers[i]
			b.add(c.Name, c.Image, policy.ContainerInit, c.VolumeMounts)
		}
		for i := range spec.Containers {
			c := &spec.Containers[i]
			b.add(c.Name, c.Image, policy.ContainerRegular, c.VolumeMounts)
		}
		for i := range spec.EphemeralContainers {
			c := &spec.EphemeralContainers[i]
			b.add(c.Name, c.Image, policy.ContainerEphemeral, c.VolumeMounts)
		}
		out.Containers = b.containers
	}

	out.Volumes = convertVolumes(spec.Volumes)
	return out
}

// containerBuilder fills preallocated container and mount slices.
type containerBuilder struct {
	mounts     []policy.VolumeMount
	containers []policy.Container
}

func (b *containerBuilder) add(name, image string, kind policy.ContainerKind, vms []corev1.VolumeMount) {
	c := policy.Container{Name: name, Image: image, Kind: kind}
	if len(vms) > 0 {
		start := len(b.mounts)
		for j := range vms {
			b.mounts = append(b.mounts, policy.VolumeMount{Name: vms[j].Name, MountPath: vms[j].MountPath})
		}
		c.VolumeMounts = b.mounts[start:len(b.mounts):len(b.mounts)]
	}
	b.containers = append(b.containers, c)
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
