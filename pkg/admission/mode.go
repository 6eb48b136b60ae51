package admission

import (
	"strconv"

	"github.com/tokenguard/tokenguard/pkg/config"
	"github.com/tokenguard/tokenguard/pkg/engine"
	"github.com/tokenguard/tokenguard/pkg/policy"
)

// Mode is how a namespace's findings are applied, chosen by the URL path
// (engine.Mode).
type Mode = engine.Mode

// The modes.
const (
	ModeEnforce = engine.ModeEnforce
	ModeWarn    = engine.ModeWarn
	ModeAudit   = engine.ModeAudit
)

// Modes lists the modes in path order.
var Modes = engine.Modes

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

// maxDenialClauses caps the findings a denial names, as maxWarnings caps
// warnings: a pod of 10,000 too-old containers was denied with a 1.2 MB
// message, which the API server passes on to the client and into events.
const maxDenialClauses = maxWarnings

// denialMessage renders a denial: the findings it names, in the
// `violates ...` form, at most maxDenialClauses of them (the first, in the
// decision's deterministic order), then how many more there are.
func denialMessage(d *engine.Decision) string {
	if d.Allowed {
		return ""
	}
	if len(d.Deny) <= maxDenialClauses {
		return policy.DenialMessage(d.Deny)
	}
	more := len(d.Deny) - maxDenialClauses
	return policy.DenialMessage(d.Deny[:maxDenialClauses]) + "; and " + strconv.Itoa(more) + " more finding" + plural(more) +
		`; run "tokenguard check" on the manifest for all of them`
}

// renderWarnings renders a decision's warnings, each sentence once, at most
// maxWarnings of them, the last saying how many more there are when the
// rest do not fit. Only the first maxWarnings distinct sentences are kept,
// so a pod of thousands of containers costs no more than a linear pass.
func renderWarnings(d *engine.Decision) []string {
	if len(d.Warn) == 0 {
		return nil
	}
	ws := make([]string, 0, min(len(d.Warn), maxWarnings))
	more := 0
	for _, f := range d.Warn {
		m := f.Message()
		switch {
		case contains(ws, m):
		case len(ws) < maxWarnings:
			ws = append(ws, m)
		default:
			more++
		}
	}
	if more == 0 {
		return ws
	}
	more++ // the last kept sentence gives way to the count
	return append(ws[:maxWarnings-1], policy.PolicyName+": "+strconv.Itoa(more)+" more finding"+plural(more)+
		` not shown; run "tokenguard check" on the manifest for all of them`)
}

func contains(ws []string, w string) bool {
	for _, have := range ws {
		if have == w {
			return true
		}
	}
	return false
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
