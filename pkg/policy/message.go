package policy

import (
	"strconv"
	"strings"
)

const (
	policyName   = `tokenguard "token-refresh"`
	wouldViolate = `would violate ` + policyName + `: `
	violates     = `violates ` + policyName + `: `
	cannotCheck  = policyName + ` cannot check `
)

// sourceText turns an evidence source into words for a message.
func sourceText(source string) string {
	switch {
	case source == SourceTag:
		return "image tag"
	case source == SourcePodSpec:
		return "pod spec"
	case strings.HasPrefix(source, SourceLabelPrefix):
		return "image label " + source[len(SourceLabelPrefix):]
	case strings.HasPrefix(source, "sbom:spdx"):
		return "SPDX SBOM"
	case strings.HasPrefix(source, "sbom:cyclonedx"):
		return "CycloneDX SBOM"
	case strings.HasPrefix(source, "sbom:buildkit"):
		return "BuildKit SBOM attestation"
	case strings.HasPrefix(source, "sbom:"):
		return "SBOM"
	}
	return source
}

// msg collects the parts of a message on the stack and joins them with a
// single allocation.
type msg struct {
	parts [32]string
	n     int
}

func (m *msg) s(parts ...string) *msg {
	for _, p := range parts {
		if m.n < len(m.parts) {
			m.parts[m.n] = p
			m.n++
		}
	}
	return m
}

func (m *msg) q(s string) *msg { return m.s(`"`, s, `"`) }

func (m *msg) String() string {
	size := 0
	for _, p := range m.parts[:m.n] {
		size += len(p)
	}
	var b strings.Builder
	b.Grow(size)
	for _, p := range m.parts[:m.n] {
		b.WriteString(p)
	}
	return b.String()
}

// versionMessage is the sentence for a finding about a component version.
func versionMessage(f *Finding, r *Rule, reason string) string {
	var m msg
	switch f.Verdict {
	case VerdictTooOld:
		m.s(wouldViolate, "container ").q(f.Container).s(" uses ", f.Component, " ", f.Version)
		m.foundIn(f)
		m.s(", minimum ", f.Minimum)
		if reason != "" {
			m.s(" (", reason, ")")
		}
		m.s("; ", fixText(r))
	case VerdictUnknown:
		m.s(cannotCheck, "container ").q(f.Container).s(": ")
		if f.Version != "" {
			m.s(f.Component, " version ").q(f.Version)
			m.foundIn(f)
			if f.Minimum == MinimumControlPlane {
				m.s(" cannot be compared with the control plane's version: ", reason)
			} else {
				m.s(" cannot be compared with minimum ", f.Minimum, ": ", reason)
			}
		} else {
			m.s("image ").q(f.Image).s(" shows no ", f.Component, " version (", reason, "), minimum ", f.Minimum)
		}
		m.s("; ", unknownAdvice(f))
	case VerdictNotApplicable:
		m.s("container ").q(f.Container).s(" mounts no service-account token, so ", f.Component, " ", f.Version, " cannot hold a stale one")
	default:
		m.s("container ").q(f.Container).s(" uses ", f.Component, " ", f.Version)
		m.foundIn(f)
		m.s(", minimum ", f.Minimum)
	}
	return m.String()
}

func (m *msg) foundIn(f *Finding) {
	m.s(" (found in ", sourceText(f.Source))
	if f.Platform != "" {
		m.s(" for ", f.Platform)
	}
	m.s(")")
}

func fixText(r *Rule) string {
	if r.Fix != "" {
		return r.Fix
	}
	if r.Kind == KindAddon {
		return "update the add-on"
	}
	return "upgrade the client"
}

func unknownAdvice(f *Finding) string {
	switch {
	case f.Minimum == MinimumControlPlane:
		return "pass --cluster-version (e.g. v1.30), or set controlPlaneVersion in the configuration"
	case f.Source == SourceTag && f.Version != "":
		return "pin a version tag, or enable registry lookups to read its labels"
	case f.Kind == KindAddon:
		return "use a version tag, or enable registry lookups to read its labels"
	}
	return "fix the version, or exempt the image in the configuration"
}

// noSDKEvidenceMessage is the sentence for an application image with no
// evidence of a client SDK.
func noSDKEvidenceMessage(f *Finding, reason string, lookupFailed bool) string {
	var m msg
	m.s(cannotCheck, "container ").q(f.Container).s(": image ").q(f.Image).s(" shows no Kubernetes client SDK version (", reason, "); ")
	if lookupFailed {
		// The reason says what went wrong with the registry and what to do.
		m.s("if it persists, exempt the image")
	} else {
		m.s("attach an SBOM and enable registry lookups, or exempt the image")
	}
	return m.String()
}

func noSDKInSBOMMessage(f *Finding) string {
	return new(msg).s("container ").q(f.Container).s(": the ", sourceText(f.Source), " of image ").q(f.Image).s(" lists no Kubernetes client SDK in the catalog").String()
}

func noTokenMessage(f *Finding) string {
	return new(msg).s("container ").q(f.Container).s(" mounts no service-account token, so no client in it can hold a stale one").String()
}

func tokenExpirationMessage(f *Finding, volume string, seconds int64) string {
	days := strconv.FormatInt(seconds/86400, 10)
	return new(msg).s(wouldViolate, "volume ").q(volume).s(" requests a service-account token valid for ", days,
		" days (expirationSeconds ", strconv.FormatInt(seconds, 10), "), above the 90-day maximum (7776000) that Amazon EKS accepts; set expirationSeconds to 7776000 or less and let the kubelet refresh it").String()
}

func legacyTokenMessage(f *Finding, volume, secret string) string {
	return new(msg).s(wouldViolate, "volume ").q(volume).s(" mounts the legacy service-account token secret ").q(secret).
		s(", which is never refreshed and is being removed from clusters; delete the volume and let the kubelet project a bound token (automountServiceAccountToken)").String()
}
