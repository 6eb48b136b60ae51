package imageevidence

import (
	"slices"
	"strconv"
	"strings"

	"github.com/tokenguard/tokenguard/pkg/apis/tokenguard/v1alpha1"
)

// Summary returns status.summary for st, the one line `kubectl get
// imageevidences` prints: the packages with their versions, each once
// ("k8s.io/client-go v0.14.2, npm:aws-sdk 2.524.0"); else what was read and
// held no catalogued SDK ("no catalogued SDK in the SBOM", "... in the
// files"), or why nothing could be read ("unavailable: ...", "files not all
// read: ..."), followed by the version labels
// ("org.opencontainers.image.version=v1.11.1"). At most MaxSummaryLength
// bytes; packages that do not fit are counted ("+3 more").
func Summary(st *v1alpha1.ImageEvidenceStatus) string {
	var parts []string
	for i := range st.Packages {
		p := &st.Packages[i]
		s := DisplayName(p.Type, p.Namespace, p.Name)
		if p.Version != "" {
			s += " " + p.Version
		}
		if !slices.Contains(parts, s) {
			parts = append(parts, s)
		}
	}
	if len(parts) > 0 {
		return joinFitting(parts, ", ", v1alpha1.MaxSummaryLength)
	}
	var lead string
	switch {
	case st.Unavailable != "":
		lead = "unavailable: " + st.Unavailable
	case st.SBOM != "":
		lead = "no catalogued SDK in the SBOM"
	case st.Layers != "":
		lead = "no catalogued SDK in the files"
	case st.LayersIncomplete != "":
		lead = "files not all read: " + st.LayersIncomplete
	case len(st.Labels) == 0:
		lead = "no SBOM; files not read"
	}
	keys := make([]string, 0, len(st.Labels))
	for k := range st.Labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	labels := make([]string, len(keys))
	for i, k := range keys {
		labels[i] = k + "=" + st.Labels[k]
	}
	s := strings.Join(labels, ", ")
	if lead != "" && s != "" {
		s = lead + "; " + s
	} else if lead != "" {
		s = lead
	}
	return cut(s, v1alpha1.MaxSummaryLength)
}

// joinFitting joins parts with sep within max bytes; parts that do not fit
// are counted at the end (", +3 more").
func joinFitting(parts []string, sep string, max int) string {
	if s := strings.Join(parts, sep); len(s) <= max {
		return s
	}
	more := func(n int) string { return sep + "+" + strconv.Itoa(n) + " more" }
	var b strings.Builder
	for i, p := range parts {
		add := p
		if i > 0 {
			add = sep + p
		}
		// p fits if there is still room for the count of the parts after it.
		rest := len(parts) - i - 1
		need := b.Len() + len(add)
		if rest > 0 {
			need += len(more(rest))
		}
		if need <= max {
			b.WriteString(add)
			continue
		}
		switch {
		case i > 0: // the previous part left room for this count
			b.WriteString(more(rest + 1))
			return b.String()
		case rest == 0:
			return cut(p, max)
		}
		return cut(p, max-len(more(rest))) + more(rest)
	}
	return b.String()
}

// DisplayName names a package as the catalog's rule ids do: a Go module by
// its path ("k8s.io/client-go"), a Maven artifact as group:artifact
// ("io.kubernetes:client-java"), a scoped npm package by its scope
// ("@kubernetes/client-node"), others as type:name ("npm:aws-sdk",
// "pypi:kubernetes", "composer:aws/aws-sdk-php").
func DisplayName(typ, namespace, name string) string {
	path := name
	if namespace != "" {
		path = namespace + "/" + name
	}
	switch strings.ToLower(typ) {
	case "golang":
		return path
	case "maven":
		if namespace != "" {
			return namespace + ":" + name
		}
	case "npm":
		if strings.HasPrefix(namespace, "@") {
			return path
		}
	}
	return strings.ToLower(typ) + ":" + path
}
