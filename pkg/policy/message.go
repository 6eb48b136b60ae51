package policy

import (
	"strconv"
	"strings"
)

// The policy's name and the PSA-style prefixes of its sentences.
const (
	PolicyName   = `tokenguard "token-refresh"`
	wouldViolate = `would violate ` + PolicyName + `: `
	violates     = `violates ` + PolicyName + `: `
)

// Message is the finding as one sentence for reports and warnings: a
// too-old finding reads `would violate tokenguard "token-refresh": <clause>`,
// an unknown one `tokenguard "token-refresh" cannot check <clause>`, others
// are the bare clause. It is rendered from the fields; the same finding
// gives the same bytes.
func (f *Finding) Message() string {
	var b strings.Builder
	b.Grow(192)
	switch f.Verdict {
	case VerdictTooOld:
		b.WriteString(wouldViolate)
	case VerdictUnknown:
		b.WriteString(PolicyName)
		b.WriteByte(' ')
	}
	f.writeClause(&b)
	return b.String()
}

// Clause is the finding's sentence without the policy's name: what a
// denial joins and a namespace preview lists.
func (f *Finding) Clause() string {
	var b strings.Builder
	b.Grow(160)
	f.writeClause(&b)
	return b.String()
}

// DenialMessage renders the findings that deny a request as one sentence:
// `violates tokenguard "token-refresh": <clause>. <clause>`.
func DenialMessage(findings []*Finding) string {
	var b strings.Builder
	b.Grow(len(violates) + 192*len(findings))
	b.WriteString(violates)
	for i, f := range findings {
		if i > 0 {
			b.WriteString(". ")
		}
		f.writeClause(&b)
	}
	return b.String()
}

// writeClause writes the clause that names the subject, what was found,
// where, the minimum and the fix.
func (f *Finding) writeClause(b *strings.Builder) {
	w := func(parts ...string) {
		for _, p := range parts {
			b.WriteString(p)
		}
	}
	container := strconv.Quote(f.Container)
	if f.Kind == KindAWSSDK {
		f.writeAWSClause(b)
		return
	}
	switch f.Reason {
	case ReasonTokenExpiration:
		if f.Component == ComponentIRSATokenExpiration {
			w("the eks.amazonaws.com/token-expiration annotation on the ", f.Detail, " asks the IRSA webhook for tokens valid for ",
				strconv.FormatInt(f.ExpirationSeconds/86400, 10), " days (", strconv.FormatInt(f.ExpirationSeconds, 10),
				" seconds), above the 90-day maximum (7776000) that Amazon EKS accepts; ", f.Fix)
			return
		}
		w("volume ", strconv.Quote(f.Volume), " requests a service-account token valid for ", strconv.FormatInt(f.ExpirationSeconds/86400, 10),
			" days (expirationSeconds ", strconv.FormatInt(f.ExpirationSeconds, 10), "), above the 90-day maximum (7776000) that Amazon EKS accepts; ", f.Fix)
	case ReasonLegacyTokenSecret:
		w("volume ", strconv.Quote(f.Volume), " mounts the legacy service-account token secret ", strconv.Quote(f.Secret),
			", which is never refreshed and is being removed from clusters; ", f.Fix)
	case ReasonBelowMinimum:
		w("container ", container, " uses ", f.Component, " ", f.Version)
		f.writeFoundIn(b)
		w(", minimum ", f.Minimum)
		if f.Detail != "" {
			w(" (", f.Detail, ")")
		}
		w("; ", f.Fix)
	case ReasonIncomparable:
		w("cannot check container ", container, ": ", f.Component, " version ", strconv.Quote(f.Version))
		f.writeFoundIn(b)
		if f.Minimum == MinimumControlPlane {
			w(" cannot be compared with the control plane's version: ", f.Detail)
		} else {
			w(" cannot be compared with minimum ", f.Minimum, ": ", f.Detail)
		}
		w("; ", f.Fix)
	case ReasonNoVersion:
		w("cannot check container ", container, ": image ", strconv.Quote(f.Image), " shows no ", f.Component,
			" version (", f.Detail, "), minimum ", f.Minimum, "; ", f.Fix)
	case ReasonNoSDKEvidence:
		w("cannot check container ", container, ": image ", strconv.Quote(f.Image),
			" shows no Kubernetes client SDK version (", f.Detail, "); ", f.Fix)
	case ReasonNoSDKInSBOM:
		w("container ", container, ": the ", sourceText(f.Source), " of image ", strconv.Quote(f.Image),
			" lists no Kubernetes client SDK in the catalog")
	case ReasonNoSDKInLayers:
		w("container ", container, ": no Kubernetes client SDK in the files of image ", strconv.Quote(f.Image))
	case ReasonNoToken:
		if f.Component == ComponentNoSDKEvidence {
			w("container ", container, " mounts no service-account token, so no client in it can hold a stale one")
		} else {
			w("container ", container, " mounts no service-account token, so ", f.Component, " ", f.Version, " cannot hold a stale one")
		}
	default: // ReasonMeetsMinimum
		w("container ", container, " uses ", f.Component, " ", f.Version)
		f.writeFoundIn(b)
		w(", minimum ", f.Minimum)
	}
}

// writeAWSClause writes the clause of an aws-sdk finding: the package, the
// credential mechanism and, when too old, what the SDK then does.
func (f *Finding) writeAWSClause(b *strings.Builder) {
	w := func(parts ...string) {
		for _, p := range parts {
			b.WriteString(p)
		}
	}
	name, _, _ := strings.Cut(f.Component, "#")
	mech := mechanismText(f.Credentials)
	container := strconv.Quote(f.Container)
	switch f.Reason {
	case ReasonBelowMinimum:
		w("container ", container, " uses ", name, " ", f.Version)
		f.writeFoundIn(b)
		w(", below ", f.Minimum, ", the minimum for ", mech)
		if f.Detail != "" {
			w(" (", f.Detail, ")")
		}
		if f.Advisory != "" {
			w(" (uncertain: ", f.Advisory, "), so it ", advisoryConsequenceText(f.Credentials))
		} else {
			w(", so it ", consequenceText(f.Credentials))
		}
		w("; ", f.Fix)
	case ReasonIncomparable:
		w("cannot check container ", container, ": ", name, " version ", strconv.Quote(f.Version))
		f.writeFoundIn(b)
		w(" cannot be compared with ", f.Minimum, ", the minimum for ", mech, ": ", f.Detail, "; ", f.Fix)
	case ReasonNoAWSCredentials:
		w("container ", container, " uses ", name, " ", f.Version)
		f.writeFoundIn(b)
		w(" but takes no AWS credentials through ", mech, ", so its minimum ", f.Minimum, " does not apply")
	default: // ReasonMeetsMinimum
		w("container ", container, " uses ", name, " ", f.Version)
		f.writeFoundIn(b)
		w(" with ", mech, ", minimum ", f.Minimum)
	}
}

// advisoryConsequenceText is what an AWS SDK below an uncertain minimum
// may do.
func advisoryConsequenceText(credentials string) string {
	if credentials == CredentialsPodIdentity {
		return "may fail to get credentials or fall back to the node's instance role"
	}
	return "may be unable to use the role and fall back to the node's credentials"
}

// mechanismText names a credential mechanism in a sentence.
func mechanismText(credentials string) string {
	if credentials == CredentialsPodIdentity {
		return "EKS Pod Identity"
	}
	return "IAM roles for service accounts (IRSA)"
}

// consequenceText is what an AWS SDK too old for the mechanism does.
func consequenceText(credentials string) string {
	if credentials == CredentialsPodIdentity {
		return "fails to get credentials or falls back to the node's instance role"
	}
	return "cannot use the role and falls back to the node's credentials"
}

func (f *Finding) writeFoundIn(b *strings.Builder) {
	b.WriteString(" (found in ")
	if f.File != "" {
		b.WriteString(f.File)
	} else {
		b.WriteString(sourceText(f.Source))
	}
	if f.Platform != "" {
		b.WriteString(" for ")
		b.WriteString(f.Platform)
	}
	b.WriteByte(')')
}

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
	case source == SourceLayers, strings.HasPrefix(source, SourceLayerPrefix):
		return "the image's files"
	}
	return source
}

// Fixes of token findings.
const (
	fixTokenExpiration = "set expirationSeconds to 7776000 or less and let the kubelet refresh it"
	fixLegacyToken     = "delete the volume and let the kubelet project a bound token (automountServiceAccountToken)"
)

// fixText is what to do about a too-old component.
func fixText(r *Rule) string {
	if r.Fix != "" {
		return r.Fix
	}
	if r.Kind == KindAddon {
		return "update the add-on"
	}
	return "upgrade the client"
}

// unknownFix is what to do about a component whose version is unknown.
func unknownFix(f *Finding) string {
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

// noSDKEvidenceFix is what to do about an application image with no
// evidence of a client SDK: when the lookup failed, the detail already
// says what went wrong with the registry and what to do.
func noSDKEvidenceFix(lookupFailed bool) string {
	if lookupFailed {
		return "if it persists, exempt the image"
	}
	return "attach an SBOM and enable registry lookups, or exempt the image"
}
