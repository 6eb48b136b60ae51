package registry

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tokenguard/tokenguard/pkg/imageref"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect"
)

// testRegistry is a real in-memory registry on 127.0.0.1 that counts the
// requests it serves.
type testRegistry struct {
	srv  *httptest.Server
	host string

	requests atomic.Int64
	mu       sync.Mutex
	log      []string // "METHOD path" of every request
	counting atomic.Bool
}

func newTestRegistry(t testing.TB, opts ...registry.Option) *testRegistry {
	t.Helper()
	opts = append(opts, registry.Logger(log.New(io.Discard, "", 0)))
	return serveCounting(t, registry.New(opts...))
}

func serveCounting(t testing.TB, h http.Handler) *testRegistry {
	r := &testRegistry{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.counting.Load() {
			r.requests.Add(1)
			r.mu.Lock()
			r.log = append(r.log, req.Method+" "+req.URL.Path)
			r.mu.Unlock()
		}
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	r.host = strings.TrimPrefix(r.srv.URL, "http://")
	r.counting.Store(true)
	return r
}

// reset clears the request log and count.
func (r *testRegistry) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests.Store(0)
	r.log = nil
}

func (r *testRegistry) requestLog() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.log)
}

// requested reports whether any request path contains s.
func (r *testRegistry) requested(s string) bool {
	return slices.ContainsFunc(r.requestLog(), func(l string) bool { return strings.Contains(l, s) })
}

func (r *testRegistry) repo(t testing.TB, path string) name.Repository {
	t.Helper()
	repo, err := name.NewRepository(r.host + "/" + path)
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

// pushing does not count as lookups.
func (r *testRegistry) quiet(f func()) {
	r.counting.Store(false)
	defer r.counting.Store(true)
	f()
}

// testRegistries lists the test registries' address, so that the address
// guard lets lookups reach them (every port of 127.0.0.1).
var testRegistries = []string{"127.0.0.1"}

// newSource returns a Source for tests: quiet logs, no keychain lookups,
// and the test registries on 127.0.0.1 listed.
func newSource(t testing.TB, o Options) *Source {
	t.Helper()
	o.InsecureRegistries = append(slices.Clone(o.InsecureRegistries), testRegistries...)
	return newGuardedSource(t, o)
}

// newGuardedSource is newSource without the test registries listed.
func newGuardedSource(t testing.TB, o Options) *Source {
	t.Helper()
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Keychain == nil {
		o.Keychain = anonymous{}
	}
	if o.Keep == nil {
		o.Keep = keepCatalogued
	}
	s := New(o)
	t.Cleanup(s.Close)
	return s
}

type anonymous struct{}

func (anonymous) Resolve(authn.Resource) (authn.Authenticator, error) { return authn.Anonymous, nil }

// keepCatalogued keeps the SDK packages of the catalog used in tests.
func keepCatalogued(p sdkdetect.PURL) bool {
	switch p.Key() {
	case "golang/k8s.io/client-go", "npm/@kubernetes/client-node", "pypi/kubernetes":
		return true
	}
	return false
}

// pushImage pushes a random image with labels by digest (and under tag,
// when given) and returns its descriptor.
func pushImage(t testing.TB, repo name.Repository, tag string, labels map[string]string) v1.Descriptor {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	if labels != nil {
		if img, err = mutate.Config(img, v1.Config{Labels: labels}); err != nil {
			t.Fatal(err)
		}
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	return writeImage(t, repo, tag, mutate.ConfigMediaType(img, types.OCIConfigJSON))
}

// writeImage pushes img by digest (and under tag, when given) and returns
// its descriptor.
func writeImage(t testing.TB, repo name.Repository, tag string, img v1.Image) v1.Descriptor {
	t.Helper()
	d, err := partial.Descriptor(img)
	if err != nil {
		t.Fatal(err)
	}
	var ref name.Reference = repo.Digest(d.Digest.String())
	if tag != "" {
		ref = repo.Tag(tag)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	return *d
}

// platformDesc returns d for an index entry of platform "os/arch".
func platformDesc(d v1.Descriptor, platform string) v1.Descriptor {
	p, err := v1.ParsePlatform(platform)
	if err != nil {
		panic(err)
	}
	d.Platform = p
	return d
}

// rawManifest is a manifest pushed as written.
type rawManifest struct {
	b  []byte
	mt types.MediaType
}

func (r rawManifest) RawManifest() ([]byte, error)        { return r.b, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return r.mt, nil }

// pushManifest pushes m (marshalled to JSON) under tag, or by digest when
// tag is "", and returns its descriptor.
func pushManifest(t testing.TB, repo name.Repository, tag string, m any, mt types.MediaType) v1.Descriptor {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	h, size, err := v1.SHA256(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var ref name.Reference = repo.Digest(h.String())
	if tag != "" {
		ref = repo.Tag(tag)
	}
	if err := remote.Put(ref, rawManifest{b, mt}); err != nil {
		t.Fatal(err)
	}
	return v1.Descriptor{MediaType: mt, Digest: h, Size: size}
}

// pushIndex pushes an OCI index of descs.
func pushIndex(t testing.TB, repo name.Repository, tag string, descs ...v1.Descriptor) v1.Descriptor {
	t.Helper()
	return pushManifest(t, repo, tag, v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: descs}, types.OCIImageIndex)
}

// layer is a blob to push as an artifact layer.
type layer struct {
	mt   types.MediaType
	data []byte
	ann  map[string]string
}

func pushBlob(t testing.TB, repo name.Repository, data []byte, mt types.MediaType) v1.Descriptor {
	t.Helper()
	l := static.NewLayer(data, mt)
	if err := remote.WriteLayer(repo, l); err != nil {
		t.Fatal(err)
	}
	h, _ := l.Digest()
	return v1.Descriptor{MediaType: mt, Digest: h, Size: int64(len(data))}
}

// artifact describes an OCI artifact manifest to push.
type artifact struct {
	tag          string // "" to push by digest
	artifactType string
	configType   types.MediaType // default: the empty descriptor's type
	subject      *v1.Descriptor
	annotations  map[string]string
	layers       []layer
}

// manifest is an image manifest with the OCI 1.1 fields ggcr's v1.Manifest
// lacks in older versions, written out in full for clarity.
type manifest struct {
	SchemaVersion int64             `json:"schemaVersion"`
	MediaType     types.MediaType   `json:"mediaType"`
	ArtifactType  string            `json:"artifactType,omitempty"`
	Config        v1.Descriptor     `json:"config"`
	Layers        []v1.Descriptor   `json:"layers"`
	Subject       *v1.Descriptor    `json:"subject,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

func pushArtifact(t testing.TB, repo name.Repository, a artifact) v1.Descriptor {
	t.Helper()
	ct := a.configType
	if ct == "" {
		ct = emptyConfigType
	}
	m := manifest{
		SchemaVersion: 2, MediaType: types.OCIManifestSchema1, ArtifactType: a.artifactType,
		Config:  pushBlob(t, repo, []byte("{}"), ct),
		Subject: a.subject, Annotations: a.annotations,
	}
	for _, l := range a.layers {
		d := pushBlob(t, repo, l.data, l.mt)
		d.Annotations = l.ann
		m.Layers = append(m.Layers, d)
	}
	d := pushManifest(t, repo, a.tag, m, types.OCIManifestSchema1)
	d.ArtifactType = a.artifactType
	d.Annotations = a.annotations
	return d
}

// cosignTag returns cosign's tag for d with suffix (".sbom", ".att").
func cosignTagFor(d v1.Descriptor, suffix string) string {
	return strings.Replace(d.Digest.String(), ":", "-", 1) + suffix
}

// SBOM documents.

func spdxDoc(purls ...string) []byte {
	type ref struct {
		Category string `json:"referenceCategory"`
		Type     string `json:"referenceType"`
		Locator  string `json:"referenceLocator"`
	}
	type pkg struct {
		Name         string `json:"name"`
		SPDXID       string `json:"SPDXID"`
		ExternalRefs []ref  `json:"externalRefs"`
	}
	doc := struct {
		SPDXVersion string `json:"spdxVersion"`
		SPDXID      string `json:"SPDXID"`
		Name        string `json:"name"`
		Packages    []pkg  `json:"packages"`
	}{SPDXVersion: "SPDX-2.3", SPDXID: "SPDXRef-DOCUMENT", Name: "test"}
	for i, p := range purls {
		doc.Packages = append(doc.Packages, pkg{Name: p, SPDXID: "SPDXRef-" + string(rune('a'+i)), ExternalRefs: []ref{{"PACKAGE-MANAGER", "purl", p}}})
	}
	b, _ := json.Marshal(doc)
	return b
}

func cycloneDXDoc(purls ...string) []byte {
	type comp struct {
		Type string `json:"type"`
		Name string `json:"name"`
		PURL string `json:"purl"`
	}
	doc := struct {
		BOMFormat   string `json:"bomFormat"`
		SpecVersion string `json:"specVersion"`
		Components  []comp `json:"components"`
	}{BOMFormat: "CycloneDX", SpecVersion: "1.5"}
	for _, p := range purls {
		doc.Components = append(doc.Components, comp{"library", p, p})
	}
	b, _ := json.Marshal(doc)
	return b
}

// statement wraps a predicate in an in-toto statement.
func statement(predicateType string, predicate []byte) []byte {
	b, _ := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []map[string]any{{"name": "img", "digest": map[string]string{"sha256": strings.Repeat("0", 64)}}},
		"predicateType": predicateType,
		"predicate":     json.RawMessage(predicate),
	})
	return b
}

// dsse wraps an in-toto statement in a DSSE envelope.
func dsse(stmt []byte) []byte {
	b, _ := json.Marshal(map[string]any{
		"payloadType": "application/vnd.in-toto+json",
		"payload":     base64.StdEncoding.EncodeToString(stmt),
		"signatures":  []map[string]string{{"keyid": "", "sig": "MEUCIQ=="}},
	})
	return b
}

// bundle wraps a DSSE envelope in a sigstore bundle v0.3.
func bundle(envelope []byte) []byte {
	b, _ := json.Marshal(map[string]any{
		"mediaType":            "application/vnd.dev.sigstore.bundle.v0.3+json",
		"verificationMaterial": map[string]any{"publicKey": map[string]string{"hint": "k"}},
		"dsseEnvelope":         json.RawMessage(envelope),
	})
	return b
}

const (
	purlClientGo14 = "pkg:golang/k8s.io/client-go@v0.14.2"
	purlClientGo20 = "pkg:golang/k8s.io/client-go@v0.20.0"
	purlNoise      = "pkg:golang/golang.org/x/net@v0.1.0"
	spdxPredicate  = "https://spdx.dev/Document"
	slsaPredicate  = "https://slsa.dev/provenance/v0.2"
	cdxPredicate   = "https://cyclonedx.org/bom"
)

var (
	discardLog  = log.New(io.Discard, "", 0)
	discardSlog = slog.New(slog.DiscardHandler)
)

func remoteGet(ref name.Reference) (*remote.Descriptor, error) { return remote.Get(ref) }

func remotePut(ref name.Reference, d *remote.Descriptor) error { return remote.Put(ref, d) }

func mustParse(t testing.TB, s *Source, image string) name.Reference {
	t.Helper()
	pr, err := imageref.Parse(image)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := s.reference(pr)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// budgetCounter counts BudgetExceeded calls.
type budgetCounter struct {
	NopMetrics
	n *atomic.Int64
}

func (b budgetCounter) BudgetExceeded(string) { b.n.Add(1) }

// newTLSRegistry serves h over TLS with httptest's self-signed certificate.
func newTLSRegistry(t testing.TB, h http.Handler) *testRegistry {
	r := &testRegistry{}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.counting.Load() {
			r.requests.Add(1)
		}
		h.ServeHTTP(w, req)
	}))
	r.srv.Config.ErrorLog = discardLog // handshake errors are expected
	r.srv.StartTLS()
	t.Cleanup(r.srv.Close)
	r.host = strings.TrimPrefix(r.srv.URL, "https://")
	r.counting.Store(true)
	return r
}

// fixtureAt pushes the fixture through r's own (trusting) client.
func fixtureAt(t testing.TB, r *testRegistry) {
	t.Helper()
	old := remote.DefaultTransport
	remote.DefaultTransport = r.srv.Client().Transport
	defer func() { remote.DefaultTransport = old }()
	fixture(t, r)
}

// countingMetrics counts requests.
type countingMetrics struct {
	NopMetrics
	n atomic.Int64
}

func (m *countingMetrics) Request(string) { m.n.Add(1) }
