package filecat

import (
	"strings"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// wanted is a package the catalogers report: one whose purl identity a
// catalog SDK rule matches, or that the AWS SDK checks need. Everything a
// cataloger reads that is not in this table is dropped, so results stay
// small; extending the scan to a new SDK is a row here (and, for a new
// ecosystem, a cataloger).
type wanted struct {
	typ, namespace, name string
	// prefix makes name a prefix: "client-java-" matches client-java-api.
	prefix bool
	// fileName lets a Java archive's file name identify the artifact when
	// its pom.properties and manifest do not ("client-java-9.0.0.jar"):
	// only for artifact names no other project uses ("auth" is not one).
	fileName bool
	// aws marks AWS SDK packages that no catalog rule matches, read for
	// the report only (boto3 wraps botocore, whose rules judge it).
	aws bool
}

var wantedPackages = [...]wanted{
	// Kubernetes client SDKs: the purls of pkg/policy/catalog.yaml's sdk
	// rules (TestWantedCoversCatalog holds the two together).
	{typ: "golang", namespace: "k8s.io", name: "client-go"},
	{typ: "pypi", name: "kubernetes"},
	{typ: "maven", namespace: "io.kubernetes", name: "client-java", fileName: true},
	{typ: "maven", namespace: "io.kubernetes", name: "client-java-", prefix: true, fileName: true},
	{typ: "npm", namespace: "@kubernetes", name: "client-node"},
	{typ: "gem", name: "kubernetes-io"},
	{typ: "gem", name: "fluent-plugin-kubernetes_metadata_filter"},
	{typ: "hackage", name: "kubernetes-client"},
	{typ: "nuget", name: "KubernetesClient"},

	// AWS SDKs: the packages that hold the credential code IRSA and EKS Pod
	// Identity need (shared/FACTS.md, "Minimum AWS SDK versions").
	{typ: "golang", namespace: "github.com/aws", name: "aws-sdk-go"},
	{typ: "golang", namespace: "github.com/aws/aws-sdk-go-v2", name: "config"},
	{typ: "golang", namespace: "github.com/aws/aws-sdk-go-v2", name: "credentials"},
	{typ: "pypi", name: "botocore"},
	{typ: "pypi", name: "boto3", aws: true},
	{typ: "maven", namespace: "software.amazon.awssdk", name: "auth"},
	{typ: "maven", namespace: "com.amazonaws", name: "aws-java-sdk-core", fileName: true},
	{typ: "maven", namespace: "aws.sdk.kotlin", name: "aws-config"},
	{typ: "npm", name: "aws-sdk"},
	{typ: "npm", namespace: "@aws-sdk", name: "credential-providers", aws: true},
	{typ: "npm", namespace: "@aws-sdk", name: "credential-provider-node"},
	{typ: "gem", name: "aws-sdk-core"},
	{typ: "nuget", name: "AWSSDK.Core"},
	{typ: "composer", namespace: "aws", name: "aws-sdk-php"},
	{typ: "cargo", name: "aws-config"},
}

// matchName compares a name with w's name (or prefix) the way w's
// ecosystem does: nuget ignores case, pypi compares PEP 503 forms, the
// others compare exactly.
func (w *wanted) matchName(name string) bool {
	switch w.typ {
	case "nuget":
		if w.prefix {
			return len(name) > len(w.name) && strings.EqualFold(name[:len(w.name)], w.name)
		}
		return strings.EqualFold(name, w.name)
	case "pypi":
		n, ok := pep503Prefix(name, w.name)
		return ok && (n == len(name) || w.prefix)
	}
	if w.prefix {
		return len(name) > len(w.name) && strings.HasPrefix(name, w.name)
	}
	return name == w.name
}

// isWanted reports whether a package identity is in wantedPackages.
func isWanted(typ, namespace, name string) bool {
	for i := range wantedPackages {
		w := &wantedPackages[i]
		if w.typ == typ && w.namespace == namespace && w.matchName(name) {
			return true
		}
	}
	return false
}

// isWantedGoModule reports whether a Go module path is wanted.
func isWantedGoModule(path string) bool {
	for i := range wantedPackages {
		w := &wantedPackages[i]
		if w.typ == "golang" && len(path) == len(w.namespace)+1+len(w.name) &&
			strings.HasPrefix(path, w.namespace) && path[len(w.namespace)] == '/' &&
			strings.HasSuffix(path, w.name) {
			return true
		}
	}
	return false
}

// isWantedNPM reports whether an npm package (scope with '@', or empty)
// is wanted.
func isWantedNPM(scope, name string) bool { return isWanted("npm", scope, name) }

// wantedMaven returns the wanted row of a Maven artifact, or nil.
func wantedMaven(group, artifact string) *wanted {
	for i := range wantedPackages {
		w := &wantedPackages[i]
		if w.typ == "maven" && w.namespace == group && w.matchName(artifact) {
			return w
		}
	}
	return nil
}

// pep503Prefix compares the start of name with want (already in PEP 503
// form: lowercase, single '-') as PEP 503 normalises both: letters ignore
// case and a run of '-', '_' and '.' equals one '-'. It returns how many
// bytes of name matched all of want, and whether it did.
func pep503Prefix(name, want string) (int, bool) {
	i, j := 0, 0
	for j < len(want) {
		if i >= len(name) {
			return 0, false
		}
		c := name[i]
		if isPEP503Sep(c) {
			if want[j] != '-' {
				return 0, false
			}
			for i < len(name) && isPEP503Sep(name[i]) {
				i++
			}
			j++
			continue
		}
		if lower(c) != want[j] {
			return 0, false
		}
		i++
		j++
	}
	return i, true
}

func isPEP503Sep(c byte) bool { return c == '-' || c == '_' || c == '.' }

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// pep503 returns a PyPI name in its PEP 503 form: lowercase, runs of '-',
// '_' and '.' replaced by one '-'.
func pep503(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	sep := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		if isPEP503Sep(c) {
			sep = true
			continue
		}
		if sep {
			b.WriteByte('-')
			sep = false
		}
		b.WriteByte(lower(c))
	}
	if sep {
		b.WriteByte('-')
	}
	return b.String()
}

// splitGoModule splits a module path into a purl namespace and name
// ("k8s.io/client-go" → "k8s.io", "client-go").
func splitGoModule(path string) (namespace, name string) {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[:i], path[i+1:]
	}
	return "", path
}

// results gathers one Read's findings without duplicates.
type results struct {
	source string // "layer:" + cataloger name
	res    Result
}

func newResults(catalogerName string) *results {
	return &results{source: "layer:" + catalogerName}
}

// found adds a package found in file, once.
func (r *results) found(file, typ, namespace, name, version string) {
	f := Found{
		Package: policy.Package{Type: typ, Namespace: namespace, Name: name, Version: version, Source: r.source},
		File:    file,
	}
	for _, g := range r.res.Found {
		if g == f {
			return
		}
	}
	r.res.Found = append(r.res.Found, f)
}

// note adds a note about file, once.
func (r *results) note(file, reason string) {
	n := Note{File: file, Reason: reason}
	for _, m := range r.res.Notes {
		if m == n {
			return
		}
	}
	r.res.Notes = append(r.res.Notes, n)
}
