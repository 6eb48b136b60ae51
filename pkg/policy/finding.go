package policy

import "encoding/json"

// Finding is one verdict about one container (or one pod volume) and one
// component. It is data: every sentence users see (reports, admission
// warnings and denials) is rendered from these fields by message.go, and
// nothing parses a sentence back. Field names and JSON are part of the
// `check -o json` contract; the JSON also carries the rendered "message".
type Finding struct {
	// Container is the subject: the container judged, or for a token
	// finding the first container that mounts the volume ("" if none).
	Container string `json:"container,omitempty"`
	Image     string `json:"image,omitempty"`
	Platform  string `json:"platform,omitempty"`
	// Component is the catalog rule id ("k8s.io/client-go", "coredns") or,
	// for token findings, "projected-token-expiration"/"legacy-token-secret".
	Component string `json:"component"`
	Kind      string `json:"kind"`
	Version   string `json:"version,omitempty"`
	Minimum   string `json:"minimum,omitempty"`
	Source    string `json:"source"`
	// File is the file of the image the version was read from, for
	// versions found by a layer scan ("/app/node_modules/x/package.json").
	File    string  `json:"file,omitempty"`
	Verdict Verdict `json:"verdict"`
	// Reason is why the finding has its verdict.
	Reason Reason `json:"reason"`
	// Detail qualifies the reason: what the version scheme or the evidence
	// source said ("pseudo-version dated inside the fix window", "registry
	// timed out after 2s"); empty when there is nothing to add.
	Detail string `json:"detail,omitempty"`
	// Fix is what to do, for too-old and unknown findings.
	Fix string `json:"fix,omitempty"`
	// Volume names the pod volume of a token finding; Secret the legacy
	// token secret it mounts; ExpirationSeconds the projected token's.
	Volume            string `json:"volume,omitempty"`
	Secret            string `json:"secret,omitempty"`
	ExpirationSeconds int64  `json:"expirationSeconds,omitempty"`
	// Credentials is the AWS credential mechanism of an aws-sdk finding:
	// "irsa" or "pod-identity".
	Credentials string `json:"credentials,omitempty"`
	// Advisory says why an aws-sdk minimum is uncertain; a too-old
	// advisory finding warns and never denies.
	Advisory string `json:"advisory,omitempty"`
	// Exempt says why the configuration exempts this finding; an exempt
	// finding is reported but decides nothing.
	Exempt string `json:"exempt,omitempty"`
}

// Reason is the structured cause of a finding's verdict.
type Reason string

const (
	// ReasonMeetsMinimum: the version found meets the minimum (ok).
	ReasonMeetsMinimum Reason = "meets-minimum"
	// ReasonBelowMinimum: the version found is below the minimum (too-old).
	ReasonBelowMinimum Reason = "below-minimum"
	// ReasonIncomparable: a version was found but cannot be compared with
	// the minimum (unknown); Detail says why.
	ReasonIncomparable Reason = "incomparable"
	// ReasonNoVersion: an add-on image shows no version (unknown); Detail
	// says why.
	ReasonNoVersion Reason = "no-version"
	// ReasonNoSDKEvidence: nothing shows which client SDK an application
	// image holds (unknown); Detail says why.
	ReasonNoSDKEvidence Reason = "no-sdk-evidence"
	// ReasonNoSDKInSBOM: the image's SBOM lists no catalogued client SDK (ok).
	ReasonNoSDKInSBOM Reason = "no-sdk-in-sbom"
	// ReasonNoSDKInLayers: every file of the image was read and none holds
	// a catalogued client SDK (ok).
	ReasonNoSDKInLayers Reason = "no-sdk-in-layers"
	// ReasonNoToken: the container mounts no service-account token
	// (not-applicable).
	ReasonNoToken Reason = "no-token"
	// ReasonNoAWSCredentials: an AWS SDK rule's credential mechanism is not
	// what the container uses (not-applicable).
	ReasonNoAWSCredentials Reason = "no-aws-credentials"
	// ReasonTokenExpiration: a projected token lives longer than EKS
	// accepts (too-old).
	ReasonTokenExpiration Reason = "token-expiration"
	// ReasonLegacyTokenSecret: a legacy token secret is mounted (too-old).
	ReasonLegacyTokenSecret Reason = "legacy-token-secret"
)

// Token finding components.
const (
	ComponentNoSDKEvidence     = ""
	ComponentTokenExpiration   = "projected-token-expiration"
	ComponentLegacyTokenSecret = "legacy-token-secret"
	// ComponentIRSATokenExpiration: the eks.amazonaws.com/token-expiration
	// annotation asks the IRSA webhook for a token longer than EKS accepts.
	ComponentIRSATokenExpiration = "irsa-token-expiration"
)

// Worst returns the worst verdict of the findings that are not exempt
// (too-old > unknown > ok > not-applicable); none is not-applicable. An
// advisory too-old finding counts as unknown: its minimum is uncertain.
func Worst(findings []Finding) Verdict {
	v := VerdictNotApplicable
	for i := range findings {
		if findings[i].Exempt == "" && findings[i].Weight().Rank() > v.Rank() {
			v = findings[i].Weight()
		}
	}
	return v
}

// Weight is the verdict the finding counts as in a workload's verdict: its
// own, but unknown for an advisory too-old finding.
func (f *Finding) Weight() Verdict {
	if f.Verdict == VerdictTooOld && f.Advisory != "" {
		return VerdictUnknown
	}
	return f.Verdict
}

// MarshalJSON writes the fields and the rendered message, so that JSON
// readers get the same sentence as the text report.
func (f Finding) MarshalJSON() ([]byte, error) {
	type fields Finding
	return json.Marshal(struct {
		fields
		Message string `json:"message"`
	}{fields(f), f.Message()})
}
