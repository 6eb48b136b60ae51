package admission

import (
	"fmt"
	"strconv"

	"github.com/tokenguard/tokenguard/pkg/config"
	"github.com/tokenguard/tokenguard/pkg/policy"
)

// Mode is how a namespace's findings are applied, chosen by the URL path.
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

// The unknown actions, as the configuration spells them.
const (
	UnknownAllow = config.UnknownAllow
	UnknownWarn  = config.UnknownWarn
	UnknownDeny  = config.UnknownDeny
)

// maxWarnings caps the warnings of one response: the API server keeps at
// most 4 KiB of warnings per request, and a wall of them helps no one.
const maxWarnings = 8

// Decision is what a mode makes of a workload's findings.
type Decision struct {
	Allowed  bool
	Message  string
	Warnings []string
	// Verdict is the worst verdict of the findings that are not exempt.
	Verdict policy.Verdict
}

// Decide applies a mode to findings. Exempt findings decide nothing. A
// denied request carries no warnings (the denial already says it all).
func Decide(mode Mode, unknown UnknownAction, findings []policy.Finding) Decision {
	d := Decision{Allowed: true, Verdict: policy.Worst(findings)}
	if mode == ModeAudit {
		return d
	}
	var offending []*policy.Finding
	for i := range findings {
		f := &findings[i]
		if f.Exempt != "" {
			continue
		}
		switch {
		case f.Verdict == policy.VerdictTooOld:
			offending = append(offending, f)
		case f.Verdict == policy.VerdictUnknown && unknown == UnknownDeny:
			offending = append(offending, f)
		case f.Verdict == policy.VerdictUnknown && unknown == UnknownWarn:
			d.Warnings = appendWarning(d.Warnings, f.Message)
		}
	}
	if mode == ModeEnforce && len(offending) > 0 {
		return Decision{Allowed: false, Message: policy.DenialMessage(offending), Verdict: d.Verdict}
	}
	if mode == ModeWarn {
		// Violations first, then the unknowns gathered above.
		warnings := make([]string, 0, len(offending)+len(d.Warnings))
		for _, f := range offending {
			warnings = appendWarning(warnings, f.Message)
		}
		for _, w := range d.Warnings {
			warnings = appendWarning(warnings, w)
		}
		d.Warnings = capWarnings(warnings)
		return d
	}
	d.Warnings = capWarnings(d.Warnings)
	return d
}

func appendWarning(ws []string, w string) []string {
	for _, have := range ws {
		if have == w {
			return ws
		}
	}
	return append(ws, w)
}

func capWarnings(ws []string) []string {
	if len(ws) <= maxWarnings {
		return ws
	}
	rest := len(ws) - (maxWarnings - 1)
	return append(ws[:maxWarnings-1:maxWarnings-1],
		fmt.Sprintf(`tokenguard "token-refresh": %s more finding%s not shown; run "tokenguard check" on the manifest for all of them`, strconv.Itoa(rest), plural(rest)))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
