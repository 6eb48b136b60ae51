package policy

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
}

// Token finding components.
const (
	ComponentNoSDKEvidence     = ""
	ComponentTokenExpiration   = "projected-token-expiration"
	ComponentLegacyTokenSecret = "legacy-token-secret"
)

// Worst returns the worst verdict of findings (too-old > unknown > ok >
// not-applicable); no findings is not-applicable.
func Worst(findings []Finding) Verdict {
	v := VerdictNotApplicable
	for i := range findings {
		if findings[i].Verdict.Rank() > v.Rank() {
			v = findings[i].Verdict
		}
	}
	return v
}

// Violation returns the message in the denial form ("violates ...") for a
// too-old finding, and the message unchanged otherwise.
func (f *Finding) Violation() string {
	if f.Verdict == VerdictTooOld && len(f.Message) > len(wouldViolate) && f.Message[:len(wouldViolate)] == wouldViolate {
		return violates + f.Message[len(wouldViolate):]
	}
	return f.Message
}
