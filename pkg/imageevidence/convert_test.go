package imageevidence

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tokenguard/tokenguard/pkg/apis/tokenguard/v1alpha1"
	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect"
)

func TestFromEvidence(t *testing.T) {
	cat := defaultCatalog(t)
	ref := mustRef(t, "ghcr.io/acme/api:1.4@"+digestA)
	ref.Registry = "GHCR.io" // hosts are case-insensitive; stored lowercased
	ev := &policy.Evidence{
		Ref: ref,
		Labels: map[string]string{
			"org.opencontainers.image.version": "1.4.0",
			"org.opencontainers.image.source":  "https://github.com/acme/api",
		},
		Packages: []policy.Package{
			{Type: "golang", Namespace: "github.com/spf13", Name: "cobra", Version: "v1.8.0", Source: "sbom:spdx-referrer"},
			{Type: "golang", Namespace: "k8s.io", Name: "client-go", Version: "v0.14.2", Source: "sbom:spdx-referrer", Platform: "linux/arm64"},
			{Type: "npm", Name: "aws-sdk", Version: "2.524.0", Source: "layer:npm-package", Platform: "linux/amd64", File: "/app/node_modules/aws-sdk/package.json"},
		},
		SBOM:        "sbom:spdx-referrer",
		Layers:      policy.SourceLayers,
		TagVerified: true,
	}
	ie := FromEvidence(digestA, ev, cat, now)
	at := metav1.NewTime(time.Date(2026, 5, 1, 12, 30, 45, 0, time.UTC))
	want := &v1alpha1.ImageEvidence{
		TypeMeta:   metav1.TypeMeta{APIVersion: "tokenguard.io/v1alpha1", Kind: "ImageEvidence"},
		ObjectMeta: metav1.ObjectMeta{Name: "sha256-" + strings.Repeat("a1", 32)},
		Spec:       v1alpha1.ImageEvidenceSpec{Digest: digestA, Images: []string{"ghcr.io/acme/api:1.4"}},
		Status: v1alpha1.ImageEvidenceStatus{
			Packages: []v1alpha1.Package{
				{Type: "golang", Namespace: "k8s.io", Name: "client-go", Version: "v0.14.2", PURL: "pkg:golang/k8s.io/client-go@v0.14.2", Source: "sbom:spdx-referrer", Platform: "linux/arm64"},
				{Type: "npm", Name: "aws-sdk", Version: "2.524.0", PURL: "pkg:npm/aws-sdk@2.524.0", Source: "layer:npm-package", Platform: "linux/amd64", File: "/app/node_modules/aws-sdk/package.json"},
			},
			Labels:          map[string]string{"org.opencontainers.image.version": "1.4.0"},
			SBOM:            "sbom:spdx-referrer",
			Layers:          "layers",
			Scan:            "complete",
			Tags:            []v1alpha1.TagCheck{{Image: "ghcr.io/acme/api:1.4", Verified: true}},
			Platforms:       []string{"linux/amd64", "linux/arm64"},
			CatalogVersion:  cat.Version(),
			ObservedTime:    &at,
			LastSeenRunning: &at,
			Summary:         "k8s.io/client-go v0.14.2, npm:aws-sdk 2.524.0",
		},
	}
	if !reflect.DeepEqual(ie, want) {
		t.Errorf("FromEvidence\n got %+v\nwant %+v", ie, want)
	}

	// The result shares nothing with ev.
	ie.Status.Labels["x"] = "y"
	ie.Status.Packages[0].Version = "changed"
	if _, ok := ev.Labels["x"]; ok || ev.Packages[1].Version != "v0.14.2" {
		t.Error("FromEvidence shares memory with the evidence")
	}
	// ToEvidence gives back the evidence, packages only catalogued ones,
	// and shares nothing with ie.
	back := ToEvidence(FromEvidence(digestA, ev, cat, now), ref)
	wantBack := *ev
	wantBack.Labels = map[string]string{"org.opencontainers.image.version": "1.4.0"}
	wantBack.Packages = ev.Packages[1:]
	if !reflect.DeepEqual(back, &wantBack) {
		t.Errorf("ToEvidence\n got %+v\nwant %+v", back, &wantBack)
	}
}

func TestFromEvidenceInvalidDigest(t *testing.T) {
	cat := defaultCatalog(t)
	for _, d := range []string{"", "sha256:abc", "latest", strings.Repeat("a", 64)} {
		if ie := FromEvidence(d, &policy.Evidence{}, cat, now); ie != nil {
			t.Errorf("FromEvidence(%q) = %+v, want nil", d, ie)
		}
	}
	ie := FromEvidence(digestA, nil, cat, now)
	if ie == nil || ie.Name != v1alpha1.ObjectName(digestA) || ie.Status.Summary != "no SBOM; files not read" {
		t.Errorf("nil evidence: %+v", ie)
	}
}

func TestToEvidenceTags(t *testing.T) {
	cat := defaultCatalog(t)
	pinned := mustRef(t, "registry.k8s.io/coredns/coredns:v1.11.1@"+digestB)
	ie := FromEvidence(digestB, &policy.Evidence{Ref: pinned, TagVerified: true}, cat, now)
	tests := []struct {
		name     string
		image    string
		verified bool
	}{
		{"the tag checked", "registry.k8s.io/coredns/coredns:v1.11.1@" + digestB, true},
		{"another tag", "registry.k8s.io/coredns/coredns:v1.11.2@" + digestB, false},
		{"another repository", "mirror.example.com/coredns/coredns:v1.11.1@" + digestB, false},
		{"another digest", "registry.k8s.io/coredns/coredns:v1.11.1@" + digestA, false},
		{"no digest", "registry.k8s.io/coredns/coredns:v1.11.1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := ToEvidence(ie, mustRef(t, tt.image))
			if ev.TagVerified != tt.verified || ev.TagUnverified != "" {
				t.Errorf("TagVerified %v (%q), want %v", ev.TagVerified, ev.TagUnverified, tt.verified)
			}
		})
	}
	// No answer is stored for a tag beside another digest, or without one.
	for _, image := range []string{"registry.k8s.io/coredns/coredns:v1.11.1@" + digestA, "registry.k8s.io/coredns/coredns:v1.11.1"} {
		got := FromEvidence(digestB, &policy.Evidence{Ref: mustRef(t, image), TagVerified: true}, cat, now)
		if len(got.Status.Tags) != 0 {
			t.Errorf("%s: tags %+v stored for %s", image, got.Status.Tags, digestB)
		}
	}
	if ev := ToEvidence(nil, pinned); !reflect.DeepEqual(ev, &policy.Evidence{Ref: pinned}) {
		t.Errorf("ToEvidence(nil) = %+v", ev)
	}
}

// TestCaps: whatever the evidence holds, the object stays within the caps
// the CRD enforces.
func TestCaps(t *testing.T) {
	cat := defaultCatalog(t)
	long := func(n int) string { return strings.Repeat("é", n) } // 2 bytes each
	ref := policy.ImageRef{Original: "x", Registry: "registry.example.com", Repository: strings.Repeat("a", 900), Tag: strings.Repeat("t", 128), Digest: digestA}
	ev := &policy.Evidence{
		Ref:              ref,
		SBOM:             "sbom:" + long(100),
		Layers:           "layers" + long(100),
		LayersIncomplete: long(1000),
		Unavailable:      long(1000),
		TagUnverified:    long(1000),
		Labels:           map[string]string{"version": "1.0"},
	}
	for i := 0; i < 3*v1alpha1.MaxPackages; i++ {
		ev.Packages = append(ev.Packages, policy.Package{
			Type: "golang", Namespace: "k8s.io", Name: "client-go", Version: fmt.Sprintf("v0.%d.0", i),
			Source: "layer:" + long(100), File: "/" + long(1000), Platform: fmt.Sprintf("linux/arch%d/%s", i, long(40)),
		})
	}
	ie := FromEvidence(digestA, ev, cat, now)
	st := &ie.Status
	if len(st.Packages) != v1alpha1.MaxPackages || int(st.PackagesOmitted) != 2*v1alpha1.MaxPackages {
		t.Errorf("%d packages, %d omitted", len(st.Packages), st.PackagesOmitted)
	}
	if len(st.Platforms) != v1alpha1.MaxPlatforms {
		t.Errorf("%d platforms", len(st.Platforms))
	}
	if len(st.Tags) != 0 {
		t.Errorf("a tag reference longer than MaxImageLength is stored: %d bytes", len(st.Tags[0].Image))
	}
	check := func(field, s string, max int) {
		t.Helper()
		if len(s) > max || !utf8.ValidString(s) {
			t.Errorf("%s: %d bytes (max %d), valid UTF-8 %v", field, len(s), max, utf8.ValidString(s))
		}
	}
	check("spec.images[0]", ie.Spec.Images[0], v1alpha1.MaxImageLength)
	check("sbom", st.SBOM, v1alpha1.MaxSourceLength)
	check("layers", st.Layers, v1alpha1.MaxSourceLength)
	check("layersIncomplete", st.LayersIncomplete, v1alpha1.MaxReasonLength)
	check("unavailable", st.Unavailable, v1alpha1.MaxReasonLength)
	check("summary", st.Summary, v1alpha1.MaxSummaryLength)
	for i, p := range st.Packages {
		check(fmt.Sprintf("packages[%d].source", i), p.Source, v1alpha1.MaxSourceLength)
		check(fmt.Sprintf("packages[%d].file", i), p.File, v1alpha1.MaxFileLength)
		check(fmt.Sprintf("packages[%d].platform", i), p.Platform, v1alpha1.MaxPlatformLength)
		check(fmt.Sprintf("packages[%d].purl", i), p.PURL, v1alpha1.MaxPURLLength)
	}
	for i, p := range st.Platforms {
		check(fmt.Sprintf("platforms[%d]", i), p, v1alpha1.MaxPlatformLength)
	}
	if !strings.HasSuffix(st.Unavailable, "…") || !strings.HasSuffix(st.Packages[0].File, "…") {
		t.Errorf("cut strings do not end in …: %q", st.Unavailable[len(st.Unavailable)-10:])
	}

	// A version or label too long to store is left out, and the evidence
	// is marked unavailable, so that no reader takes it as final.
	for name, ev := range map[string]*policy.Evidence{
		"package version": {SBOM: "sbom:spdx-referrer", Packages: []policy.Package{{Type: "golang", Namespace: "k8s.io", Name: "client-go", Version: "v" + strings.Repeat("1", v1alpha1.MaxVersionLength)}}},
		"label value":     {Labels: map[string]string{"version": strings.Repeat("1", v1alpha1.MaxVersionLength+1)}},
		"package name":    {Packages: []policy.Package{{Type: "maven", Namespace: "io.kubernetes", Name: "client-java-" + strings.Repeat("x", v1alpha1.MaxNameLength)}}},
	} {
		ie := FromEvidence(digestA, ev, cat, now)
		if ie.Status.Unavailable != reasonTooLong || len(ie.Status.Packages) != 0 || len(ie.Status.Labels) != 0 {
			t.Errorf("%s too long: %+v", name, ie.Status)
		}
		if Final(ie, cat) {
			t.Errorf("%s too long: the evidence is final", name)
		}
	}
}

// TestCapPackagesKeepsFindings: past MaxPackages, the packages that decide
// the findings are kept, wherever they are in the list.
func TestCapPackagesKeepsFindings(t *testing.T) {
	cat := defaultCatalog(t)
	image := "ghcr.io/acme/monolith:1@" + digestA
	ref := mustRef(t, image)
	var pkgs []policy.Package
	add := func(typ, ns, name, version, platform string) {
		pkgs = append(pkgs, policy.Package{Type: typ, Namespace: ns, Name: name, Version: version,
			Source: "layer:x", Platform: platform, File: fmt.Sprintf("/app/%d", len(pkgs))})
	}
	for i := 0; i < 40; i++ { // ok versions of client-go, then the too-old one late
		add("golang", "k8s.io", "client-go", fmt.Sprintf("v0.%d.1", 20+i), "linux/amd64")
	}
	add("golang", "k8s.io", "client-go", "v0.14.2", "linux/arm64")
	for i := 0; i < 30; i++ { // duplicates, then aws-sdk versions: too old for IRSA only late
		add("golang", "k8s.io", "client-go", "v0.20.1", "linux/amd64")
		add("npm", "", "aws-sdk", fmt.Sprintf("2.%d.0", 1600+i), "")
	}
	add("npm", "", "aws-sdk", "2.524.0", "linux/s390x")
	add("pypi", "", "kubernetes", "30.1.0", "")
	if len(pkgs) <= v1alpha1.MaxPackages {
		t.Fatal("the case does not exceed the cap")
	}
	ev := &policy.Evidence{Ref: ref, Layers: policy.SourceLayers, Packages: pkgs}
	ie := FromEvidence(digestA, ev, cat, now)
	if len(ie.Status.Packages) != v1alpha1.MaxPackages || int(ie.Status.PackagesOmitted) != len(pkgs)-v1alpha1.MaxPackages {
		t.Fatalf("%d packages, %d omitted, of %d", len(ie.Status.Packages), ie.Status.PackagesOmitted, len(pkgs))
	}
	for _, token := range []bool{true, false} {
		for _, aws := range []policy.AWSMechanism{0, policy.AWSIRSA, policy.AWSPodIdentity} {
			pod := podFor(image, token, aws)
			want := cat.Evaluate(pod, []*policy.Evidence{ev}, policy.Options{})
			got := cat.Evaluate(pod, []*policy.Evidence{ToEvidence(ie, ref)}, policy.Options{})
			if !reflect.DeepEqual(got, want) {
				t.Errorf("token %v aws %v: findings differ\n got %+v\nwant %+v", token, aws, got, want)
			}
		}
	}
	// The order of the packages kept is the evidence's.
	last := -1
	for _, p := range ie.Status.Packages {
		var i int
		fmt.Sscanf(p.File, "/app/%d", &i)
		if i <= last {
			t.Fatalf("packages out of order: %d after %d", i, last)
		}
		last = i
	}
}

func TestPURL(t *testing.T) {
	tests := []struct {
		p    policy.Package
		want string
	}{
		{policy.Package{Type: "golang", Namespace: "k8s.io", Name: "client-go", Version: "v0.14.2"}, "pkg:golang/k8s.io/client-go@v0.14.2"},
		{policy.Package{Type: "golang", Namespace: "github.com/aws/aws-sdk-go-v2", Name: "config", Version: "v1.27.0"}, "pkg:golang/github.com/aws/aws-sdk-go-v2/config@v1.27.0"},
		{policy.Package{Type: "golang", Namespace: "k8s.io", Name: "client-go", Version: "v11.0.0+incompatible"}, "pkg:golang/k8s.io/client-go@v11.0.0%2Bincompatible"},
		{policy.Package{Type: "npm", Namespace: "@kubernetes", Name: "client-node", Version: "0.10.3"}, "pkg:npm/%40kubernetes/client-node@0.10.3"},
		{policy.Package{Type: "maven", Namespace: "io.kubernetes", Name: "client-java", Version: "9.0.0"}, "pkg:maven/io.kubernetes/client-java@9.0.0"},
		{policy.Package{Type: "pypi", Name: "kubernetes"}, "pkg:pypi/kubernetes"},
		{policy.Package{Type: "NuGet", Name: "AWSSDK.Core", Version: "3.7.300"}, "pkg:nuget/AWSSDK.Core@3.7.300"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			got := PURL(&tt.p)
			if got != tt.want {
				t.Errorf("PURL = %q, want %q", got, tt.want)
			}
			// The repository's own parser reads it back.
			pp, err := sdkdetect.ParsePURL(got)
			if err != nil {
				t.Fatal(err)
			}
			if pp.Type != strings.ToLower(tt.p.Type) || pp.Namespace != tt.p.Namespace || pp.Name != tt.p.Name || pp.Version != tt.p.Version {
				t.Errorf("parsed back %+v", pp)
			}
		})
	}
}

func TestSummary(t *testing.T) {
	pkg := func(typ, ns, name, version, platform string) v1alpha1.Package {
		return v1alpha1.Package{Type: typ, Namespace: ns, Name: name, Version: version, Platform: platform}
	}
	many := make([]v1alpha1.Package, 30)
	for i := range many {
		many[i] = pkg("golang", "github.com/aws/aws-sdk-go-v2", "credentials", fmt.Sprintf("v1.%d.0", i), "")
	}
	tests := []struct {
		name string
		st   v1alpha1.ImageEvidenceStatus
		want string
	}{
		{"packages", v1alpha1.ImageEvidenceStatus{Packages: []v1alpha1.Package{
			pkg("golang", "k8s.io", "client-go", "v0.14.2", "linux/amd64"),
			pkg("golang", "k8s.io", "client-go", "v0.14.2", "linux/arm64"),
			pkg("npm", "", "aws-sdk", "2.524.0", ""),
			pkg("npm", "@kubernetes", "client-node", "0.10.3", ""),
			pkg("maven", "io.kubernetes", "client-java", "9.0.0", ""),
			pkg("pypi", "", "kubernetes", "", ""),
		}}, "k8s.io/client-go v0.14.2, npm:aws-sdk 2.524.0, @kubernetes/client-node 0.10.3, io.kubernetes:client-java 9.0.0, pypi:kubernetes"},
		{"too many packages", v1alpha1.ImageEvidenceStatus{Packages: many},
			"github.com/aws/aws-sdk-go-v2/credentials v1.0.0, github.com/aws/aws-sdk-go-v2/credentials v1.1.0, github.com/aws/aws-sdk-go-v2/credentials v1.2.0, github.com/aws/aws-sdk-go-v2/credentials v1.3.0, github.com/aws/aws-sdk-go-v2/credentials v1.4.0, +25 more"},
		{"SBOM", v1alpha1.ImageEvidenceStatus{SBOM: "sbom:spdx-referrer"}, "no catalogued SDK in the SBOM"},
		{"layers", v1alpha1.ImageEvidenceStatus{Layers: "layers"}, "no catalogued SDK in the files"},
		{"incomplete", v1alpha1.ImageEvidenceStatus{LayersIncomplete: "the scan stopped after 2 GiB of compressed layers"}, "files not all read: the scan stopped after 2 GiB of compressed layers"},
		{"unavailable", v1alpha1.ImageEvidenceStatus{Unavailable: "registry timed out after 2s", SBOM: "x"}, "unavailable: registry timed out after 2s"},
		{"labels", v1alpha1.ImageEvidenceStatus{Labels: map[string]string{"version": "1.0", "org.opencontainers.image.version": "v1.11.1"}}, "org.opencontainers.image.version=v1.11.1, version=1.0"},
		{"labels and SBOM", v1alpha1.ImageEvidenceStatus{SBOM: "s", Labels: map[string]string{"version": "1.0"}}, "no catalogued SDK in the SBOM; version=1.0"},
		{"nothing", v1alpha1.ImageEvidenceStatus{}, "no SBOM; files not read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Summary(&tt.st)
			if got != tt.want {
				t.Errorf("Summary = %q\n           want %q", got, tt.want)
			}
			if len(got) > v1alpha1.MaxSummaryLength {
				t.Errorf("%d bytes", len(got))
			}
		})
	}
}

func TestJoinFitting(t *testing.T) {
	tests := []struct {
		parts []string
		max   int
		want  string
	}{
		{[]string{"aaaa", "bbbb"}, 10, "aaaa, bbbb"},
		{[]string{"aaaa", "bbbb", "cccc"}, 15, "aaaa, +2 more"},
		{[]string{"aaaa", "bbbb", "cccc"}, 22, "aaaa, bbbb, cccc"},
		{[]string{"aaaaaaaaaaaaaaaaaaaa"}, 10, "aaaaaaa…"},
		{[]string{"aaaaaaaaaaaaaaaaaaaa", "b"}, 20, "aaaaaaaa…, +1 more"},
	}
	for _, tt := range tests {
		got := joinFitting(tt.parts, ", ", tt.max)
		if got != tt.want || len(got) > tt.max {
			t.Errorf("joinFitting(%q, %d) = %q (%d bytes), want %q", tt.parts, tt.max, got, len(got), tt.want)
		}
	}
}

func TestCut(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven char", 10, "eleven …"},
		{"ééééé", 7, "éé…"}, // no half character before the ellipsis
		{"abcdef", 2, "ab"}, // no room for the ellipsis
		{"ééé", 3, "…"},
		{"ééé", 2, "é"},
		{"abc", 0, ""},
	}
	for _, tt := range tests {
		if got := cut(tt.s, tt.n); got != tt.want || len(got) > tt.n || !utf8.ValidString(got) {
			t.Errorf("cut(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

func TestDisplayName(t *testing.T) {
	// The display names follow the catalog's rule ids.
	cat := defaultCatalog(t)
	for _, id := range []string{"k8s.io/client-go", "pypi:kubernetes", "io.kubernetes:client-java", "@kubernetes/client-node", "gem:kubernetes-io", "nuget:KubernetesClient"} {
		r := cat.Rule(id)
		if r == nil {
			t.Fatalf("no rule %s", id)
		}
		m := r.Match.PURLs[0]
		if got := DisplayName(m.Type, m.Namespace, m.Name); got != id {
			t.Errorf("DisplayName(%s, %s, %s) = %q, want the rule id %q", m.Type, m.Namespace, m.Name, got, id)
		}
	}
}
