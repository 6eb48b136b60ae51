package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/slok/kubewebhook/v2/pkg/model"
	"github.com/slok/kubewebhook/v2/pkg/webhook"

	"github.com/tokenguard/tokenguard/pkg/workload"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// MaxRequestBytes caps an AdmissionReview body. The API server's own limit
// for an object is 3 MiB; a review holds the object twice on UPDATE, but a
// larger body than this is no review tokenguard should spend memory on.
const MaxRequestBytes = 3 << 20

// defaultTimeout applies when the API server sends no ?timeout=.
const defaultTimeout = 10 * time.Second

// Handler answers AdmissionReviews for one mode over HTTP. It is the one
// place that knows the wire format: it decodes the review, skips what must
// not be judged, hands the rest to the mode's kubewebhook webhook (measured
// by kubewebhook's recorder), and encodes the response (403 Forbidden for a
// denial, as Pod Security Admission does).
type Handler struct {
	mode    Mode
	webhook webhook.Webhook
	metrics *Metrics
	log     *slog.Logger
	bodies  *BodyBudget
}

// NewHandler builds the handler of one mode on a kubewebhook validating
// webhook, measured by rec (kubewebhook's Prometheus recorder, or nil).
func NewHandler(mode Mode, r *Reviewer, rec webhook.MetricsRecorder) (*Handler, error) {
	wh := r.Webhook(mode)
	if rec != nil {
		wh = webhook.NewMeasuredWebhook(rec, wh)
	}
	log := r.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{mode: mode, webhook: wh, metrics: r.Metrics, log: log, bodies: r.Bodies}, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	start := time.Now()
	defer func() { h.metrics.observe(h.mode, time.Since(start).Seconds()) }()
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpError(w, http.StatusMethodNotAllowed, "tokenguard answers AdmissionReviews by POST")
		return
	}
	if req.ContentLength > MaxRequestBytes {
		// Refused on the declared length, before reading a byte: a body
		// that claims 100 MB and sends 70 bytes would otherwise hold the
		// connection until ReadTimeout. The server closes the connection,
		// as the unread body is larger than it drains.
		httpError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("AdmissionReview of %d bytes is larger than %d bytes", req.ContentLength, MaxRequestBytes))
		return
	}
	ctx, cancel := context.WithTimeout(req.Context(), requestTimeout(req))
	defer cancel()
	release, err := h.bodies.acquire(ctx, req.ContentLength)
	if err != nil {
		h.log.Warn("no room to read an admission request: too many large reviews in flight", "mode", h.mode, "bytes", req.ContentLength, "remote", req.RemoteAddr)
		httpError(w, http.StatusServiceUnavailable, "tokenguard is reading too many large AdmissionReviews at once; retry")
		return
	}
	defer release()
	buf, err := readBody(w, req)
	defer putBody(buf)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			httpError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("AdmissionReview larger than %d bytes", MaxRequestBytes))
			return
		}
		httpError(w, http.StatusBadRequest, "reading the request body: "+err.Error())
		return
	}
	review, msg := decodeReview(buf.Bytes())
	if msg != "" {
		h.log.Warn("rejected a malformed admission request", "mode", h.mode, "error", msg, "remote", req.RemoteAddr)
		httpError(w, http.StatusBadRequest, msg)
		return
	}
	writeReview(w, h.review(ctx, review))
}

// reviewIn is the part of an admission.k8s.io/v1 AdmissionReview that
// tokenguard reads; the rest (userInfo, options) is skipped by the decoder.
type reviewIn struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Request    *requestIn `json:"request"`
}

// requestFields are the request's fields other than its objects.
type requestFields struct {
	UID         types.UID                   `json:"uid"`
	Kind        metav1.GroupVersionKind     `json:"kind"`
	Resource    metav1.GroupVersionResource `json:"resource"`
	SubResource string                      `json:"subResource"`
	Name        string                      `json:"name"`
	Namespace   string                      `json:"namespace"`
	Operation   admissionv1.Operation       `json:"operation"`
	DryRun      *bool                       `json:"dryRun"`
}

type requestIn struct {
	requestFields
	Object    rawJSON `json:"object"`
	OldObject rawJSON `json:"oldObject"`
	// decoded holds the objects when they were decoded with the envelope
	// (workloads); Object and OldObject are then empty.
	decoded *decodedReview
}

// workloadReviewIn is reviewIn with its objects decoded in the same pass as
// the envelope, which is how workloads (nearly every review) are read.
type workloadReviewIn struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Request    *struct {
		requestFields
		Object    *workload.Object `json:"object"`
		OldObject *workload.Object `json:"oldObject"`
	} `json:"request"`
}

// hasObject reports whether the request carries an object to judge.
func (r *requestIn) hasObject() bool {
	if r.decoded != nil {
		return r.decoded.newObject != nil
	}
	return len(rawObject(r.Object)) > 0
}

// rawJSON is a JSON value kept as the bytes of the request body it came
// from, not copied (json.RawMessage copies): valid only while the body's
// buffer is, i.e. during ServeHTTP. Everything read from it (workload.FromJSON)
// is decoded into its own memory.
type rawJSON []byte

// UnmarshalJSON keeps b, which encoding/json hands over as a sub-slice of
// the input.
func (r *rawJSON) UnmarshalJSON(b []byte) error {
	*r = b
	return nil
}

// bodyPool holds request body buffers between requests: a 4–5 KB Pod review
// otherwise costs ~11 KB of garbage in io.ReadAll's growing buffer, the
// largest allocation per review (BenchmarkHandler -memprofile).
var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBody is the largest buffer put back: a rare huge review does not
// pin its memory.
const maxPooledBody = 256 << 10

// readBody reads the request body, at most MaxRequestBytes, into a pooled
// buffer; give it back with putBody once nothing refers to its bytes.
func readBody(w http.ResponseWriter, req *http.Request) (*bytes.Buffer, error) {
	buf := bodyPool.Get().(*bytes.Buffer)
	buf.Reset()
	if n := req.ContentLength; n > 0 && n <= MaxRequestBytes {
		buf.Grow(int(n) + bytes.MinRead) // ReadFrom wants MinRead free at EOF
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, req.Body, MaxRequestBytes))
	return buf, err
}

func putBody(buf *bytes.Buffer) {
	if buf.Cap() <= maxPooledBody {
		bodyPool.Put(buf)
	}
}

// model turns the request into kubewebhook's model. RequestGVK is the kind
// of the object as sent (after matchPolicy: Equivalent conversion), which
// is what tells how to read it.
func (r *requestIn) model() model.AdmissionReview {
	var original runtime.Object
	if r.decoded != nil {
		original = r.decoded
	}
	return model.AdmissionReview{
		OriginalAdmissionReview: original,
		ID:                      string(r.UID),
		Name:                    r.Name,
		Namespace:               r.Namespace,
		Operation:               operation(r.Operation),
		Version:                 model.AdmissionReviewVersionV1,
		RequestGVK:              &r.Kind,
		RequestGVR:              &r.Resource,
		NewObjectRaw:            rawObject(r.Object),
		OldObjectRaw:            rawObject(r.OldObject),
		DryRun:                  r.DryRun != nil && *r.DryRun,
	}
}

func rawObject(m rawJSON) []byte {
	if string(m) == "null" {
		return nil
	}
	return m
}

func operation(op admissionv1.Operation) model.AdmissionReviewOp {
	switch op {
	case admissionv1.Create:
		return model.OperationCreate
	case admissionv1.Update:
		return model.OperationUpdate
	case admissionv1.Delete:
		return model.OperationDelete
	case admissionv1.Connect:
		return model.OperationConnect
	}
	return model.OperationUnknown
}

// decodeReview reads an admission.k8s.io/v1 AdmissionReview; a non-empty
// string says what is wrong with it. A workload's objects are decoded with
// the envelope, in one pass; other kinds (namespaces) and anything the
// one-pass decoder refuses are read again with the objects kept raw, which
// also gives the precise error.
func decodeReview(body []byte) (*reviewIn, string) {
	var fast workloadReviewIn
	if json.Unmarshal(body, &fast) == nil && checkReview(fast.APIVersion, fast.Kind, fast.Request != nil, func() types.UID { return fast.Request.UID }) == "" &&
		workload.IsWorkloadKind(fast.Request.Kind.Group, fast.Request.Kind.Kind) {
		r := fast.Request
		return &reviewIn{APIVersion: fast.APIVersion, Kind: fast.Kind, Request: &requestIn{
			requestFields: r.requestFields,
			decoded:       &decodedReview{newObject: r.Object, oldObject: r.OldObject},
		}}, ""
	}
	var review reviewIn
	if err := json.Unmarshal(body, &review); err != nil {
		return nil, "malformed AdmissionReview: " + err.Error()
	}
	if msg := checkReview(review.APIVersion, review.Kind, review.Request != nil, func() types.UID { return review.Request.UID }); msg != "" {
		return nil, msg
	}
	return &review, ""
}

// checkReview says what makes a decoded envelope unusable, or "".
func checkReview(apiVersion, kind string, hasRequest bool, uid func() types.UID) string {
	switch {
	case apiVersion != admissionv1.SchemeGroupVersion.String() || kind != "AdmissionReview":
		return fmt.Sprintf("expected an admission.k8s.io/v1 AdmissionReview, got apiVersion %q kind %q (set admissionReviewVersions: [\"v1\"])", apiVersion, kind)
	case !hasRequest:
		return "AdmissionReview has no request"
	case uid() == "":
		return "AdmissionReview request has no uid"
	}
	return ""
}

// review decides one request: what must not be judged is allowed at once,
// the rest goes through kubewebhook to the validator.
func (h *Handler) review(ctx context.Context, review *reviewIn) *admissionv1.AdmissionResponse {
	req := review.Request
	allowed := &admissionv1.AdmissionResponse{UID: req.UID, Allowed: true}
	if reason := skipReason(req); reason != "" {
		h.metrics.skip(h.mode, reason)
		return allowed
	}
	resp, err := h.webhook.Review(ctx, req.model())
	if err != nil {
		// Never an error to the API server (a 500 hands the decision to
		// failurePolicy); the webhook itself does not return one.
		h.log.Warn("allowed a request the webhook failed on", "mode", h.mode, "uid", req.UID, "error", err.Error())
		return allowed
	}
	v, ok := resp.(*model.ValidatingAdmissionResponse)
	if !ok {
		return allowed
	}
	out := &admissionv1.AdmissionResponse{UID: req.UID, Allowed: v.Allowed, Warnings: v.Warnings}
	if !v.Allowed {
		out.Warnings = nil
		out.Result = &metav1.Status{
			Status:  metav1.StatusFailure,
			Code:    http.StatusForbidden,
			Reason:  metav1.StatusReasonForbidden,
			Message: v.Message,
		}
	}
	return out
}

// skipReason says why a request is allowed without judging, or "". The
// workload kinds and whether their UPDATEs are judged come from the one
// table, workload.Kinds; namespaces are read for the enforce preview.
func skipReason(req *requestIn) string {
	k, isWorkload := workload.LookupKind(req.Kind.Group, req.Kind.Kind)
	isNamespace := req.Kind.Group == "" && req.Kind.Kind == "Namespace"
	ephemeral := isEphemeralContainersUpdate(req)
	switch {
	case req.SubResource != "" && !ephemeral:
		return "subresource"
	case req.Operation != admissionv1.Create && req.Operation != admissionv1.Update:
		return "operation"
	case !isWorkload && !isNamespace:
		return "kind"
	case req.Operation == admissionv1.Update && isWorkload && !k.JudgedOnUpdate && !ephemeral:
		return "operation" // pods are judged when created; their images change only by recreation or ephemeral containers
	case !req.hasObject():
		return "undecodable"
	}
	return ""
}

// isEphemeralContainersUpdate reports whether req adds ephemeral containers
// to a Pod (`kubectl debug`): an UPDATE of the pods/ephemeralcontainers
// subresource, whose object is the whole Pod. It is judged like the Pod, as
// Pod Security Admission judges it: the images it brings in are new to the
// node, and the Pod's other containers were judged when it was created.
// (The Pod's UPDATE itself is not judged: its images do not change.)
func isEphemeralContainersUpdate(req *requestIn) bool {
	return req.SubResource == "ephemeralcontainers" && req.Operation == admissionv1.Update &&
		req.Kind.Group == "" && req.Kind.Kind == "Pod"
}

// requestTimeout honours the API server's ?timeout= (the webhook's
// timeoutSeconds), keeping a tenth of it to answer in.
func requestTimeout(req *http.Request) time.Duration {
	t := defaultTimeout
	if s := req.URL.Query().Get("timeout"); s != "" {
		if d, err := time.ParseDuration(s); err == nil && d > 0 {
			t = d
		}
	}
	return t - t/10
}

func writeReview(w http.ResponseWriter, resp *admissionv1.AdmissionResponse) {
	out := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: admissionv1.SchemeGroupVersion.String(), Kind: "AdmissionReview"},
		Response: resp,
	}
	data, err := json.Marshal(&out)
	if err != nil {
		httpError(w, http.StatusInternalServerError, "encoding the AdmissionReview response: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(data)
}

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, "tokenguard: "+msg+"\n")
}
