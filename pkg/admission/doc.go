// Package admission is the validating webhook: it decodes AdmissionReviews,
// extracts pod specs, asks the engine for findings and applies the mode
// (enforce, warn, audit) — the only package that knows kubewebhook and HTTP.
package admission
