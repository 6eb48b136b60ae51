// Command floor is the decode-only floor for the admission load test: an
// HTTPS server that does what any Go validating webhook must do for every
// request and nothing more, so that tokenguard's cost can be read as "floor +
// what the decision adds".
//
// For any POST path it reads the body (at most 3 MiB, the API server's own
// request limit), decodes the admission.k8s.io/v1 AdmissionReview with
// encoding/json, then decodes request.object into its typed kind (corev1.Pod,
// appsv1.Deployment; any other kind into a map) with the SAME decoder,
// encoding/json, and answers allowed with the request's uid. That is the
// floor for "decode AdmissionReview + object" with the standard library: the
// object's bytes are scanned twice (once as a RawExtension inside the review,
// once into the typed object), exactly as a webhook built on the k8s types
// does. A faster decoder (or apimachinery's universal deserializer, which
// kubewebhook uses) moves the floor; compare like with like.
//
// -mode review-only skips the object decode: the floor for "decode the
// AdmissionReview only" (what a webhook that never looks at the object pays).
//
// Usage:
//
//	floor [-listen 127.0.0.1:8444] [-cert FILE -key FILE] [-mode full|review-only]
//	floor -gen-cert DIR   # write DIR/tls.crt and DIR/tls.key (self-signed, for 127.0.0.1/localhost) and exit
//
// Without -cert/-key it makes a self-signed ECDSA P-256 certificate in memory.
// GET /healthz and /readyz answer 200 once it listens.
package main

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tokenguard/tokenguard/pkg/certs"
)

// maxBody is kube-apiserver's own request-body limit (3 MiB); an
// AdmissionReview carries at most one object of that size (two on UPDATE).
const maxBody = 3 << 20

// Server settings of a real webhook behind kube-apiserver, the same as
// tokenguard serve's (cmd/webhook/serve.go, newServer): the API server sends
// a review at once and waits at most timeoutSeconds (default 10, at most 30)
// for the answer, and keeps idle connections for 90 s. Keep these in step
// with serve, so that both sides of the comparison run the same net/http
// configuration.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 20 * time.Second
	writeTimeout      = 35 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8444", "HTTPS listen address (loopback only)")
	certFile := flag.String("cert", "", "TLS certificate file (PEM); empty: self-signed in memory")
	keyFile := flag.String("key", "", "TLS private key file (PEM)")
	mode := flag.String("mode", "full", "full: decode AdmissionReview + object; review-only: decode AdmissionReview only")
	genCert := flag.String("gen-cert", "", "write a self-signed tls.crt and tls.key into this directory and exit")
	flag.Parse()

	if *genCert != "" {
		if err := writeSelfSigned(*genCert); err != nil {
			log.Fatal(err)
		}
		return
	}
	if *mode != "full" && *mode != "review-only" {
		log.Fatalf("-mode %q: want full or review-only", *mode)
	}
	if host, _, err := net.SplitHostPort(*listen); err != nil {
		log.Fatalf("-listen %q: %v", *listen, err)
	} else if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		log.Fatalf("-listen %q: the floor serves loopback only", *listen)
	}

	var cert tls.Certificate
	var err error
	if *certFile != "" || *keyFile != "" {
		cert, err = tls.LoadX509KeyPair(*certFile, *keyFile)
	} else {
		var c *tls.Certificate
		if c, _, err = certs.SelfSigned([]string{"127.0.0.1", "localhost"}, time.Now()); err == nil {
			cert = *c
		}
	}
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	ok := func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") }
	mux.HandleFunc("GET /healthz", ok)
	mux.HandleFunc("GET /readyz", ok)
	mux.Handle("POST /", &handler{decodeObject: *mode == "full"})

	srv := &http.Server{
		Addr:              *listen,
		Handler:           mux,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          log.New(os.Stderr, "floor: http: ", 0),
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "floor: mode %s, listening on https://%s (pid %d)\n", *mode, ln.Addr(), os.Getpid())
	log.Fatal(srv.ServeTLS(ln, "", ""))
}

type handler struct{ decodeObject bool }

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil {
		http.Error(w, "decode AdmissionReview: "+err.Error(), http.StatusBadRequest)
		return
	}
	req := review.Request
	if req == nil {
		http.Error(w, "AdmissionReview without request", http.StatusBadRequest)
		return
	}
	if h.decodeObject {
		if err := decodeObject(req); err != nil {
			http.Error(w, "decode object: "+err.Error(), http.StatusBadRequest)
			return
		}
	}
	out, err := json.Marshal(&admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Response: &admissionv1.AdmissionResponse{UID: req.UID, Allowed: true},
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(out)
}

// sink keeps the decoded object observable, so the decode is real work.
var sink int

// decodeObject decodes request.object into its typed kind with
// encoding/json, as a webhook must before it can look at the pod spec.
func decodeObject(req *admissionv1.AdmissionRequest) error {
	raw := req.Object.Raw
	if len(raw) == 0 {
		return errors.New("no object")
	}
	switch {
	case req.Kind.Group == "" && req.Kind.Kind == "Pod":
		var pod corev1.Pod
		if err := json.Unmarshal(raw, &pod); err != nil {
			return err
		}
		sink += len(pod.Spec.Containers)
	case req.Kind.Group == "apps" && req.Kind.Kind == "Deployment":
		var d appsv1.Deployment
		if err := json.Unmarshal(raw, &d); err != nil {
			return err
		}
		sink += len(d.Spec.Template.Spec.Containers)
	default:
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return err
		}
		sink += len(m)
	}
	return nil
}

// writeSelfSigned writes dir/tls.crt and dir/tls.key (0600), so that the
// floor and tokenguard serve can share one certificate: same key type, same
// TLS cost.
func writeSelfSigned(dir string) error {
	b, err := certs.Generate([]string{"127.0.0.1", "localhost"}, time.Now().Add(-time.Hour), 24*time.Hour)
	if err != nil {
		return err
	}
	return certs.WriteFiles(dir, b)
}
