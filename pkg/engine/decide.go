package engine

import (
	"github.com/tokenguard/tokenguard/pkg/config"
	"github.com/tokenguard/tokenguard/pkg/policy"
)

// Mode is how a namespace's findings are applied.
type Mode string

const (
	// ModeEnforce denies too-old workloads.
	ModeEnforce Mode = "enforce"
	// ModeWarn allows, with one admission warning per finding.
	ModeWarn Mode = "warn"
	// ModeAudit allows silently; metrics and log only.
	ModeAudit Mode = "audit"
)

// Modes lists the modes in path order.
var Modes = []Mode{ModeEnforce, ModeWarn, ModeAudit}

// UnknownAction says what unknown findings do: allow (nothing), warn, deny.
type UnknownAction = config.UnknownAction

// Decision is what a mode makes of a subject's findings. It holds the
// findings themselves; messages are rendered from them at the edge
// (policy.DenialMessage, Finding.Message).
type Decision struct {
	Allowed bool
	// Verdict is the worst verdict of the findings that are not exempt.
	Verdict policy.Verdict
	// Deny are the findings a denial names (empty when allowed).
	Deny []*policy.Finding
	// Warn are the findings to warn about, violations first, then advisory
	// ones, then unknowns (empty when denied: the denial already says it
	// all).
	Warn []*policy.Finding
}

// Decide is the one allow/warn/deny function: too-old findings deny in
// enforce and warn in warn; advisory too-old findings (an uncertain minimum)
// warn in both and never deny; unknown ones do what unknown says (allow:
// nothing, warn: a warning in enforce and warn, deny: as too-old). Exempt
// findings and the audit mode decide nothing.
func Decide(mode Mode, unknown UnknownAction, findings []policy.Finding) Decision {
	d := Decision{Allowed: true, Verdict: policy.Worst(findings)}
	if mode == ModeAudit || d.Verdict.Rank() < policy.VerdictUnknown.Rank() {
		return d
	}
	var offending, advisories, unknowns []*policy.Finding
	for i := range findings {
		f := &findings[i]
		switch {
		case f.Exempt != "":
		case f.Verdict == policy.VerdictTooOld && f.Advisory != "":
			advisories = append(advisories, f)
		case f.Verdict == policy.VerdictTooOld:
			offending = append(offending, f)
		case f.Verdict == policy.VerdictUnknown && unknown == config.UnknownDeny:
			offending = append(offending, f)
		case f.Verdict == policy.VerdictUnknown && unknown == config.UnknownWarn:
			unknowns = append(unknowns, f)
		}
	}
	switch {
	case mode == ModeEnforce && len(offending) > 0:
		d.Allowed, d.Deny = false, offending
	case mode == ModeWarn:
		d.Warn = append(append(offending, advisories...), unknowns...)
	default:
		d.Warn = append(advisories, unknowns...)
	}
	return d
}

// WouldDeny reports whether enforce would deny the findings under the
// unknown setting: the namespace preview's and `audit --preview-mode
// enforce`'s question.
func WouldDeny(unknown UnknownAction, findings []policy.Finding) (Decision, bool) {
	d := Decide(ModeEnforce, unknown, findings)
	return d, !d.Allowed
}
