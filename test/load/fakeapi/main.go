// Command fakeapi is a namespaces-only stand-in for kube-apiserver, enough for
// the Pod Security Admission webhook (k8s.io/pod-security-admission/cmd/webhook)
// in the side-by-side load test (test/load/peers.sh, issue #8). The webhook
// keeps a namespace informer and looks up the namespace of every request; it
// needs nothing else for Pod and Deployment reviews.
//
// It answers, over plain HTTP on a loopback address:
//
//	GET /api/v1/namespaces                list (every namespace of -namespaces)
//	GET /api/v1/namespaces?watch=true     watch: the initial ADDED events and
//	                                      the initial-events-end bookmark when
//	                                      asked for (sendInitialEvents=true,
//	                                      client-go's WatchListClient), then
//	                                      nothing until timeoutSeconds or the
//	                                      client leaves
//	GET /api/v1/namespaces/NAME           one namespace, or 404
//	GET /healthz, /readyz                 ok
//
// Namespaces carry no pod-security labels, so the webhook's configured
// defaults apply. Everything else is 404. No authentication: it listens on
// 127.0.0.1 only (the -listen address must be a loopback one).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

const resourceVersion = "1"

func namespace(name string) map[string]any {
	return map[string]any{
		"apiVersion": "v1",
		"kind":       "Namespace",
		"metadata": map[string]any{
			"name":              name,
			"uid":               "00000000-0000-4000-8000-" + fmt.Sprintf("%012x", len(name)),
			"resourceVersion":   resourceVersion,
			"creationTimestamp": "2026-01-01T00:00:00Z",
			"labels":            map[string]string{"kubernetes.io/metadata.name": name},
		},
		"spec":   map[string]any{"finalizers": []string{"kubernetes"}},
		"status": map[string]any{"phase": "Active"},
	}
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "loopback `address` to listen on")
	names := flag.String("namespaces", "default,kube-system,kube-public,kube-node-lease,team-a", "comma list of namespaces")
	flag.Parse()

	host, _, err := net.SplitHostPort(*listen)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		log.Fatalf("fakeapi: -listen %q: want a loopback IP address and port", *listen)
	}
	var all []map[string]any
	byName := map[string]map[string]any{}
	for n := range strings.SplitSeq(*names, ",") {
		if n = strings.TrimSpace(n); n != "" {
			ns := namespace(n)
			all = append(all, ns)
			byName[n] = ns
		}
	}

	mux := http.NewServeMux()
	ok := func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") }
	mux.HandleFunc("GET /healthz", ok)
	mux.HandleFunc("GET /readyz", ok)
	mux.HandleFunc("GET /api/v1/namespaces", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("watch") == "true" || q.Get("watch") == "1" {
			watch(w, r, all, q.Get("sendInitialEvents") == "true")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"apiVersion": "v1",
			"kind":       "NamespaceList",
			"metadata":   map[string]any{"resourceVersion": resourceVersion},
			"items":      all,
		})
	})
	mux.HandleFunc("GET /api/v1/namespaces/{name}", func(w http.ResponseWriter, r *http.Request) {
		if ns, found := byName[r.PathValue("name")]; found {
			writeJSON(w, http.StatusOK, ns)
			return
		}
		writeJSON(w, http.StatusNotFound, map[string]any{
			"apiVersion": "v1", "kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404,
			"message": fmt.Sprintf("namespaces %q not found", r.PathValue("name")),
		})
	})

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("fakeapi: %v", err)
	}
	log.Printf("fakeapi: serving %d namespaces on http://%s", len(all), ln.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.Serve(ln); err != nil {
		log.Print(err)
		os.Exit(1)
	}
}

// watch streams watch events: with initial events, one ADDED per namespace
// and the bookmark that ends them; then it holds the stream open, sending
// nothing, until timeoutSeconds (default 5 minutes) or the client goes.
func watch(w http.ResponseWriter, r *http.Request, all []map[string]any, initial bool) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	flusher, _ := w.(http.Flusher)
	if initial {
		for _, ns := range all {
			_ = enc.Encode(map[string]any{"type": "ADDED", "object": ns})
		}
		_ = enc.Encode(map[string]any{"type": "BOOKMARK", "object": map[string]any{
			"apiVersion": "v1", "kind": "Namespace",
			"metadata": map[string]any{
				"resourceVersion": resourceVersion,
				"annotations":     map[string]string{"k8s.io/initial-events-end": "true"},
			},
		}})
	}
	if flusher != nil {
		flusher.Flush()
	}
	timeout := 5 * time.Minute
	if s, err := strconv.Atoi(r.URL.Query().Get("timeoutSeconds")); err == nil && s > 0 {
		timeout = time.Duration(s) * time.Second
	}
	select {
	case <-r.Context().Done():
	case <-time.After(timeout):
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
