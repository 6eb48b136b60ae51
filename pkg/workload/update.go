package workload

import (
	"slices"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// PolicyInputsChanged reports whether an UPDATE from old to updated changes
// anything the policy reads of a pod spec, so that the workload must be
// judged again (DESIGN.md, "Decision rules"): the containers' names, kinds,
// images, volume mounts (name and path) and AWS_* environment (name and
// literal value), the volumes (name, secret name, projected token path,
// audience and expirationSeconds), automountServiceAccountToken and
// serviceAccountName. Everything else a policy.PodSpec cannot hold (scale,
// labels, status, template annotations such as `kubectl rollout restart`'s,
// resources, other environment variables) is no change.
//
// ImagePullSecrets are left out: they only let tokenguard read the images'
// registries for evidence, and change no rule's verdict; a new image is
// judged anyway.
//
// Lists are compared in order: reordering containers, mounts, volumes or
// environment variables counts as a change. Judging again is always safe (a
// CREATE gets the same), reorders are rare, and pairing by name could not
// be exact: a projected volume with several token sources gives several
// policy.Volumes of one name, and an env may repeat a name.
//
// automountServiceAccountToken is compared as the pod field is set: nil
// (the service account's setting, else mount) differs from true and from
// false. A nil old or updated spec differs from any other spec. It does not
// allocate.
func PolicyInputsChanged(old, updated *policy.PodSpec) bool {
	if old == nil || updated == nil {
		return old != updated
	}
	return old.ServiceAccountName != updated.ServiceAccountName || old.AWS != updated.AWS ||
		!equalPtr(old.AutomountServiceAccountToken, updated.AutomountServiceAccountToken) ||
		!slices.EqualFunc(old.Containers, updated.Containers, sameContainer) ||
		!slices.EqualFunc(old.Volumes, updated.Volumes, sameVolume)
}

func sameContainer(a, b policy.Container) bool {
	return a.Name == b.Name && a.Image == b.Image && a.Kind == b.Kind &&
		slices.Equal(a.VolumeMounts, b.VolumeMounts) && slices.Equal(a.Env, b.Env)
}

func sameVolume(a, b policy.Volume) bool {
	if a.Name != b.Name || a.SecretName != b.SecretName {
		return false
	}
	at, bt := a.ServiceAccountToken, b.ServiceAccountToken
	if at == nil || bt == nil {
		return at == bt
	}
	return at.Path == bt.Path && at.Audience == bt.Audience && equalPtr(at.ExpirationSeconds, bt.ExpirationSeconds)
}

// equalPtr reports whether a and b are both nil, or point to equal values.
func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
