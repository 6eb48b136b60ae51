package policy

import (
	"strconv"
	"strings"
)

// ServiceAccountMountPath is where the kubelet mounts a pod's token.
const ServiceAccountMountPath = "/var/run/secrets/kubernetes.io/serviceaccount"

// MaxTokenSeconds is the longest token Amazon EKS issues or accepts: 90 days.
const MaxTokenSeconds = 7776000

// tokenInfo records which pod volumes carry a service-account token.
type tokenInfo struct {
	// injected: some container already has the default token mount (the
	// ServiceAccount admission plugin ran, or the manifest spells it out).
	injected bool
	// tokenVolumes holds the names of volumes that carry a token; small,
	// so a slice beats a map.
	tokenVolumes []string
}

func analyzeTokens(pod *PodSpec) tokenInfo {
	var ti tokenInfo
	for i := range pod.Volumes {
		v := &pod.Volumes[i]
		if v.ServiceAccountToken != nil || isLegacyTokenSecret(pod, v) {
			ti.tokenVolumes = append(ti.tokenVolumes, v.Name)
		}
	}
	for i := range pod.Containers {
		for _, m := range pod.Containers[i].VolumeMounts {
			if strings.TrimSuffix(m.MountPath, "/") == ServiceAccountMountPath {
				ti.injected = true
			}
		}
	}
	return ti
}

// mounted reports whether container i can read a service-account token: it
// mounts a token volume, or the pod leaves the default token mount to the
// ServiceAccount admission plugin (automountServiceAccountToken not false).
func (ti *tokenInfo) mounted(pod *PodSpec, i int) bool {
	for _, m := range pod.Containers[i].VolumeMounts {
		for _, name := range ti.tokenVolumes {
			if m.Name == name {
				return true
			}
		}
	}
	if ti.injected {
		return false
	}
	return pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken
}

// isLegacyTokenSecret reports whether a secret volume holds a legacy
// service-account token: mounted where the kubelet puts tokens, or named
// like the token secrets Kubernetes created before 1.24
// (<serviceaccount>-token-<5 random characters>).
func isLegacyTokenSecret(pod *PodSpec, v *Volume) bool {
	if v.SecretName == "" {
		return false
	}
	if looksLikeTokenSecretName(v.SecretName) {
		return true
	}
	for i := range pod.Containers {
		for _, m := range pod.Containers[i].VolumeMounts {
			if m.Name == v.Name && strings.TrimSuffix(m.MountPath, "/") == ServiceAccountMountPath {
				return true
			}
		}
	}
	return false
}

// randomAlphabet is the alphabet of Kubernetes' generated name suffixes
// (k8s.io/apimachinery/pkg/util/rand): no vowels, no 0, 1, 3.
const randomAlphabet = "bcdfghjklmnpqrstvwxz2456789"

func looksLikeTokenSecretName(name string) bool {
	const marker = "-token-"
	if len(name) < len(marker)+6 {
		return false
	}
	suffix := name[len(name)-5:]
	if name[len(name)-5-len(marker):len(name)-5] != marker {
		return false
	}
	for i := 0; i < len(suffix); i++ {
		if strings.IndexByte(randomAlphabet, suffix[i]) < 0 {
			return false
		}
	}
	return true
}

// tokenFindings reports projected tokens longer than EKS allows and legacy
// token secret volumes.
func (c *Catalog) tokenFindings(pod *PodSpec, out []Finding) []Finding {
	for i := range pod.Volumes {
		v := &pod.Volumes[i]
		if t := v.ServiceAccountToken; t != nil && t.ExpirationSeconds != nil && *t.ExpirationSeconds > MaxTokenSeconds {
			out = append(out, Finding{Container: mountingContainer(pod, v.Name), Component: ComponentTokenExpiration, Kind: KindToken,
				Source: SourcePodSpec, Verdict: VerdictTooOld, Reason: ReasonTokenExpiration, Fix: fixTokenExpiration,
				Volume: v.Name, ExpirationSeconds: *t.ExpirationSeconds})
		}
		if isLegacyTokenSecret(pod, v) {
			out = append(out, Finding{Container: mountingContainer(pod, v.Name), Component: ComponentLegacyTokenSecret, Kind: KindToken,
				Source: SourcePodSpec, Verdict: VerdictTooOld, Reason: ReasonLegacyTokenSecret, Fix: fixLegacyToken,
				Volume: v.Name, Secret: v.SecretName})
		}
	}
	return c.irsaTokenFinding(pod, out)
}

// IRSAVolumeName is the volume the IRSA webhook injects its token in.
const IRSAVolumeName = "aws-iam-token"

// irsaTokenFinding reports an eks.amazonaws.com/token-expiration annotation
// above 90 days on a pod that will get IRSA's token from the webhook. Once
// the webhook has run, the projected volume says it and tokenFindings
// reports that instead; an unparsable value is ignored, as the webhook
// ignores it and keeps its default.
func (c *Catalog) irsaTokenFinding(pod *PodSpec, out []Finding) []Finding {
	a := &pod.AWS
	if a.TokenExpiration == "" || !a.Mechanisms.Has(AWSIRSA) {
		return out
	}
	for i := range pod.Volumes {
		if t := pod.Volumes[i].ServiceAccountToken; t != nil && t.Audience == AudienceIRSA {
			return out
		}
	}
	secs, err := strconv.ParseInt(strings.TrimSpace(a.TokenExpiration), 10, 64)
	if err != nil || secs <= MaxTokenSeconds {
		return out
	}
	return append(out, Finding{Component: ComponentIRSATokenExpiration, Kind: KindToken,
		Source: SourcePodSpec, Verdict: VerdictTooOld, Reason: ReasonTokenExpiration, Detail: a.TokenExpirationFrom,
		Fix:    "set eks.amazonaws.com/token-expiration on the " + a.TokenExpirationFrom + " to 7776000 or less (the webhook's default is 86400)",
		Volume: IRSAVolumeName, ExpirationSeconds: secs})
}

// mountingContainer names the first container that mounts volume, or "".
func mountingContainer(pod *PodSpec, volume string) string {
	for i := range pod.Containers {
		for _, m := range pod.Containers[i].VolumeMounts {
			if m.Name == volume {
				return pod.Containers[i].Name
			}
		}
	}
	return ""
}
