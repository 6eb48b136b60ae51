package admission

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slok/kubewebhook/v2/pkg/model"
)

// ModeLabel is the namespace label that selects the mode.
const ModeLabel = "tokenguard.io/mode"

// Previewer answers, like Pod Security Admission's label check, which
// running workloads of a namespace would be denied under enforce: one line
// per workload (e.g. `Deployment/coredns: container "coredns" uses coredns
// v1.8.3-eksbuild.1 ...`), at most max of them, and how many there are.
type Previewer interface {
	PreviewEnforce(ctx context.Context, namespace string, max int) (lines []string, total int, err error)
}

// Preview limits: the label change must never be slow or flood the client.
const (
	previewBudget   = 2 * time.Second
	previewMaxLines = 5
)

// namespaceMeta is what the preview reads of a Namespace.
type namespaceMeta struct {
	Metadata struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
}

// previewNamespace warns, when a namespace's mode label becomes enforce,
// with the running workloads that would be denied. A namespace is never
// denied, and a failing preview only says so.
func (r *Reviewer) previewNamespace(ctx context.Context, mode Mode, ar *model.AdmissionReview) []string {
	if r.Previewer == nil {
		r.Metrics.skip(mode, "kind")
		return nil
	}
	var now, old namespaceMeta
	if json.Unmarshal(ar.NewObjectRaw, &now) != nil || now.Metadata.Labels[ModeLabel] != string(ModeEnforce) {
		r.Metrics.skip(mode, "kind")
		return nil
	}
	if len(ar.OldObjectRaw) > 0 && json.Unmarshal(ar.OldObjectRaw, &old) == nil && old.Metadata.Labels[ModeLabel] == string(ModeEnforce) {
		r.Metrics.skip(mode, "kind")
		return nil
	}
	ns := now.Metadata.Name
	ctx, cancel := context.WithTimeout(ctx, previewBudget)
	defer cancel()
	lines, total, err := r.Previewer.PreviewEnforce(ctx, ns, previewMaxLines)
	prefix := `tokenguard "token-refresh": namespace "` + ns + `" is now enforced`
	switch {
	case err != nil:
		if r.Log != nil {
			r.Log.Warn("namespace enforce preview failed", "namespace", ns, "error", err.Error())
		}
		return []string{prefix + "; the running workloads could not be checked (" + err.Error() + "); run \"tokenguard audit --preview-mode enforce -n " + ns + "\""}
	case total == 0:
		return nil
	}
	ws := make([]string, 0, len(lines)+2)
	ws = append(ws, fmt.Sprintf("%s: %d running workload%s would be denied if created now", prefix, total, plural(total)))
	for _, l := range lines {
		ws = append(ws, "would be denied: "+l)
	}
	if total > len(lines) {
		ws = append(ws, strconv.Itoa(total-len(lines))+` more; run "tokenguard audit --preview-mode enforce -n `+ns+`" for all of them`)
	}
	if r.Log != nil {
		r.Log.Info("namespace enforce preview", "namespace", ns, "wouldBeDenied", total, "workloads", strings.Join(lines, "; "))
	}
	return ws
}
