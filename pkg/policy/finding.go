package policy

import "strings"

// Finding is one verdict about one container (or one pod volume) and one
// component. Field names and JSON are part of the `check -o json` contract.
type Finding struct {
	Container string `json:"container,omitempty"`
	Image     string `json:"image,omitempty"`
	Platform  string `json:"platform,omitempty"`
	// Component is the catalog rule id ("k8s.io/client-go", "coredns") or,
	// for token findings, "projected-token-expiration"/"legacy-token-secret".
	Component string  `json:"component"`
	Kind      string  `json:"kind"`
	Version   string  `json:"version,omitempty"`
	Minimum   string  `json:"minimum,omitempty"`
	Source    string  `json:"source"`
	Verdict   Verdict `json:"verdict"`
	// Message is the sentence shown to users; for too-old findings it
	// starts with `would violate tokenguard "token-refresh":`.
	Message string `json:"message"`
	// Exempt says why the configuration exempts this finding; an exempt
	// finding is reported but decides nothing.
	Exempt string `json:"exempt,omitempty"`
}

// Token finding components.
const (
	ComponentNoSDKEvidence     = ""
	ComponentTokenExpiration   = "projected-token-expiration"
	ComponentLegacyTokenSecret = "legacy-token-secret"
)

// Worst returns the worst verdict of the findings that are not exempt
// (too-old > unknown > ok > not-applicable); none is not-applicable.
func Worst(findings []Finding) Verdict {
	v := VerdictNotApplicable
	for i := range findings {
		if findings[i].Exempt == "" && findings[i].Verdict.Rank() > v.Rank() {
			v = findings[i].Verdict
		}
	}
	return v
}

// Detail returns the message without its policy prefix: the clause that
// names the container, the version and what to do.
func (f *Finding) Detail() string {
	switch {
	case strings.HasPrefix(f.Message, wouldViolate):
		return f.Message[len(wouldViolate):]
	case strings.HasPrefix(f.Message, cannotCheck):
		return f.Message[len(policyName)+1:]
	}
	return f.Message
}

// DenialMessage joins the findings that deny a request into one sentence in
// the denial form: `violates tokenguard "token-refresh": <detail>. <detail>`.
func DenialMessage(findings []*Finding) string {
	n := len(violates)
	for _, f := range findings {
		n += len(f.Detail()) + 2
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(violates)
	for i, f := range findings {
		if i > 0 {
			b.WriteString(". ")
		}
		b.WriteString(f.Detail())
	}
	return b.String()
}

// Violation returns the message in the denial form ("violates ...") for a
// too-old finding, and the message unchanged otherwise.
func (f *Finding) Violation() string {
	if f.Verdict == VerdictTooOld && len(f.Message) > len(wouldViolate) && f.Message[:len(wouldViolate)] == wouldViolate {
		return violates + f.Message[len(wouldViolate):]
	}
	return f.Message
}
