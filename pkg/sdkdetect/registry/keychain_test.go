package registry

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// basicKeychain hands user:pass to host and nothing to other registries.
type basicKeychain struct{ host, user, pass string }

func (k basicKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if r.RegistryStr() != k.host {
		return authn.Anonymous, nil
	}
	return &authn.Basic{Username: k.user, Password: k.pass}, nil
}

// newBasicAuthRegistry is an in-memory registry that demands user:pass
// once locked (pushing the fixture happens before).
func newBasicAuthRegistry(t *testing.T, user, pass string) (*testRegistry, *atomic.Bool) {
	var locked atomic.Bool
	inner := registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0)))
	r := serveCounting(t, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if u, p, ok := req.BasicAuth(); locked.Load() && (!ok || u != user || p != pass) {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		inner.ServeHTTP(w, req)
	}))
	return r, &locked
}

func TestCredentials(t *testing.T) {
	r, locked := newBasicAuthRegistry(t, "alice", "s3cret")
	idx := fixture(t, r)
	locked.Store(true)
	// The team namespace's regcred holds the right credentials, its wrong
	// secret the wrong ones; other pullers have none.
	creds := func(namespace, serviceAccount string, secrets []string) (string, authn.Keychain) {
		if namespace != "team" || len(secrets) != 1 {
			return "", nil
		}
		switch secrets[0] {
		case "regcred":
			return "team/regcred@1", basicKeychain{r.host, "alice", "s3cret"}
		case "wrong":
			return "team/wrong@1", basicKeychain{r.host, "alice", "wrong"}
		}
		return "", nil
	}
	s := newSource(t, Options{Timeout: 10 * time.Second, Credentials: creds})
	image := r.host + "/acme/api:1.4"
	lookup := func(p policy.Puller) string {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		ev := s.Evidence(ctx, p, image)
		if ev.Unavailable != "" {
			return ev.Unavailable
		}
		return ev.SBOM + " " + strings.Join(pkgs(ev.Packages), " ")
	}
	const found = "sbom:spdx-referrer golang/k8s.io/client-go@v0.14.2 sbom:spdx-referrer"
	nobody := policy.Puller{Namespace: "other"}
	bad := policy.Puller{Namespace: "team", PullSecrets: []string{"wrong"}}
	good := policy.Puller{Namespace: "team", PullSecrets: []string{"regcred"}}

	// Without credentials: a 401.
	if got := lookup(nobody); !strings.Contains(got, "401") {
		t.Fatalf("without credentials: %q, want a 401", got)
	}
	// Wrong credentials: a 401 too, not the cached one.
	r.reset()
	if got := lookup(bad); !strings.Contains(got, "401") {
		t.Fatalf("with wrong credentials: %q, want a 401", got)
	}
	if r.requests.Load() == 0 {
		t.Error("the lookup with credentials was answered by the failure cached without them")
	}
	// The pull secret's credentials: the SBOM.
	if got := lookup(good); got != found {
		t.Fatalf("with credentials: %q, want %q", got, found)
	}
	// Evidence is not secret: once found it answers everyone, from the
	// cache.
	r.reset()
	for _, p := range []policy.Puller{{}, nobody, bad, good} {
		if got := lookup(p); got != found {
			t.Errorf("cached: %q, want %q", got, found)
		}
	}
	if n := r.requests.Load(); n != 0 {
		t.Errorf("cached lookups sent %d requests: %q", n, r.requestLog())
	}
	// Prefetch uses the puller's credentials too.
	locked.Store(false)
	r.quiet(func() { pushIndexTag(t, r, idx, "latest") })
	locked.Store(true)
	s.Prefetch(context.Background(), good, r.host+"/acme/api:latest")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if rec, ok := s.cached(mustParse(t, s, r.host+"/acme/api:latest"), s.credsOf(good)); ok && rec.unavailable == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Prefetch with credentials did not fill the cache")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCredentialsEmpty(t *testing.T) {
	none := func(string, string, []string) (string, authn.Keychain) { return "", basicKeychain{} }
	noKC := func(string, string, []string) (string, authn.Keychain) { return "k", nil }
	for _, c := range []Credentials{nil, none, noKC} {
		s := &Source{opts: Options{Credentials: c}}
		if got := s.credsOf(policy.Puller{Namespace: "ns"}); got.key != "" || got.kc != nil {
			t.Errorf("credentials without key or keychain: %+v", got)
		}
	}
}

func TestCredentialPullersBounded(t *testing.T) {
	s := newSource(t, Options{})
	exampleRegistry, err := name.NewRegistry("registry.example.com")
	if err != nil {
		t.Fatal(err)
	}
	for i := range maxCredPullers + 50 {
		c := creds{key: fmt.Sprint("ns/secret@", i), kc: anonymous{}}
		if _, err := s.pullers.get(exampleRegistry, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.pullers.get(exampleRegistry, creds{}); err != nil {
		t.Fatal(err)
	}
	if plain, withCred := s.pullers.size(); withCred != maxCredPullers || plain != 1 {
		t.Errorf("%d credential pullers, %d without; want %d and 1", withCred, plain, maxCredPullers)
	}
}
