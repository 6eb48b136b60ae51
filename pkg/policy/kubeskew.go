package policy

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tokenguard/tokenguard/pkg/policy/scheme"
)

// KubeVersion is a Kubernetes major.minor version.
type KubeVersion struct{ Major, Minor int }

func (v KubeVersion) String() string {
	return "v" + strconv.Itoa(v.Major) + "." + strconv.Itoa(v.Minor)
}

// ParseKubeVersion reads "v1.30", "1.30", "v1.30.2" or "v1.30.2-eks-1234" as
// a major.minor version.
func ParseKubeVersion(s string) (KubeVersion, error) {
	major, minor, ok := parseMajorMinor(s)
	if !ok {
		return KubeVersion{}, fmt.Errorf("%q is not a Kubernetes version such as v1.30", s)
	}
	return KubeVersion{major, minor}, nil
}

// parseMajorMinor reads the leading "vX.Y" of s without allocating.
func parseMajorMinor(s string) (major, minor int, ok bool) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "v"), "V")
	dot := strings.IndexByte(s, '.')
	if dot <= 0 {
		return 0, 0, false
	}
	end := dot + 1
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	if end == dot+1 || (end < len(s) && s[end] != '.' && s[end] != '-' && s[end] != '+') {
		return 0, 0, false
	}
	var err error
	if major, err = strconv.Atoi(s[:dot]); err != nil || major < 0 {
		return 0, 0, false
	}
	if minor, err = strconv.Atoi(s[dot+1 : end]); err != nil || minor < 0 {
		return 0, 0, false
	}
	return major, minor, true
}

// kubeProxyMinimum is the oldest kube-proxy minor the skew policy allows
// with a control plane of minor cp: three minors older, but only two for
// kube-proxy older than 1.25.
func kubeProxyMinimum(cp int) int {
	if cp-3 >= 25 {
		return cp - 3
	}
	return cp - 2
}

// checkKubeSkew judges a kube-proxy version against the control plane's. It
// returns the result and the minimum to show.
func checkKubeSkew(found string, cp *KubeVersion) (scheme.Result, string) {
	if cp == nil {
		return scheme.Result{Outcome: scheme.Unknown, Reason: "the control-plane version is not known"}, MinimumControlPlane
	}
	minMinor := kubeProxyMinimum(cp.Minor)
	min := "v" + strconv.Itoa(cp.Major) + "." + strconv.Itoa(minMinor)
	major, minor, ok := parseMajorMinor(found)
	switch {
	case !ok:
		// "latest" and digests say why; anything else is just unreadable.
		if r := scheme.Unparsable(found); r.Reason != scheme.ReasonUnparsable {
			return r, min
		}
		return scheme.Result{Outcome: scheme.Unknown, Reason: "not a Kubernetes version"}, min
	case major != cp.Major:
		return scheme.Result{Outcome: scheme.Unknown, Reason: "major version differs from the control plane's"}, min
	case minor > cp.Minor:
		return scheme.Result{Outcome: scheme.Unknown, Reason: "newer than the control plane, which the version-skew policy does not allow"}, min
	case minor < minMinor:
		return scheme.Result{Outcome: scheme.TooOld, Reason: "outside the version-skew policy for control plane " + cp.String()}, min
	}
	return scheme.Result{Outcome: scheme.OK}, min
}
