package policy

import (
	"slices"
	"strings"

	"github.com/tokenguard/tokenguard/pkg/policy/scheme"
)

// Options carry the facts about the cluster that some rules need.
type Options struct {
	// ControlPlane is the API server's version, for the kube-proxy rule;
	// nil makes kube-proxy findings unknown.
	ControlPlane *KubeVersion
}

// Evaluate judges one pod spec: evidence[i] is the evidence for
// pod.Containers[i] (a nil entry means none). It returns the findings sorted
// by container, then component; the same input gives the same output.
func (c *Catalog) Evaluate(pod *PodSpec, evidence []*Evidence, opts Options) []Finding {
	findings := make([]Finding, 0, len(pod.Containers)+1)
	tokens := analyzeTokens(pod)
	findings = c.tokenFindings(pod, findings)
	for i := range pod.Containers {
		var ev *Evidence
		if i < len(evidence) {
			ev = evidence[i]
		}
		findings = c.containerFindings(pod, &pod.Containers[i], ev, tokens.mounted(pod, i), opts, findings)
	}
	if len(findings) > 1 {
		slices.SortStableFunc(findings, func(a, b Finding) int {
			if c := strings.Compare(a.Container, b.Container); c != 0 {
				return c
			}
			if c := strings.Compare(a.Component, b.Component); c != 0 {
				return c
			}
			return strings.Compare(a.Platform, b.Platform)
		})
	}
	return findings
}

func (c *Catalog) containerFindings(pod *PodSpec, ctr *Container, ev *Evidence, hasToken bool, opts Options, out []Finding) []Finding {
	if ev == nil {
		ev = &Evidence{Ref: ImageRef{Original: ctr.Image}}
	}
	if ev.Ref.Repository != "" {
		if r := c.MatchImage(&ev.Ref); r != nil {
			return append(out, c.addonFinding(ctr, ev, r, opts))
		}
	}
	start := len(out)
	k8sSDK := false
	mech := AWSMechanism(0)
	var mechKnown bool
	var buf [4]*Rule
	for i := range ev.Packages {
		p := &ev.Packages[i]
		for _, r := range c.MatchPackages(p, buf[:0]) {
			f := Finding{
				Container: ctr.Name, Image: ctr.Image, Platform: p.Platform,
				Component: r.ID, Kind: r.Kind, Version: p.Version, Minimum: r.Minimum, Source: p.Source, File: p.File,
				Credentials: r.Credentials, Advisory: r.Advisory,
			}
			res := r.check(p.Version, &f)
			f.Verdict = outcomeVerdict(res.Outcome)
			switch {
			case r.Kind == KindAWSSDK:
				// An AWS SDK reads the credentials of its mechanism, not
				// the Kubernetes token: the mechanism decides.
				if !mechKnown {
					mech, mechKnown = AWSCredentials(pod, ctr)|pod.AWS.containerMechanisms(ctr.Name), true
				}
				if !mech.Has(r.mech) {
					f.Verdict, f.Reason, f.Advisory, f.Minimum = VerdictNotApplicable, ReasonNoAWSCredentials, "", r.Minimum
				} else {
					f.versionReason(r, res.Reason)
				}
				if f.Verdict != VerdictTooOld {
					f.Advisory = ""
				}
			case !hasToken:
				k8sSDK = true
				f.Verdict, f.Reason = VerdictNotApplicable, ReasonNoToken
			default:
				k8sSDK = true
				f.versionReason(r, res.Reason)
			}
			// One finding per component: keep the worst, the first on ties.
			if j := indexComponent(out[start:], r.ID); j >= 0 {
				if f.Verdict.Rank() > out[start+j].Verdict.Rank() {
					out[start+j] = f
				}
				continue
			}
			out = append(out, f)
		}
	}
	if k8sSDK {
		return out
	}
	f := Finding{Container: ctr.Name, Image: ctr.Image, Component: ComponentNoSDKEvidence, Kind: KindSDK}
	switch {
	case !hasToken:
		f.Verdict, f.Source, f.Reason = VerdictNotApplicable, SourcePodSpec, ReasonNoToken
	case ev.SBOM != "":
		f.Verdict, f.Source, f.Reason = VerdictOK, ev.SBOM, ReasonNoSDKInSBOM
	case ev.Layers != "":
		f.Verdict, f.Source, f.Reason = VerdictOK, ev.Layers, ReasonNoSDKInLayers
	default:
		f.Verdict, f.Source, f.Reason = VerdictUnknown, SourceNone, ReasonNoSDKEvidence
		switch {
		case ev.Unavailable != "":
			f.Detail = ev.Unavailable
		case ev.LayersIncomplete != "":
			f.Detail = "no SBOM is attached and " + ev.LayersIncomplete
		default:
			f.Detail = "no SBOM or labels were read"
		}
		f.Fix = noSDKEvidenceFix(ev.Unavailable != "" || ev.LayersIncomplete != "")
	}
	return append(out, f)
}

// check compares a package version with the rule's minimum, then with its
// advisory minimum: a version that passes the first and not the second is
// too-old with the advisory minimum, and advisory.
func (r *Rule) check(version string, f *Finding) scheme.Result {
	res := r.sch.Check(version, r.min)
	if res.Outcome != scheme.OK || r.advMin == nil {
		if r.AdvisoryMinimum != "" {
			f.Advisory = "" // below the certain minimum: not advisory
		}
		return res
	}
	if adv := r.sch.Check(version, r.advMin); adv.Outcome != scheme.OK {
		f.Minimum = r.AdvisoryMinimum
		return adv
	}
	return res
}

func indexComponent(fs []Finding, id string) int {
	for i := range fs {
		if fs[i].Component == id {
			return i
		}
	}
	return -1
}

// addonFinding judges a container whose image is a catalogued add-on, by the
// tag, else by a version label.
func (c *Catalog) addonFinding(ctr *Container, ev *Evidence, r *Rule, opts Options) Finding {
	f := Finding{Container: ctr.Name, Image: ctr.Image, Component: r.ID, Kind: KindAddon, Minimum: r.Minimum}
	check := func(v string) scheme.Result {
		if r.Scheme == SchemeKubeSkew {
			res, min := checkKubeSkew(v, opts.ControlPlane)
			f.Minimum = min
			return res
		}
		return r.sch.Check(v, r.min)
	}
	var res scheme.Result
	if tag := ev.Ref.Tag; tag != "" {
		f.Version, f.Source = tag, SourceTag
		res = check(tag)
		if res.Outcome == scheme.OK && ev.Ref.Digest != "" && !ev.TagVerified {
			// The runtime pulls the digest: a tag beside it passes the
			// image only once the registry confirmed it (labels may still).
			res = scheme.Result{Outcome: scheme.Unknown, Reason: unverifiedTagReason(ev)}
		}
	}
	if res.Outcome == scheme.Unknown {
		for _, key := range versionLabels {
			v, ok := ev.Labels[key]
			if !ok || v == "" {
				continue
			}
			if lres := check(v); lres.Outcome != scheme.Unknown || f.Version == "" {
				f.Version, f.Source, res = v, SourceLabelPrefix+key, lres
				break
			}
		}
	}
	f.Verdict = outcomeVerdict(res.Outcome)
	if f.Version != "" {
		f.versionReason(r, res.Reason)
		return f
	}
	f.Source, f.Reason = SourceNone, ReasonNoVersion
	switch {
	case ev.Unavailable != "":
		f.Detail = ev.Unavailable
	case ev.Ref.Digest != "":
		f.Detail = "the image is pinned by digest and no version label was read"
	default:
		// The runtime pulls "latest", which names no version.
		f.Detail = "the image has no tag, so the runtime pulls whatever latest points to"
	}
	f.Fix = unknownFix(&f)
	return f
}

// unverifiedTagReason says why a passing tag next to a digest is not
// trusted.
func unverifiedTagReason(ev *Evidence) string {
	if ev.TagUnverified != "" {
		return ev.TagUnverified
	}
	return "the tag sits next to a digest and the runtime pulls the digest; registry lookups confirm that the tag points at it"
}

// versionReason fills the reason, detail and fix of a finding about a
// version that was found, from its verdict and the scheme's reason.
func (f *Finding) versionReason(r *Rule, detail string) {
	f.Detail = detail
	switch f.Verdict {
	case VerdictTooOld:
		f.Reason, f.Fix = ReasonBelowMinimum, fixText(r)
	case VerdictUnknown:
		f.Reason, f.Fix = ReasonIncomparable, unknownFix(f)
	default:
		f.Reason, f.Detail = ReasonMeetsMinimum, ""
	}
}

func outcomeVerdict(o scheme.Outcome) Verdict {
	switch o {
	case scheme.OK:
		return VerdictOK
	case scheme.TooOld:
		return VerdictTooOld
	}
	return VerdictUnknown
}
