# tokenguard's add-on rules (pkg/policy/catalog.yaml, kind: addon) written for
# Open Policy Agent, as a user would write them: the OPA peer of the
# side-by-side load test (test/load/peers.sh, issue #8).
#
# The webhook endpoint is POST /v0/data/tokenguard/admission/review with the
# AdmissionReview itself as the body (OPA's v0 data API takes the raw body as
# input and returns the bare value, which is what kube-apiserver can send and
# read; the v1 API would need {"input": ...} around the body).
#
# Equivalence, and where it stops:
#   - image repositories match as in the catalog: the repository path (after
#     the registry host) equals the pattern or ends with "/" + pattern;
#   - the tag's version: a leading "v" dropped, build suffixes (-eksbuild.N,
#     -minimal, -distroless, -linux, -amd64, -arm64) stripped, the first three
#     numeric parts kept (aws-for-fluent-bit's 2.32.2.20241008 -> 2.32.2),
#     then semver.compare against the minimum;
#   - fluentd's minimum 1.14.6-1.2 is compared on 1.14.6 only; kube-proxy's
#     rule (within the control plane's skew) needs the cluster version and is
#     left out; images with a digest and no tag, or no version in the tag, pass.
# The decision is enforce-mode: denied with a message when an add-on is older
# than its minimum, allowed otherwise.
package tokenguard.admission

import rego.v1

rules := [
	{"id": "amazon-vpc-cni", "images": ["amazon-k8s-cni", "amazon-k8s-cni-init"], "minimum": "1.8.0"},
	{"id": "cni-metrics-helper", "images": ["cni-metrics-helper"], "minimum": "1.8.0"},
	{"id": "coredns", "images": ["eks/coredns", "coredns/coredns", "coredns"], "minimum": "1.8.4"},
	{"id": "aws-load-balancer-controller", "images": ["aws-load-balancer-controller", "amazon/aws-alb-ingress-controller", "coreos/alb-ingress-controller"], "minimum": "2.0.0"},
	{"id": "aws-for-fluent-bit", "images": ["aws-for-fluent-bit"], "minimum": "2.25.0"},
	{"id": "fluentd", "images": ["fluent/fluentd", "fluent/fluentd-kubernetes-daemonset", "library/fluentd"], "minimum": "1.14.6"},
]

pod_spec := input.request.object.spec if input.request.kind.kind == "Pod"

pod_spec := input.request.object.spec.template.spec if input.request.kind.kind in {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job"}

pod_spec := input.request.object.spec.jobTemplate.spec.template.spec if input.request.kind.kind == "CronJob"

containers contains c if some c in pod_spec.containers

containers contains c if some c in pod_spec.initContainers

containers contains c if some c in pod_spec.ephemeralContainers

# image_ref(image) splits an image reference into its repository path (no
# registry host) and tag ("" when none).
image_ref(image) := {"path": path, "tag": tag} if {
	name := split(image, "@")[0]
	parts := split(name, "/")
	last := parts[count(parts) - 1]
	tag := tag_of(last)
	repo_parts := array.concat(array.slice(parts, 0, count(parts) - 1), [split(last, ":")[0]])
	path := concat("/", strip_host(repo_parts))
}

tag_of(last) := split(last, ":")[1] if contains(last, ":")

tag_of(last) := "" if not contains(last, ":")

strip_host(parts) := array.slice(parts, 1, count(parts)) if {
	count(parts) > 1
	regex.match(`[.:]|^localhost$`, parts[0])
}

strip_host(parts) := parts if {
	count(parts) > 1
	not regex.match(`[.:]|^localhost$`, parts[0])
}

strip_host(parts) := ["library", parts[0]] if count(parts) == 1

matches(path, pattern) if path == pattern

matches(path, pattern) if endswith(path, concat("", ["/", pattern]))

# version(tag): a semver string from an image tag, or undefined.
version(tag) := v if {
	t := trim_prefix(tag, "v")
	stripped := regex.replace(t, `(-(eksbuild(\.[0-9]+)?|minimal|distroless|linux|amd64|arm64|linux_amd64|linux_arm64))+$`, "")
	found := regex.find_n(`^[0-9]+\.[0-9]+(\.[0-9]+)?`, stripped, 1)
	count(found) == 1
	v := three(found[0])
	semver.is_valid(v)
}

three(s) := s if count(split(s, ".")) == 3

three(s) := concat("", [s, ".0"]) if count(split(s, ".")) == 2

violations contains msg if {
	some c in containers
	ref := image_ref(c.image)
	some rule in rules
	some pattern in rule.images
	matches(ref.path, pattern)
	v := version(ref.tag)
	semver.compare(v, rule.minimum) < 0
	msg := sprintf("container %q: %s %s is older than %s, the first version that refreshes bound service-account tokens", [c.name, rule.id, ref.tag, rule.minimum])
}

response := {"uid": input.request.uid, "allowed": true} if count(violations) == 0

response := {
	"uid": input.request.uid,
	"allowed": false,
	"status": {"code": 403, "reason": "Forbidden", "message": concat("; ", sort(violations))},
} if count(violations) > 0

review := {
	"apiVersion": "admission.k8s.io/v1",
	"kind": "AdmissionReview",
	"response": response,
}
