package report

import (
	"fmt"
	"strings"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// RuleClientSDKEvidence is the rule of the findings whose Component is
// policy.ComponentNoSDKEvidence (""): whether an application image shows a
// catalogued client SDK at all. It is the rule name the OpenReports reports
// use (reports.RuleClientSDKEvidence).
const RuleClientSDKEvidence = "client-sdk-evidence"

// RuleID is a finding's rule: its catalog rule id (Component), or
// RuleClientSDKEvidence for the findings with none.
func RuleID(f *policy.Finding) string {
	if f.Component == policy.ComponentNoSDKEvidence {
		return RuleClientSDKEvidence
	}
	return f.Component
}

// ruleInfo is what SARIF (and JUnit) say of a rule beside its id.
type ruleInfo struct {
	id    string
	kind  string // policy.KindSDK, KindAWSSDK, KindAddon, KindToken
	short string // one line: what is wrong
	full  string // why it matters
	help  []helpLine
	uri   string // helpUri; "" when the rule's source cites no URL
	level string // SARIF defaultConfiguration.level
}

// helpLine is one labelled line of a rule's help ("Minimum", "Fix", ...).
type helpLine struct{ label, text string }

// builtinRules are the rules of findings that no catalog rule makes: the
// pod's token volumes and the evidence of a client SDK.
func builtinRules() []ruleInfo {
	maxDays := policy.MaxTokenSeconds / 86400
	return []ruleInfo{
		{
			id: RuleClientSDKEvidence, kind: policy.KindSDK, level: "warning",
			short: "Application image whose Kubernetes client SDK cannot be seen",
			full: "Nothing shows which Kubernetes client SDK an application image holds (an image tag cannot; without " +
				"--registry no SBOM or label is read; a registry that did not answer, or a layer scan cut short, leaves it open). " +
				"Such a container cannot be checked, so its finding is unknown: it is allowed unless the configuration says unknown: warn|deny.",
			help: []helpLine{
				{"Fix", "attach an SBOM to the image and run check with --registry (or --registry --scan-layers to read the image's own files), or exempt the image in the configuration"},
			},
		},
		{
			id: policy.ComponentTokenExpiration, kind: policy.KindToken, level: "error",
			short: fmt.Sprintf("Projected service-account token valid for more than %d days", maxDays),
			full: fmt.Sprintf("A projected serviceAccountToken volume asks for expirationSeconds above %d (%d days), "+
				"the longest token lifetime Amazon EKS accepts: the token request is refused.", policy.MaxTokenSeconds, maxDays),
			help: []helpLine{
				{"Fix", fmt.Sprintf("set expirationSeconds to %d or less and let the kubelet refresh the token", policy.MaxTokenSeconds)},
				{"Source", "Amazon EKS User Guide, Kubernetes service accounts: the API server extends tokens to at most 90 days and refuses requests for longer ones"},
			},
		},
		{
			id: policy.ComponentIRSATokenExpiration, kind: policy.KindToken, level: "error",
			short: fmt.Sprintf("IRSA token expiration annotation above %d days", maxDays),
			full: fmt.Sprintf("The eks.amazonaws.com/token-expiration annotation (on the pod or its service account) asks the "+
				"IRSA webhook for a token valid for more than %d seconds (%d days), the longest lifetime Amazon EKS accepts.",
				policy.MaxTokenSeconds, maxDays),
			help: []helpLine{
				{"Fix", fmt.Sprintf("set eks.amazonaws.com/token-expiration to %d or less (the webhook's default is 86400)", policy.MaxTokenSeconds)},
			},
		},
		{
			id: policy.ComponentLegacyTokenSecret, kind: policy.KindToken, level: "error",
			short: "Legacy service-account token secret mounted",
			full: "A volume mounts a kubernetes.io/service-account-token secret: its token is never refreshed, and such " +
				"secrets are being removed from clusters (LegacyServiceAccountTokenCleanUp).",
			help: []helpLine{
				{"Fix", "delete the volume and let the kubelet project a bound token (automountServiceAccountToken)"},
			},
		},
	}
}

// catalogRule describes a catalog rule from its data: its name, minimum,
// fix, advisory and source.
func catalogRule(r *policy.Rule) ruleInfo {
	name := r.Name
	if name == "" {
		name = r.ID
	}
	info := ruleInfo{id: r.ID, kind: r.Kind, level: "error", uri: helpURI(r.Source)}
	min := r.Minimum
	const expire = "Bound service-account tokens expire after an hour and must be re-read from disk; "
	const stale = "older versions keep the first token, which Amazon EKS rejects once it is 90 days old."
	switch {
	case r.Scheme == policy.SchemeKubeSkew:
		min = "the control plane's version, within the Kubernetes version-skew policy"
		info.short = fmt.Sprintf("%s outside the version skew the control plane allows", name)
		info.full = fmt.Sprintf(expire+"%s must stay within the version-skew policy of the control plane "+
			"(not newer than the API server, and not too many minors older) to keep doing so.", name)
	case r.Kind == policy.KindAWSSDK:
		mech, fails := "IAM roles for service accounts (IRSA)", "cannot use the role and fall back to the node's credentials"
		if r.Credentials == policy.CredentialsPodIdentity {
			mech, fails = "EKS Pod Identity", "fail to get credentials or fall back to the node's instance role"
		}
		pkg, _, _ := strings.Cut(r.ID, "#")
		info.short = fmt.Sprintf("%s: %s older than %s", name, pkg, min)
		info.full = fmt.Sprintf("Containers that take AWS credentials through %s need %s %s or later: older versions %s.",
			mech, pkg, min, fails)
	case strings.EqualFold(min, "unreleased"):
		info.short = fmt.Sprintf("%s: no released version refreshes service-account tokens", name)
		info.full = fmt.Sprintf(expire+"no released version of %s does (the fix is unreleased), "+
			"so every release keeps the first token, which Amazon EKS rejects once it is 90 days old.", name)
	default:
		info.short = fmt.Sprintf("%s older than %s, which refreshes service-account tokens", name, min)
		info.full = fmt.Sprintf(expire+"%s does so from %s on; "+stale, name, min)
	}
	info.help = append(info.help, helpLine{"Minimum", min})
	if r.Advisory != "" {
		adv := "uncertain: " + r.Advisory + "; a finding against it warns and never denies"
		if r.AdvisoryMinimum != "" {
			adv = fmt.Sprintf("uncertain from %s up to %s: %s; a finding in that range warns and never denies",
				r.Minimum, r.AdvisoryMinimum, r.Advisory)
		}
		info.help = append(info.help, helpLine{"Advisory", adv})
	}
	if r.Fix != "" {
		info.help = append(info.help, helpLine{"Fix", r.Fix})
	}
	info.help = append(info.help, helpLine{"Source", r.Source})
	return info
}

// unknownRule describes a rule that neither the catalog nor the built-in
// rules know (a finding from another catalog than the one given).
func unknownRule(id string) ruleInfo {
	return ruleInfo{id: id, level: "error",
		short: id + ": a tokenguard rule",
		full:  "A rule of a catalog other than the one this report was written with; see the finding's message."}
}

// helpText is the rule's help as plain text and as Markdown.
func (ri *ruleInfo) helpText() (text, markdown string) {
	var t, m strings.Builder
	t.WriteString(ri.full)
	m.WriteString(markdownEscape(ri.full))
	for _, h := range ri.help {
		fmt.Fprintf(&t, "\n%s: %s", h.label, h.text)
		fmt.Fprintf(&m, "\n\n**%s:** %s", h.label, markdownEscape(h.text))
	}
	if ri.uri != "" {
		fmt.Fprintf(&t, "\nMore: %s", ri.uri)
	}
	return t.String(), m.String()
}

// markdownEscape keeps catalog text from being read as Markdown markup.
func markdownEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`, "<", `\<`)
	return r.Replace(s)
}

// firstURL returns the first http(s) URL in s, or "": a catalog source
// that cites a page by its address gives the rule its helpUri.
// guidePages are the Amazon EKS User Guide pages the catalog's sources
// cite by title, for rules whose source names no URL.
var guidePages = [...]struct{ title, url string }{
	{"Amazon EKS User Guide, Kubernetes service accounts", "https://docs.aws.amazon.com/eks/latest/userguide/service-accounts.html"},
	{"Amazon EKS User Guide, Use IRSA with the AWS SDK", "https://docs.aws.amazon.com/eks/latest/userguide/iam-roles-for-service-accounts-minimum-sdk.html"},
	{"Amazon EKS User Guide, Use Pod Identity with the AWS SDK", "https://docs.aws.amazon.com/eks/latest/userguide/pod-id-minimum-sdk.html"},
}

// helpURI is the first URL source cites, else the guide page it names by
// title, else "".
func helpURI(source string) string {
	if u := firstURL(source); u != "" {
		return u
	}
	for _, p := range guidePages {
		if strings.HasPrefix(source, p.title) {
			return p.url
		}
	}
	return ""
}

func firstURL(s string) string {
	for _, scheme := range [...]string{"https://", "http://"} {
		if i := strings.Index(s, scheme); i >= 0 {
			u := s[i:]
			if j := strings.IndexAny(u, " \t\n\"'<>)]"); j >= 0 {
				u = u[:j]
			}
			return strings.TrimRight(u, ".,;:")
		}
	}
	return ""
}
