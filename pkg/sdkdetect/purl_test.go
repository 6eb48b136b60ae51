package sdkdetect

import (
	"errors"
	"strings"
	"testing"
)

// parsePURLTests are valid package URLs with what ParsePURL makes of them.
var parsePURLTests = []struct {
	name    string
	in      string
	want    PURL
	wantKey string
}{
	{"client-go", "pkg:golang/k8s.io/client-go@v0.15.7",
		PURL{Type: "golang", Namespace: "k8s.io", Name: "client-go", Version: "v0.15.7"},
		"golang/k8s.io/client-go"},
	{"client-go incompatible", "pkg:golang/k8s.io/client-go@v11.0.0%2Bincompatible",
		PURL{Type: "golang", Namespace: "k8s.io", Name: "client-go", Version: "v11.0.0+incompatible"},
		"golang/k8s.io/client-go"},
	{"client-go unencoded plus", "pkg:golang/k8s.io/client-go@v12.0.0+incompatible",
		PURL{Type: "golang", Namespace: "k8s.io", Name: "client-go", Version: "v12.0.0+incompatible"},
		"golang/k8s.io/client-go"},
	{"client-go pseudo-version", "pkg:golang/k8s.io/client-go@v0.0.0-20190620085101-78d2af792bab",
		PURL{Type: "golang", Namespace: "k8s.io", Name: "client-go", Version: "v0.0.0-20190620085101-78d2af792bab"},
		"golang/k8s.io/client-go"},
	{"golang keeps case", "pkg:golang/github.com/Azure/go-autorest@v14.2.0%2Bincompatible",
		PURL{Type: "golang", Namespace: "github.com/Azure", Name: "go-autorest", Version: "v14.2.0+incompatible"},
		"golang/github.com/azure/go-autorest"},
	{"pypi", "pkg:pypi/kubernetes@12.0.0",
		PURL{Type: "pypi", Name: "kubernetes", Version: "12.0.0"},
		"pypi/kubernetes"},
	{"pypi normalised", "pkg:pypi/Django_Rest.Framework@3.15.0",
		PURL{Type: "pypi", Name: "django-rest.framework", Version: "3.15.0"},
		"pypi/django-rest-framework"},
	{"maven with qualifiers", "pkg:maven/io.kubernetes/client-java@9.0.0?type=jar",
		PURL{Type: "maven", Namespace: "io.kubernetes", Name: "client-java", Version: "9.0.0", Qualifiers: "type=jar"},
		"maven/io.kubernetes/client-java"},
	{"npm encoded scope", "pkg:npm/%40kubernetes/client-node@0.10.3",
		PURL{Type: "npm", Namespace: "@kubernetes", Name: "client-node", Version: "0.10.3"},
		"npm/@kubernetes/client-node"},
	{"npm raw scope", "pkg:npm/@kubernetes/client-node@0.10.3",
		PURL{Type: "npm", Namespace: "@kubernetes", Name: "client-node", Version: "0.10.3"},
		"npm/@kubernetes/client-node"},
	{"npm raw scope without version", "pkg:npm/@kubernetes/client-node",
		PURL{Type: "npm", Namespace: "@kubernetes", Name: "client-node"},
		"npm/@kubernetes/client-node"},
	{"npm lowercase-encoded scope", "pkg:npm/%40Kubernetes/client-node@0.10.3",
		PURL{Type: "npm", Namespace: "@Kubernetes", Name: "client-node", Version: "0.10.3"},
		"npm/@kubernetes/client-node"},
	{"gem", "pkg:gem/kubernetes-io@1.0.0.pre.alpha2",
		PURL{Type: "gem", Name: "kubernetes-io", Version: "1.0.0.pre.alpha2"},
		"gem/kubernetes-io"},
	{"gem with underscore", "pkg:gem/fluent-plugin-kubernetes_metadata_filter@2.11.1",
		PURL{Type: "gem", Name: "fluent-plugin-kubernetes_metadata_filter", Version: "2.11.1"},
		"gem/fluent-plugin-kubernetes_metadata_filter"},
	{"hackage", "pkg:hackage/kubernetes-client@0.3.0.0",
		PURL{Type: "hackage", Name: "kubernetes-client", Version: "0.3.0.0"},
		"hackage/kubernetes-client"},
	{"nuget keeps case", "pkg:nuget/KubernetesClient@7.0.5",
		PURL{Type: "nuget", Name: "KubernetesClient", Version: "7.0.5"},
		"nuget/kubernetesclient"},
	{"upper-case scheme and type", "PKG:NPM/foo@1",
		PURL{Type: "npm", Name: "foo", Version: "1"},
		"npm/foo"},
	{"pkg:// tolerated", "pkg://golang/k8s.io/client-go@v0.20.0",
		PURL{Type: "golang", Namespace: "k8s.io", Name: "client-go", Version: "v0.20.0"},
		"golang/k8s.io/client-go"},
	{"github lowercased", "pkg:github/Package-URL/Purl-Spec@244fd47e07d1004#everybody/loves/dogs",
		PURL{Type: "github", Namespace: "package-url", Name: "purl-spec", Version: "244fd47e07d1004", Subpath: "everybody/loves/dogs"},
		"github/package-url/purl-spec"},
	{"qualifiers and subpath", "pkg:golang/google.golang.org/genproto?goos=linux&goarch=amd64#googleapis/api/annotations",
		PURL{Type: "golang", Namespace: "google.golang.org", Name: "genproto", Qualifiers: "goos=linux&goarch=amd64", Subpath: "googleapis/api/annotations"},
		"golang/google.golang.org/genproto"},
	{"subpath cleaned", "pkg:golang/x/y#/a//./b/../c%20d/",
		PURL{Type: "golang", Namespace: "x", Name: "y", Subpath: "a/b/c d"},
		"golang/x/y"},
	{"empty namespace segments dropped", "pkg:maven//org.acme///lib@1/",
		PURL{Type: "maven", Namespace: "org.acme", Name: "lib", Version: "1"},
		"maven/org.acme/lib"},
	{"deep namespace", "pkg:golang/github.com/kubernetes/client-go/v2@v2.0.0",
		PURL{Type: "golang", Namespace: "github.com/kubernetes/client-go", Name: "v2", Version: "v2.0.0"},
		"golang/github.com/kubernetes/client-go/v2"},
	{"empty version", "pkg:pypi/kubernetes@",
		PURL{Type: "pypi", Name: "kubernetes"},
		"pypi/kubernetes"},
	{"encoded at in version", "pkg:generic/x@1%402",
		PURL{Type: "generic", Name: "x", Version: "1@2"},
		"generic/x"},
	{"version holding slash", "pkg:generic/x@1/2",
		PURL{Type: "generic", Name: "x", Version: "1/2"},
		"generic/x"},
	{"question mark in qualifiers", "pkg:generic/x@1?a=b?c",
		PURL{Type: "generic", Name: "x", Version: "1", Qualifiers: "a=b?c"},
		"generic/x"},
	{"type with plus and dot", "pkg:c++.x-y/z",
		PURL{Type: "c++.x-y", Name: "z"},
		"c++.x-y/z"},
	// packageurl-go builds these from a whole module path as the name
	// (trivy's kubernetes scanning, GitHub and several SBOM tools).
	{"encoded slash in golang name", "pkg:golang/k8s.io%2Fclient-go@v0.29.3",
		PURL{Type: "golang", Namespace: "k8s.io", Name: "client-go", Version: "v0.29.3"},
		"golang/k8s.io/client-go"},
	{"encoded slashes in golang name, lowercase hex", "pkg:golang/github.com%2fkubernetes%2fclient-go@v11.0.0%2Bincompatible",
		PURL{Type: "golang", Namespace: "github.com/kubernetes", Name: "client-go", Version: "v11.0.0+incompatible"},
		"golang/github.com/kubernetes/client-go"},
	{"encoded scope and slash in npm name", "pkg:npm/%40kubernetes%2Fclient-node@0.18.1",
		PURL{Type: "npm", Namespace: "@kubernetes", Name: "client-node", Version: "0.18.1"},
		"npm/@kubernetes/client-node"},
	{"encoded slash in namespace segment", "pkg:golang/a%2Fb/c",
		PURL{Type: "golang", Namespace: "a/b", Name: "c"},
		"golang/a/b/c"},
	{"deb lowercased", "pkg:deb/Debian/Curl@7.50.3-1?arch=i386&distro=jessie",
		PURL{Type: "deb", Namespace: "debian", Name: "curl", Version: "7.50.3-1", Qualifiers: "arch=i386&distro=jessie"},
		"deb/debian/curl"},
}

func TestParsePURL(t *testing.T) {
	for _, tt := range parsePURLTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePURL(tt.in)
			if err != nil {
				t.Fatalf("ParsePURL(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParsePURL(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
			if key := got.Key(); key != tt.wantKey {
				t.Errorf("ParsePURL(%q).Key() = %q, want %q", tt.in, key, tt.wantKey)
			}
		})
	}
}

// parsePURLErrorTests are invalid package URLs with a fragment of
// ParsePURL's error.
var parsePURLErrorTests = []struct {
	name string
	in   string
	want string // fragment of the error text
}{
	{"empty", "", "empty package URL"},
	{"no scheme", "golang/k8s.io/client-go", `missing scheme "pkg:"`},
	{"wrong scheme", "http://example.com/x", `scheme "http" is not "pkg"`},
	{"missing type", "pkg:/foo", "missing name"},
	{"only type", "pkg:npm", "missing name"},
	{"only type and slash", "pkg:npm/", "missing name"},
	{"empty type", "pkg:", "missing type"},
	{"type starts with digit", "pkg:9x/foo", `type "9x" must not start with a digit`},
	{"type with bad char", "pkg:n%70m/foo", `type "n%70m" has invalid character '%'`},
	{"type with colon", "pkg:a:b/foo", `has invalid character ':'`},
	{"missing name after namespace", "pkg:maven/org.acme/@1.0", "missing name"},
	{"bad escape in name", "pkg:npm/foo%zz@1", `name: bad percent-encoding "%zz"`},
	{"truncated escape in version", "pkg:npm/foo@1%4", `version: bad percent-encoding "%4"`},
	{"bad escape in namespace", "pkg:npm/%4g/foo", `namespace: bad percent-encoding "%4g"`},
	{"bad escape in subpath", "pkg:npm/foo#a/%", `subpath: bad percent-encoding "%"`},
}

func TestParsePURLErrors(t *testing.T) {
	for _, tt := range parsePURLErrorTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePURL(tt.in)
			if err == nil {
				t.Fatalf("ParsePURL(%q) = %+v, want error containing %q", tt.in, got, tt.want)
			}
			if !errors.Is(err, ErrInvalidPURL) {
				t.Errorf("ParsePURL(%q) error %v does not wrap ErrInvalidPURL", tt.in, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParsePURL(%q) error %q, want it to contain %q", tt.in, err, tt.want)
			}
			if got != (PURL{}) {
				t.Errorf("ParsePURL(%q) returned %+v with an error", tt.in, got)
			}
		})
	}
}

// TestParsePURLAllocs pins the allocation budget: none when nothing needs
// decoding or lowercasing.
func TestParsePURLAllocs(t *testing.T) {
	for _, s := range []string{
		"pkg:golang/k8s.io/client-go@v0.15.7",
		"pkg:npm/@kubernetes/client-node@0.10.3",
		"pkg:maven/io.kubernetes/client-java@9.0.0?type=jar",
	} {
		if got := testing.AllocsPerRun(100, func() {
			if _, err := ParsePURL(s); err != nil {
				t.Fatal(err)
			}
		}); got != 0 {
			t.Errorf("ParsePURL(%q) allocates %v times, want 0", s, got)
		}
	}
}

// purlString formats p back into a package URL, percent-encoding every
// byte outside the spec's unreserved set (and '/' inside one segment).
func purlString(p PURL) string {
	var b strings.Builder
	b.WriteString("pkg:" + p.Type + "/")
	if p.Namespace != "" {
		for i, seg := range strings.Split(p.Namespace, "/") {
			if i > 0 {
				b.WriteByte('/')
			}
			b.WriteString(percentEncode(seg))
		}
		b.WriteByte('/')
	}
	b.WriteString(percentEncode(p.Name))
	if p.Version != "" {
		b.WriteString("@" + percentEncode(p.Version))
	}
	if p.Qualifiers != "" {
		b.WriteString("?" + p.Qualifiers)
	}
	if p.Subpath != "" {
		b.WriteByte('#')
		for i, seg := range strings.Split(p.Subpath, "/") {
			if i > 0 {
				b.WriteByte('/')
			}
			b.WriteString(percentEncode(seg))
		}
	}
	return b.String()
}

func percentEncode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

func FuzzParsePURL(f *testing.F) {
	for _, s := range []string{
		"", "pkg:", "pkg:npm", "pkg:npm/", "pkg:/x",
		"pkg:golang/k8s.io/client-go@v0.15.7",
		"pkg:golang/k8s.io/client-go@v11.0.0%2Bincompatible",
		"pkg:pypi/kubernetes@12.0.0", "pkg:pypi/Foo_Bar@1",
		"pkg:maven/io.kubernetes/client-java@9.0.0?type=jar",
		"pkg:npm/%40kubernetes/client-node@0.10.3",
		"pkg:npm/@kubernetes/client-node@0.10.3", "pkg:npm/@kubernetes/client-node",
		"pkg:gem/kubernetes-io@1.0.0.pre.alpha2", "pkg:hackage/kubernetes-client@0.3.0.0",
		"pkg:nuget/KubernetesClient@7.0.5", "PKG://GitHub/A/B@c?d=e#f/./g/../h",
		"pkg:a/b%", "pkg:a/%%%", "pkg:a//b//c@", "pkg:a/b#%2F", "pkg:a/b@/c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePURL(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidPURL) {
				t.Fatalf("ParsePURL(%q) error %v does not wrap ErrInvalidPURL", s, err)
			}
			return
		}
		if p.Type == "" || p.Name == "" {
			t.Fatalf("ParsePURL(%q) = %+v: empty Type or Name", s, p)
		}
		if strings.ToLower(p.Type) != p.Type {
			t.Errorf("ParsePURL(%q): Type %q is not lowercase", s, p.Type)
		}
		if k := p.Key(); !strings.HasPrefix(k, p.Type+"/") || len(k) <= len(p.Type)+1 {
			t.Errorf("ParsePURL(%q).Key() = %q", s, k)
		}
		// Formatting the parsed purl and parsing it again is stable.
		str := purlString(p)
		again, err := ParsePURL(str)
		if err != nil {
			t.Fatalf("ParsePURL(%q) = %+v, but its formatted form %q fails: %v", s, p, str, err)
		}
		if again != p {
			t.Errorf("ParsePURL(%q) = %+v, but its formatted form %q gives %+v", s, p, str, again)
		}
	})
}

var sinkPURL PURL

func BenchmarkParsePURL(b *testing.B) {
	purls := []struct{ name, purl string }{
		{"golang", "pkg:golang/k8s.io/client-go@v0.15.7"},
		{"golang-escaped", "pkg:golang/k8s.io/client-go@v11.0.0%2Bincompatible"},
		{"npm-scope-escaped", "pkg:npm/%40kubernetes/client-node@0.10.3"},
		{"maven-qualifiers", "pkg:maven/io.kubernetes/client-java@9.0.0?type=jar"},
		{"pypi", "pkg:pypi/kubernetes@12.0.0"},
	}
	for _, p := range purls {
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				got, err := ParsePURL(p.purl)
				if err != nil {
					b.Fatal(err)
				}
				sinkPURL = got
			}
		})
	}
}
