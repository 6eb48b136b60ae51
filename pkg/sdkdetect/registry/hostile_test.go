package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// hostile serves /v2/ like a registry and everything else with h.
func hostile(t *testing.T, h http.HandlerFunc) *testRegistry {
	return serveCounting(t, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/v2/" {
			w.WriteHeader(http.StatusOK)
			return
		}
		h(w, req)
	}))
}

// manifestServer serves body as every manifest, with its real digest so
// that ggcr's digest checks pass and the content itself is what is judged.
func manifestServer(t *testing.T, contentType string, body []byte) *testRegistry {
	sum := sha256.Sum256(body)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	return hostile(t, func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Docker-Content-Digest", digest)
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		if req.Method == http.MethodGet {
			w.Write(body)
		}
	})
}

func TestHostileRegistries(t *testing.T) {
	statusServer := func(code int, body string) func(t *testing.T) *testRegistry {
		return func(t *testing.T) *testRegistry {
			return hostile(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(code)
				fmt.Fprint(w, body)
			})
		}
	}
	for _, tc := range []struct {
		name     string
		server   func(t *testing.T) *testRegistry
		want     string // Unavailable, with HOST for the registry
		reason   string
		maxCalls int64
	}{
		{
			name:   "500",
			server: statusServer(500, `{"errors":[{"code":"UNKNOWN","message":"boom"}]}`),
			want:   "registry HOST returned 500", reason: ReasonServerError,
			maxCalls: 2, // HEAD and one retry
		},
		{
			name:   "429 is not retried",
			server: statusServer(429, `{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}`),
			want:   "registry HOST is rate-limiting (429): give tokenguard credentials for it", reason: ReasonRateLimited,
			maxCalls: 1, // HEAD
		},
		{
			name: "401",
			server: func(t *testing.T) *testRegistry {
				return serveCounting(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("WWW-Authenticate", `Basic realm="registry"`)
					w.WriteHeader(http.StatusUnauthorized)
				}))
			},
			want: "registry HOST refused the credentials (401): tokenguard needs pull access to it", reason: ReasonAuth,
		},
		{
			// Amazon ECR, after the credential helper's 12-hour token expired.
			name:   "403 with the registry's own words",
			server: statusServer(403, `{"errors":[{"code":"DENIED","message":"Your authorization token has expired.\n Reauthenticate and try again."}]}`),
			want:   `registry HOST denied access to HOST/acme/api:1.4 (403), saying "Your authorization token has expired. Reauthenticate and try again.": the credentials tokenguard used cannot pull it`,
			reason: ReasonDenied,
		},
		{
			name: "not found",
			server: func(t *testing.T) *testRegistry {
				return newTestRegistry(t)
			},
			want: "image HOST/acme/api:1.4 not found in its registry", reason: ReasonNotFound,
		},
		{
			name: "invalid JSON manifest",
			server: func(t *testing.T) *testRegistry {
				return manifestServer(t, string(types.OCIManifestSchema1), []byte(`{"schemaVersion":2,"layers":[`))
			},
			want: "registry HOST returned an unreadable manifest for HOST/acme/api:1.4: invalid manifest: ", reason: ReasonInvalid,
		},
		{
			name: "wrong content type",
			server: func(t *testing.T) *testRegistry {
				return manifestServer(t, "text/html", []byte(`<html><body>login</body></html>`))
			},
			want: `registry HOST returned an unreadable manifest for HOST/acme/api:1.4: invalid manifest: content type "text/html", body is not JSON`, reason: ReasonInvalid,
		},
		{
			name: "manifest larger than the limit",
			server: func(t *testing.T) *testRegistry {
				return hostile(t, func(w http.ResponseWriter, req *http.Request) {
					w.Header().Set("Content-Type", string(types.OCIManifestSchema1))
					w.Header().Set("Docker-Content-Digest", "sha256:"+strings.Repeat("a", 64))
					if req.Method == http.MethodHead {
						w.Header().Set("Content-Length", "10")
						return
					}
					endless(w, req, []byte(`{"layers":[`), []byte(" "))
				})
			},
			want: "registry HOST sent a response larger than the size limit for HOST/acme/api:1.4", reason: ReasonTooLarge,
		},
		{
			name: "redirect loop",
			server: func(t *testing.T) *testRegistry {
				return hostile(t, func(w http.ResponseWriter, req *http.Request) {
					http.Redirect(w, req, req.URL.Path, http.StatusTemporaryRedirect)
				})
			},
			want: "registry HOST redirected more than 10 times", reason: ReasonRedirects,
			maxCalls: 40,
		},
		{
			name: "connection refused",
			server: func(t *testing.T) *testRegistry {
				r := newTestRegistry(t)
				r.srv.Close()
				return r
			},
			want: "registry HOST could not be reached: ", reason: ReasonNetwork,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.server(t)
			r.reset()
			m := &recordingMetrics{}
			clock := &fakeClock{t: time.Unix(1e9, 0)}
			s := newSource(t, Options{Timeout: 5 * time.Second, Metrics: m, now: clock.now})
			image := r.host + "/acme/api:1.4"
			begin := time.Now()
			ev := evidence(t, s, image)
			if took := time.Since(begin); took > 3*time.Second {
				t.Errorf("Evidence took %v", took)
			}
			want := strings.ReplaceAll(tc.want, "HOST", r.host)
			if !strings.HasPrefix(ev.Unavailable, want) {
				t.Errorf("Unavailable = %q\n         want %q", ev.Unavailable, want)
			}
			if ev.Ref.Tag != "1.4" || ev.SBOM != "" || len(ev.Packages) != 0 {
				t.Errorf("evidence = %+v, want tag evidence", ev)
			}
			if got := m.reason.Load(); got == nil || *got != tc.reason {
				t.Errorf("metrics reason = %v, want %q", got, tc.reason)
			}
			if n := r.requests.Load(); tc.maxCalls > 0 && n > tc.maxCalls {
				t.Errorf("%d requests, want at most %d: %q", n, tc.maxCalls, r.requestLog())
			}

			// The failure is cached for NegativeTTL.
			r.reset()
			if again := evidence(t, s, image); again.Unavailable != ev.Unavailable {
				t.Errorf("cached failure = %q", again.Unavailable)
			}
			if n := r.requests.Load(); n != 0 {
				t.Errorf("a cached failure sent %d requests", n)
			}
			clock.advance(DefaultNegativeTTL + time.Second)
			evidence(t, s, image)
			if n := r.requests.Load(); n == 0 && tc.reason != ReasonNetwork {
				t.Error("after NegativeTTL the registry was not asked again")
			}
		})
	}
}

// endless writes prefix then repeats fill until the client goes away or
// 1 GiB was written, and returns the bytes written.
func endless(w http.ResponseWriter, req *http.Request, prefix, fill []byte) int64 {
	chunk := bytes.Repeat(fill, 64<<10/len(fill))
	n, _ := w.Write(prefix)
	written := int64(n)
	for written < 1<<30 && req.Context().Err() == nil {
		n, err := w.Write(chunk)
		written += int64(n)
		if err != nil {
			break
		}
	}
	return written
}

// recordingMetrics keeps the last lookup's reason.
type recordingMetrics struct {
	NopMetrics
	reason atomic.Pointer[string]
}

func (m *recordingMetrics) LookupDone(_, reason string, _ time.Duration) { m.reason.Store(&reason) }

func TestDeclaredHugeSBOMIsNotDownloaded(t *testing.T) {
	r := newTestRegistry(t, registry.WithReferrersSupport(true))
	repo := r.repo(t, "acme/api")
	var blob v1.Descriptor
	r.quiet(func() {
		img := pushImage(t, repo, "1.0", nil)
		blob = pushBlob(t, repo, spdxDoc(purlClientGo14), "application/spdx+json")
		huge := blob
		huge.Size = 1 << 30 // the manifest declares 1 GiB
		m := manifest{
			SchemaVersion: 2, MediaType: types.OCIManifestSchema1, ArtifactType: "application/spdx+json",
			Config: pushBlob(t, repo, []byte("{}"), emptyConfigType), Layers: []v1.Descriptor{huge}, Subject: &img,
		}
		pushManifest(t, repo, "", m, types.OCIManifestSchema1)
	})
	s := newSource(t, Options{Timeout: 10 * time.Second})
	ev := evidence(t, s, r.host+"/acme/api:1.0")
	// The SBOM is not read, and the evidence says why (the verdict becomes
	// unknown with that reason, not "no SBOM").
	if ev.SBOM != "" || !strings.Contains(ev.Unavailable, "SBOM (application/spdx+json, 1073741824 bytes) is larger than the limit of 67108864 bytes") {
		t.Errorf("evidence = %+v, want the SBOM skipped as too large", ev)
	}
	if r.requested(blob.Digest.Hex) {
		t.Errorf("a blob declared above MaxSBOMBytes was downloaded: %q", r.requestLog())
	}
}

func TestUndeclaredHugeSBOMIsCut(t *testing.T) {
	var served atomic.Int64
	var r *testRegistry
	inner := registry.New(registry.WithReferrersSupport(true), registry.Logger(discardLog))
	var blob v1.Descriptor
	r = serveCounting(t, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if blob.Digest.Hex != "" && strings.HasSuffix(req.URL.Path, "/blobs/"+blob.Digest.String()) && req.Method == http.MethodGet {
			// No Content-Length: a chunked body of up to 1 GiB.
			served.Store(endless(w, req, []byte(`{"spdxVersion":"SPDX-2.3","packages":[`), []byte(`{"name":"x"}, `)))
			return
		}
		inner.ServeHTTP(w, req)
	}))
	repo := r.repo(t, "acme/api")
	r.quiet(func() {
		img := pushImage(t, repo, "1.0", nil)
		pushArtifact(t, repo, artifact{
			artifactType: "application/spdx+json", subject: &img,
			layers: []layer{{mt: "application/spdx+json", data: spdxDoc(purlClientGo14)}},
		})
		blob = pushBlob(t, repo, spdxDoc(purlClientGo14), "application/spdx+json")
	})
	const limit = 8 << 20
	s := newSource(t, Options{Timeout: 20 * time.Second, MaxSBOMBytes: limit})

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	begin := time.Now()
	ev := evidence(t, s, r.host+"/acme/api:1.0")
	took := time.Since(begin)
	runtime.ReadMemStats(&after)

	if ev.SBOM != "" || !strings.Contains(ev.Unavailable, "larger than the limit of 8388608 bytes") {
		t.Errorf("evidence = %+v, want the oversized SBOM skipped as too large", ev)
	}
	time.Sleep(50 * time.Millisecond) // let the handler notice the client left
	if n := served.Load(); n > 4*limit {
		t.Errorf("the server wrote %d bytes; reading should stop near %d", n, limit)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("the lookup allocated %d MiB", alloc>>20)
	}
	t.Logf("cut after %v, server wrote %d KiB, allocated %d KiB", took, served.Load()>>10, (after.TotalAlloc-before.TotalAlloc)>>10)
}

func TestUntrustedTLSAndInsecureRegistries(t *testing.T) {
	inner := registry.New(registry.WithReferrersSupport(true), registry.Logger(discardLog))
	r := serveCounting(t, inner)
	r.srv.Close()
	// A TLS registry with a self-signed certificate.
	tr := newTLSRegistry(t, inner)
	fixtureAt(t, tr)
	image := tr.host + "/acme/api:1.4"

	strict := newSource(t, Options{Timeout: 10 * time.Second})
	if ev := evidence(t, strict, image); ev.Unavailable == "" {
		t.Errorf("an untrusted certificate was accepted: %+v", ev)
	} else {
		t.Logf("strict: %s", ev.Unavailable)
	}
	insecure := newSource(t, Options{Timeout: 10 * time.Second, InsecureRegistries: []string{tr.host}})
	checkEvidence(t, evidence(t, insecure, image), "sbom:spdx-referrer", "golang/k8s.io/client-go@v0.14.2 sbom:spdx-referrer")
}

func TestContextCancelled(t *testing.T) {
	r := slowRegistry(t, time.Second)
	fixture(t, r)
	s := newSource(t, Options{Timeout: 5 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	ev := s.Evidence(ctx, policy.Puller{}, r.host+"/acme/api:1.4")
	if !strings.Contains(ev.Unavailable, "cancelled") {
		t.Errorf("Unavailable = %q", ev.Unavailable)
	}
}

func TestBlobRedirectedToStorageHost(t *testing.T) {
	// Registries redirect blob GETs to storage (S3, a CDN): the SBOM size
	// limit, not the manifest one, applies there.
	purls := []string{purlClientGo14}
	for i := range 50000 { // about 6 MiB of SPDX
		purls = append(purls, fmt.Sprintf("pkg:golang/example.com/m%d@v1.0.0", i))
	}
	doc := spdxDoc(purls...)
	if len(doc) < 5<<20 {
		t.Fatalf("the document has %d bytes, want above the 4 MiB manifest limit", len(doc))
	}
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(doc)
	}))
	t.Cleanup(storage.Close)
	inner := registry.New(registry.WithReferrersSupport(true), registry.Logger(discardLog))
	var blob v1.Descriptor
	r := serveCounting(t, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if blob.Digest.Hex != "" && req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, "/blobs/"+blob.Digest.String()) {
			http.Redirect(w, req, storage.URL+"/bucket/"+blob.Digest.Hex+"?X-Amz-Signature=x", http.StatusTemporaryRedirect)
			return
		}
		inner.ServeHTTP(w, req)
	}))
	repo := r.repo(t, "acme/api")
	r.quiet(func() {
		img := pushImage(t, repo, "1.0", nil)
		pushArtifact(t, repo, artifact{
			artifactType: "application/spdx+json", subject: &img,
			layers: []layer{{mt: "application/spdx+json", data: doc}},
		})
		blob = pushBlob(t, repo, doc, "application/spdx+json")
	})
	s := newSource(t, Options{Timeout: 10 * time.Second})
	checkEvidence(t, evidence(t, s, r.host+"/acme/api:1.0"), "sbom:spdx-referrer", "golang/k8s.io/client-go@v0.14.2 sbom:spdx-referrer")
}
