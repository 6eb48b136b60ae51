package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenguard/tokenguard/pkg/engine"
	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect"
)

// TestDiscoverControlPlane reads the version from an API server named by
// a kubeconfig, retrying after a failure, as tokenguard/<version>.
func TestDiscoverControlPlane(t *testing.T) {
	var calls atomic.Int32
	var agent atomic.Value
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/version" {
			t.Errorf("request %s, want /version", r.URL.Path)
		}
		agent.Store(r.UserAgent())
		if calls.Add(1) == 1 {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"major":"1","minor":"31","gitVersion":"v1.31.4-eks-2d5f260"}`))
	}))
	defer s.Close()
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	text := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: " + s.URL +
		"\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user:\n    token: t\n"
	if err := os.WriteFile(kc, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	catalog, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(engine.Options{Catalog: catalog, Evidence: sdkdetect.TagOnly{}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	discoverControlPlane(ctx, kc, eng, slog.New(slog.DiscardHandler))
	v := eng.ControlPlane()
	if v == nil || v.String() != "v1.31" {
		t.Fatalf("control plane = %v after %d requests, want v1.31", v, calls.Load())
	}
	if calls.Load() != 2 {
		t.Errorf("%d requests, want 2 (a failure, then the version)", calls.Load())
	}
	if ua := agent.Load(); ua != "tokenguard/"+version {
		t.Errorf("User-Agent %q, want tokenguard/%s", ua, version)
	}
}
