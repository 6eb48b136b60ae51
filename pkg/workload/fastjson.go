package workload

import (
	"encoding/json"
	"fmt"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// The json* types read only what token rules need from an object as the
// API server serialises it. Decoding into them skips everything else
// (managedFields, status, resources, probes...), which makes the admission
// path cheaper than decoding the full typed object.
type jsonObject struct {
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Spec jsonSpec `json:"spec"`
}

// jsonSpec is the union of a pod spec (Pod) and a controller spec: a Pod's
// fields sit at the top, a controller's under template or jobTemplate.
type jsonSpec struct {
	jsonPodSpec
	Template    *jsonTemplate `json:"template"`
	JobTemplate *struct {
		Spec struct {
			Template jsonTemplate `json:"template"`
		} `json:"spec"`
	} `json:"jobTemplate"`
}

type jsonTemplate struct {
	Spec jsonPodSpec `json:"spec"`
}

type jsonPodSpec struct {
	AutomountServiceAccountToken *bool  `json:"automountServiceAccountToken"`
	ServiceAccountName           string `json:"serviceAccountName"`
	ImagePullSecrets             []struct {
		Name string `json:"name"`
	} `json:"imagePullSecrets"`
	InitContainers      []jsonContainer `json:"initContainers"`
	Containers          []jsonContainer `json:"containers"`
	EphemeralContainers []jsonContainer `json:"ephemeralContainers"`
	Volumes             []jsonVolume    `json:"volumes"`
}

type jsonContainer struct {
	Name         string `json:"name"`
	Image        string `json:"image"`
	VolumeMounts []struct {
		Name      string `json:"name"`
		MountPath string `json:"mountPath"`
	} `json:"volumeMounts"`
}

type jsonVolume struct {
	Name      string `json:"name"`
	Projected *struct {
		Sources []struct {
			ServiceAccountToken *struct {
				Path              string `json:"path"`
				Audience          string `json:"audience"`
				ExpirationSeconds *int64 `json:"expirationSeconds"`
			} `json:"serviceAccountToken"`
		} `json:"sources"`
	} `json:"projected"`
	Secret *struct {
		SecretName string `json:"secretName"`
	} `json:"secret"`
}

// FromJSON reads a workload of the given API group and kind from its JSON
// (an AdmissionReview's object), decoding only what token rules need. ok is
// false for kinds that are not workloads. It gives the same PodSpec as
// FromObject on the typed object.
func FromJSON(group, kind string, raw []byte) (w Workload, ok bool, err error) {
	if !IsWorkloadKind(group, kind) {
		return Workload{}, false, nil
	}
	var obj Object
	if err := json.Unmarshal(raw, &obj); err != nil {
		return Workload{}, true, fmt.Errorf("decoding %s: %w", kind, err)
	}
	return obj.Workload(group, kind)
}

// Object is a workload object of any kind as encoding/json decodes it,
// reading only what token rules need. As a field of a larger document (an
// AdmissionReview's request.object) it is decoded in the same pass as the
// document: unlike a json.RawMessage handed to FromJSON, the object's bytes
// are not scanned again, which is most of what a review costs.
type Object struct {
	jsonObject
}

// Workload returns the workload of the given API group and kind that obj
// holds, as FromJSON does.
func (obj *Object) Workload(group, kind string) (w Workload, ok bool, err error) {
	if !IsWorkloadKind(group, kind) {
		return Workload{}, false, nil
	}
	w = Workload{Kind: kind, Namespace: obj.Metadata.Namespace, Name: obj.Metadata.Name}
	spec := &obj.Spec.jsonPodSpec
	switch {
	case kind == "Pod":
	case kind == "CronJob":
		if obj.Spec.JobTemplate == nil {
			return w, true, fmt.Errorf("%s has no spec.jobTemplate", kind)
		}
		spec = &obj.Spec.JobTemplate.Spec.Template.Spec
	default:
		if obj.Spec.Template == nil {
			return w, true, fmt.Errorf("%s has no spec.template", kind)
		}
		spec = &obj.Spec.Template.Spec
	}
	w.Pod = spec.podSpec()
	return w, true, nil
}

// IsWorkloadKind reports whether group and kind name a workload: a kind
// with a pod spec or a pod template.
func IsWorkloadKind(group, kind string) bool {
	switch group {
	case "":
		return kind == "Pod" || kind == "ReplicationController"
	case "apps":
		return kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet" || kind == "ReplicaSet"
	case "batch":
		return kind == "Job" || kind == "CronJob"
	}
	return false
}

// podSpec converts with the same rules as PodSpecFromCore: containers in
// init, regular, ephemeral order; one volume per projected token source.
func (s *jsonPodSpec) podSpec() policy.PodSpec {
	out := policy.PodSpec{AutomountServiceAccountToken: s.AutomountServiceAccountToken, ServiceAccountName: s.ServiceAccountName}
	if len(s.ImagePullSecrets) > 0 {
		out.ImagePullSecrets = make([]string, len(s.ImagePullSecrets))
		for i := range s.ImagePullSecrets {
			out.ImagePullSecrets[i] = s.ImagePullSecrets[i].Name
		}
	}
	n := len(s.InitContainers) + len(s.Containers) + len(s.EphemeralContainers)
	if n > 0 {
		out.Containers = make([]policy.Container, 0, n)
		out.Containers = appendJSONContainers(out.Containers, s.InitContainers, policy.ContainerInit)
		out.Containers = appendJSONContainers(out.Containers, s.Containers, policy.ContainerRegular)
		out.Containers = appendJSONContainers(out.Containers, s.EphemeralContainers, policy.ContainerEphemeral)
	}
	for i := range s.Volumes {
		v := &s.Volumes[i]
		if v.Secret != nil {
			out.Volumes = append(out.Volumes, policy.Volume{Name: v.Name, SecretName: v.Secret.SecretName})
		}
		if v.Projected != nil {
			for _, src := range v.Projected.Sources {
				if t := src.ServiceAccountToken; t != nil {
					out.Volumes = append(out.Volumes, policy.Volume{Name: v.Name, ServiceAccountToken: &policy.ProjectedToken{
						Path: t.Path, Audience: t.Audience, ExpirationSeconds: t.ExpirationSeconds}})
				}
			}
		}
	}
	return out
}

func appendJSONContainers(out []policy.Container, cs []jsonContainer, kind policy.ContainerKind) []policy.Container {
	for i := range cs {
		c := &cs[i]
		pc := policy.Container{Name: c.Name, Image: c.Image, Kind: kind}
		if len(c.VolumeMounts) > 0 {
			pc.VolumeMounts = make([]policy.VolumeMount, len(c.VolumeMounts))
			for j, m := range c.VolumeMounts {
				pc.VolumeMounts[j] = policy.VolumeMount{Name: m.Name, MountPath: m.MountPath}
			}
		}
		out = append(out, pc)
	}
	return out
}
