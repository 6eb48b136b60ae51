package imageevidence

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/tokenguard/tokenguard/deploy/crds"
	"github.com/tokenguard/tokenguard/pkg/apis/tokenguard/v1alpha1"
	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/test/e2e/cluster"
)

// restClient is a client of tokenguard.io/v1alpha1 with this module's
// scheme (what the controller and serve would use, without client-go's
// generated clientset).
func restClient(t *testing.T, cfg *rest.Config) *rest.RESTClient {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	cfg = rest.CopyConfig(cfg)
	cfg.GroupVersion = &v1alpha1.SchemeGroupVersion
	cfg.APIPath = "/apis"
	cfg.ContentType = runtime.ContentTypeJSON
	cfg.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	rc, err := rest.RESTClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

// sameContent compares spec and status as the API server stores them
// (JSON): times to the second, whatever their location.
func sameContent(t *testing.T, what string, got, want *v1alpha1.ImageEvidence) {
	t.Helper()
	for _, part := range []struct {
		name      string
		got, want any
	}{{"spec", got.Spec, want.Spec}, {"status", got.Status, want.Status}} {
		g, _ := json.Marshal(part.got)
		w, _ := json.Marshal(part.want)
		if string(g) != string(w) {
			t.Errorf("%s: %s differs\n got %s\nwant %s", what, part.name, g, w)
		}
	}
}

// TestAPIServer installs deploy/crds on a real kube-apiserver, then runs
// its subtests against it.
func TestAPIServer(t *testing.T) {
	c := cluster.StartForTest(t, cluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.InstallCRD(ctx, crds.ImageEvidenceYAML); err != nil {
		t.Fatal(err)
	}
	rc := restClient(t, c.Config)
	t.Run("write, read, table", func(t *testing.T) { testWriteRead(ctx, t, c, dyn, rc) })
	t.Run("largest object", func(t *testing.T) { testLargest(ctx, t, rc) })
}

// testWriteRead writes an ImageEvidence with strict field validation,
// updates its status through the status subresource, reads it back typed
// and through a dynamic client, reads the table `kubectl get
// imageevidences` prints, and has the schema refuse what it must.
func testWriteRead(ctx context.Context, t *testing.T, c *cluster.Cluster, dyn dynamic.Interface, rc *rest.RESTClient) {
	cat := defaultCatalog(t)

	ref := mustRef(t, "ghcr.io/acme/api:1.4@"+digestA)
	seen := time.Now()
	ie := FromEvidence(digestA, &policy.Evidence{
		Ref: ref, SBOM: "sbom:spdx-referrer", Layers: policy.SourceLayers, TagVerified: true,
		Labels: map[string]string{"org.opencontainers.image.version": "1.4.0"},
		Packages: []policy.Package{
			{Type: "golang", Namespace: "k8s.io", Name: "client-go", Version: "v0.14.2", Source: "sbom:spdx-referrer", Platform: "linux/amd64"},
			{Type: "npm", Name: "aws-sdk", Version: "2.524.0", Source: "layer:npm-package", Platform: "linux/arm64", File: "/app/node_modules/aws-sdk/package.json"},
		},
	}, cat, seen)
	if ie.Status.Summary != "k8s.io/client-go v0.14.2, npm:aws-sdk 2.524.0" {
		t.Fatalf("summary %q", ie.Status.Summary)
	}

	// Create: strict field validation; the status subresource drops the
	// status sent with it.
	created := &v1alpha1.ImageEvidence{}
	if err := rc.Post().Resource(v1alpha1.ImageEvidencePlural).Param("fieldValidation", "Strict").
		Body(ie).Do(ctx).Into(created); err != nil {
		t.Fatalf("create: %v\n%s", err, c.Logs())
	}
	if created.Name != ie.Name || created.Spec.Digest != digestA || created.Status.Summary != "" {
		t.Errorf("created %s, digest %s, status %+v (want the status left out)", created.Name, created.Spec.Digest, created.Status)
	}

	// Status through the subresource.
	created.Status = ie.Status
	updated := &v1alpha1.ImageEvidence{}
	if err := rc.Put().Resource(v1alpha1.ImageEvidencePlural).Name(ie.Name).SubResource("status").
		Param("fieldValidation", "Strict").Body(created).Do(ctx).Into(updated); err != nil {
		t.Fatalf("update status: %v", err)
	}

	// Read back, typed and dynamic (as an informer over unstructured
	// objects would), and converted back to evidence.
	got := &v1alpha1.ImageEvidence{}
	if err := rc.Get().Resource(v1alpha1.ImageEvidencePlural).Name(ie.Name).Do(ctx).Into(got); err != nil {
		t.Fatalf("get: %v", err)
	}
	sameContent(t, "typed get", got, ie)
	if data, err := json.Marshal(got); err == nil {
		t.Logf("a typical ImageEvidence: %d bytes of JSON", len(data))
	}
	u, err := dyn.Resource(v1alpha1.ImageEvidenceResource).Get(ctx, ie.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var fromDyn v1alpha1.ImageEvidence
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &fromDyn); err != nil {
		t.Fatal(err)
	}
	sameContent(t, "dynamic get", &fromDyn, ie)
	pod := podFor(ref.Original, true, policy.AWSIRSA)
	want := cat.Evaluate(pod, []*policy.Evidence{ToEvidence(ie, ref)}, policy.Options{})
	if fs := cat.Evaluate(pod, []*policy.Evidence{ToEvidence(got, ref)}, policy.Options{}); fmt.Sprint(fs) != fmt.Sprint(want) {
		t.Errorf("findings from the stored object differ\n got %+v\nwant %+v", fs, want)
	}
	if !Final(got, cat) || Stale(got, seen, 0) {
		t.Errorf("stored object: final %v, stale %v", Final(got, cat), Stale(got, seen, 0))
	}

	// The table kubectl prints.
	raw, err := rc.Get().Resource(v1alpha1.ImageEvidencePlural).
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(ctx)
	if err != nil {
		t.Fatalf("table: %v", err)
	}
	var table metav1.Table
	if err := json.Unmarshal(raw, &table); err != nil {
		t.Fatalf("table: %v\n%s", err, raw)
	}
	var cols []string
	for _, col := range table.ColumnDefinitions {
		if col.Priority == 0 {
			cols = append(cols, col.Name)
		}
	}
	if strings.Join(cols, ",") != "Name,Digest,Packages,Scan,Age" {
		t.Errorf("columns %v", cols)
	}
	cells := map[string]any{}
	for _, row := range table.Rows {
		if len(row.Cells) == len(table.ColumnDefinitions) && row.Cells[0] == ie.Name {
			for i, col := range table.ColumnDefinitions {
				cells[col.Name] = row.Cells[i]
			}
		}
	}
	wantCells := map[string]any{
		"Name": ie.Name, "Digest": digestA, "Packages": ie.Status.Summary, "Scan": "complete",
		"SBOM": "sbom:spdx-referrer", "Catalog": cat.Version(),
	}
	for k, v := range wantCells {
		if cells[k] != v {
			t.Errorf("column %s: %v, want %v", k, cells[k], v)
		}
	}
	if age, _ := cells["Age"].(string); !regexp.MustCompile(`^[0-9]+(s|m)`).MatchString(age) {
		t.Errorf("column Age: %q", cells["Age"])
	}
	t.Logf("kubectl get imageevidences:\n%s", renderTable(&table))

	// The schema refuses what the types do not have, a name that is not
	// the digest's, a digest changed, and more packages than the cap.
	bogus := fmt.Sprintf(`{"apiVersion":"tokenguard.io/v1alpha1","kind":"ImageEvidence","metadata":{"name":%q},"spec":{"digest":%q,"bogus":1}}`,
		v1alpha1.ObjectName(digestB), digestB)
	err = rc.Post().Resource(v1alpha1.ImageEvidencePlural).Param("fieldValidation", "Strict").
		SetHeader("Content-Type", "application/json").Body([]byte(bogus)).Do(ctx).Error()
	if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), `unknown field "spec.bogus"`) {
		t.Errorf("unknown field: %v", err)
	}
	wrongName := FromEvidence(digestB, nil, cat, seen)
	wrongName.Name = "coredns"
	err = rc.Post().Resource(v1alpha1.ImageEvidencePlural).Body(wrongName).Do(ctx).Error()
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "the name must be spec.digest") {
		t.Errorf("a name that is not the digest's: %v", err)
	}
	changed := got.DeepCopy()
	changed.Spec.Digest = digestB
	err = rc.Put().Resource(v1alpha1.ImageEvidencePlural).Name(ie.Name).Body(changed).Do(ctx).Error()
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "immutable") {
		t.Errorf("digest changed: %v", err)
	}
	tooMany := &v1alpha1.ImageEvidence{}
	if err := rc.Get().Resource(v1alpha1.ImageEvidencePlural).Name(ie.Name).Do(ctx).Into(tooMany); err != nil {
		t.Fatalf("get: %v", err)
	}
	for len(tooMany.Status.Packages) <= v1alpha1.MaxPackages {
		tooMany.Status.Packages = append(tooMany.Status.Packages, tooMany.Status.Packages[0])
	}
	err = rc.Put().Resource(v1alpha1.ImageEvidencePlural).Name(ie.Name).SubResource("status").Body(tooMany).Do(ctx).Error()
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "status.packages") {
		t.Errorf("%d packages: %v", len(tooMany.Status.Packages), err)
	}
}

// testLargest: the largest object FromEvidence makes, every list and
// string at its cap, is accepted by the CRD's schema.
func testLargest(ctx context.Context, t *testing.T, rc *rest.RESTClient) {
	cat := defaultCatalog(t)

	ie := largest(t, cat)
	created := &v1alpha1.ImageEvidence{}
	if err := rc.Post().Resource(v1alpha1.ImageEvidencePlural).Param("fieldValidation", "Strict").Body(ie).Do(ctx).Into(created); err != nil {
		t.Fatalf("create: %v", err)
	}
	created.Status = ie.Status
	got := &v1alpha1.ImageEvidence{}
	if err := rc.Put().Resource(v1alpha1.ImageEvidencePlural).Name(ie.Name).SubResource("status").
		Param("fieldValidation", "Strict").Body(created).Do(ctx).Into(got); err != nil {
		t.Fatalf("update status: %v", err)
	}
	sameContent(t, "largest", got, ie)
	data, _ := json.Marshal(got)
	t.Logf("the largest ImageEvidence: %d bytes of JSON", len(data))
}

// largest is an ImageEvidence with every list and string at its cap.
func largest(t *testing.T, cat *policy.Catalog) *v1alpha1.ImageEvidence {
	t.Helper()
	digest := "sha512:" + strings.Repeat("c3", 64)
	long := func(n int) string { return strings.Repeat("é", n) }
	ref := policy.ImageRef{Registry: "registry.example.com", Repository: strings.Repeat("r", 255), Tag: strings.Repeat("t", 128), Digest: digest}
	ev := &policy.Evidence{
		Ref: ref, SBOM: "sbom:" + long(100), Layers: "layers" + long(100),
		LayersIncomplete: long(1000), Unavailable: long(1000), TagUnverified: long(1000),
		Labels: map[string]string{},
	}
	for _, k := range []string{"org.opencontainers.image.version", "org.label-schema.version", "io.k8s.display-version", "version"} {
		ev.Labels[k] = strings.Repeat("9", v1alpha1.MaxVersionLength)
	}
	for i := 0; i < v1alpha1.MaxPackages; i++ {
		ev.Packages = append(ev.Packages, policy.Package{
			Type: "maven", Namespace: "io.kubernetes",
			Name:    "client-java-" + strings.Repeat("x", v1alpha1.MaxNameLength-len("client-java-")-3) + fmt.Sprintf("%03d", i),
			Version: strings.Repeat("1", v1alpha1.MaxVersionLength-3) + fmt.Sprintf("%03d", i),
			Source:  "layer:" + long(100), File: "/" + long(1000), Platform: fmt.Sprintf("linux/arch%02d/%s", i%v1alpha1.MaxPlatforms, long(40)),
		})
	}
	ie := FromEvidence(digest, ev, cat, time.Now())
	for len(ie.Spec.Images) < v1alpha1.MaxImages {
		ie.Spec.Images = append(ie.Spec.Images, cut(fmt.Sprintf("%d", len(ie.Spec.Images))+long(1000), v1alpha1.MaxImageLength))
	}
	for len(ie.Status.Tags) < v1alpha1.MaxTags {
		ie.Status.Tags = append(ie.Status.Tags, v1alpha1.TagCheck{
			Image:  fmt.Sprintf("%d", len(ie.Status.Tags)) + strings.Repeat("i", v1alpha1.MaxImageLength-1),
			Reason: cut(long(1000), v1alpha1.MaxReasonLength),
		})
	}
	st := &ie.Status
	if len(st.Packages) != v1alpha1.MaxPackages || len(st.Labels) != v1alpha1.MaxLabels || len(st.Platforms) != v1alpha1.MaxPlatforms ||
		len(st.Packages[0].PURL) < v1alpha1.MaxPURLLength/3 || len(st.Summary) < v1alpha1.MaxSummaryLength-3 {
		t.Fatalf("not the largest: %d packages, %d labels, %d platforms, purl %d bytes, summary %d bytes",
			len(st.Packages), len(st.Labels), len(st.Platforms), len(st.Packages[0].PURL), len(st.Summary))
	}
	return ie
}

func renderTable(tab *metav1.Table) string {
	var b strings.Builder
	for _, col := range tab.ColumnDefinitions {
		fmt.Fprintf(&b, "%s\t", strings.ToUpper(col.Name))
	}
	b.WriteByte('\n')
	for _, row := range tab.Rows {
		for _, cell := range row.Cells {
			fmt.Fprintf(&b, "%v\t", cell)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
