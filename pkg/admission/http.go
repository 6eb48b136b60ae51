package admission

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/slok/kubewebhook/v2/pkg/model"
	"github.com/slok/kubewebhook/v2/pkg/webhook"
	"github.com/slok/kubewebhook/v2/pkg/webhook/validating"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MaxRequestBytes caps an AdmissionReview body. The API server's own limit
// for an object is 3 MiB; a review holds the object twice on UPDATE, but a
// larger body than this is no review tokenguard should spend memory on.
const MaxRequestBytes = 3 << 20

// defaultTimeout applies when the API server sends no ?timeout=.
const defaultTimeout = 10 * time.Second

// Handler answers AdmissionReviews for one mode over HTTP. It is the one
// place that knows the wire format: kubewebhook's webhook layer does the
// object decoding and calls the validator; this file decodes the review,
// skips what must not be judged, and encodes the response (403 Forbidden
// for a denial, as Pod Security Admission does).
type Handler struct {
	mode    Mode
	webhook webhook.Webhook
	metrics *Metrics
	log     *slog.Logger
}

// NewHandler builds the handler of one mode on a kubewebhook validating
// webhook, measured by rec (kubewebhook's Prometheus recorder, or nil).
func NewHandler(mode Mode, r *Reviewer, rec webhook.MetricsRecorder) (*Handler, error) {
	wh, err := validating.NewWebhook(validating.WebhookConfig{
		ID:        "tokenguard-" + string(mode),
		Validator: r.Validator(mode),
	})
	if err != nil {
		return nil, err
	}
	if rec != nil {
		wh = webhook.NewMeasuredWebhook(rec, wh)
	}
	log := r.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{mode: mode, webhook: wh, metrics: r.Metrics, log: log}, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	start := time.Now()
	defer func() { h.metrics.observe(h.mode, time.Since(start).Seconds()) }()
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpError(w, http.StatusMethodNotAllowed, "tokenguard answers AdmissionReviews by POST")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, MaxRequestBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			httpError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("AdmissionReview larger than %d bytes", MaxRequestBytes))
			return
		}
		httpError(w, http.StatusBadRequest, "reading the request body: "+err.Error())
		return
	}
	review, msg := decodeReview(body)
	if msg != "" {
		h.log.Warn("rejected a malformed admission request", "mode", h.mode, "error", msg, "remote", req.RemoteAddr)
		httpError(w, http.StatusBadRequest, msg)
		return
	}
	ctx, cancel := context.WithTimeout(req.Context(), requestTimeout(req))
	defer cancel()
	writeReview(w, h.review(ctx, review))
}

// decodeReview reads an admission.k8s.io/v1 AdmissionReview; a non-empty
// string says what is wrong with it.
func decodeReview(body []byte) (*admissionv1.AdmissionReview, string) {
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil {
		return nil, "malformed AdmissionReview: " + err.Error()
	}
	if review.APIVersion != admissionv1.SchemeGroupVersion.String() || review.Kind != "AdmissionReview" {
		return nil, fmt.Sprintf("expected an admission.k8s.io/v1 AdmissionReview, got apiVersion %q kind %q (set admissionReviewVersions: [\"v1\"])", review.APIVersion, review.Kind)
	}
	if review.Request == nil {
		return nil, "AdmissionReview has no request"
	}
	if review.Request.UID == "" {
		return nil, "AdmissionReview request has no uid"
	}
	return &review, ""
}

// review decides one request: what must not be judged is allowed at once,
// the rest goes through kubewebhook to the validator.
func (h *Handler) review(ctx context.Context, review *admissionv1.AdmissionReview) *admissionv1.AdmissionResponse {
	req := review.Request
	allowed := &admissionv1.AdmissionResponse{UID: req.UID, Allowed: true}
	if reason := skipReason(req); reason != "" {
		h.metrics.skip(h.mode, reason)
		return allowed
	}
	resp, err := h.webhook.Review(ctx, model.NewAdmissionReviewV1(review))
	if err != nil {
		// The object could not be decoded: the API server has validated it
		// already, so this is a kind or version tokenguard cannot read.
		// Never an error (a 500 hands the decision to failurePolicy).
		h.metrics.skip(h.mode, "undecodable")
		h.log.Warn("allowed a request whose object could not be read", "mode", h.mode, "uid", req.UID,
			"kind", req.Kind.Kind, "namespace", req.Namespace, "name", req.Name, "error", err.Error())
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

// judgedKinds are the kinds tokenguard judges, by group.
var judgedKinds = map[string]map[string]bool{
	"":      {"Pod": true, "ReplicationController": true},
	"apps":  {"Deployment": true, "StatefulSet": true, "DaemonSet": true, "ReplicaSet": true},
	"batch": {"Job": true, "CronJob": true},
}

// skipReason says why a request is allowed without judging, or "".
func skipReason(req *admissionv1.AdmissionRequest) string {
	switch {
	case req.SubResource != "":
		return "subresource"
	case req.Operation != admissionv1.Create && req.Operation != admissionv1.Update:
		return "operation"
	case !judgedKinds[req.Kind.Group][req.Kind.Kind]:
		return "kind"
	case req.Operation == admissionv1.Update && req.Kind.Group == "" && req.Kind.Kind == "Pod":
		return "operation" // pods are judged when created; their images change only by recreation or ephemeral containers
	case len(req.Object.Raw) == 0:
		return "undecodable"
	}
	return ""
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
