# tokenguard's add-on rules (pkg/policy/catalog.yaml, kind: addon) written for
# Open Policy Agent, as an experienced Rego author would write them: the OPA
# peer of the side-by-side load test (test/load/peers.sh, issue #8).
#
# The webhook endpoint is POST /v0/data/tokenguard/admission/review with the
# AdmissionReview itself as the body (OPA's v0 data API takes the raw body as
# input and returns the bare value, which is what kube-apiserver can send and
# read; the v1 API would need {"input": ...} around the body).
#
# Equivalence, and where it stops:
#   - the images of a Pod's containers, init and ephemeral containers, or of
#     the pod template of a Deployment, ReplicaSet, StatefulSet, DaemonSet,
#     Job, ReplicationController or CronJob;
#   - image repositories match as in the catalog: the repository path (after
#     the registry host, the first component when it contains "." or ":" or
#     is "localhost") equals the pattern or ends with "/" + pattern; Docker
#     Hub official images are normalised first ("fluentd" and
#     "docker.io/fluentd" are library/fluentd);
#   - the tag's version: after an optional leading "v", the two or three
#     numeric parts it starts with, anything after them ignored (build and
#     flavour suffixes such as -eksbuild.1 or -debian-cloudwatch-1.1,
#     aws-for-fluent-bit's fourth part: 2.32.2.20241008 -> 2.32.2), a missing
#     patch read as 0 (v1.9 -> 1.9.0), then semver.compare against the
#     minimum; parts with leading zeros are not semver and pass;
#   - fluentd's minimum 1.14.6-1.2 is compared on 1.14.6 only; kube-proxy's
#     rule (within the control plane's skew) needs the cluster version and is
#     left out; images with a digest and no tag, or no version at the start
#     of the tag, pass. tokenguard's finer tag schemes (prereleases below
#     their release, partial versions as ranges, unknown suffixes) are not
#     modelled.
# The decision is enforce-mode: denied with a message when an add-on is older
# than its minimum, allowed otherwise.
#
# Cost (issue #8 compares it with tokenguard's): one pass over the containers;
# per image two splits and one object lookup on the last component of its
# repository path (no two rules share one); the version read only for add-on
# images, by at most two anchored regexes; the rest of the repository path
# checked and the message built only when the version is below the minimum.
package tokenguard.admission

import rego.v1

# The add-on rules by the last component of their image patterns. "parents":
# the component before it, for the patterns of two components; without it any
# repository path ending in that component matches.
addons := {
	"amazon-k8s-cni": {"id": "amazon-vpc-cni", "minimum": "1.8.0"},
	"amazon-k8s-cni-init": {"id": "amazon-vpc-cni", "minimum": "1.8.0"},
	"cni-metrics-helper": {"id": "cni-metrics-helper", "minimum": "1.8.0"},
	# eks/coredns, coredns/coredns and coredns: "coredns" covers the others
	"coredns": {"id": "coredns", "minimum": "1.8.4"},
	"aws-load-balancer-controller": {"id": "aws-load-balancer-controller", "minimum": "2.0.0"},
	"aws-alb-ingress-controller": {"id": "aws-load-balancer-controller", "minimum": "2.0.0", "parents": {"amazon"}},
	"alb-ingress-controller": {"id": "aws-load-balancer-controller", "minimum": "2.0.0", "parents": {"coreos"}},
	"aws-for-fluent-bit": {"id": "aws-for-fluent-bit", "minimum": "2.25.0"},
	"fluentd": {"id": "fluentd", "minimum": "1.14.6", "parents": {"fluent", "library"}},
	"fluentd-kubernetes-daemonset": {"id": "fluentd", "minimum": "1.14.6", "parents": {"fluent"}},
}

pod_spec := input.request.object.spec if input.request.kind.kind == "Pod"

pod_spec := input.request.object.spec.template.spec if {
	input.request.kind.kind in {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "ReplicationController"}
}

pod_spec := input.request.object.spec.jobTemplate.spec.template.spec if input.request.kind.kind == "CronJob"

violations contains msg if {
	table := addons # bound once: a lookup in a local is cheaper than in a rule
	some list in ["containers", "initContainers", "ephemeralContainers"]
	some c in pod_spec[list]

	# "host/path/name:tag@digest": the last component is name[:tag][@digest].
	# A digest with no tag leaves "name@sha256" as the name, which is no
	# add-on: it passes. A digest after a tag stays in name_tag[1], where
	# only the version at its start is read.
	parts := split(c.image, "/")
	name_tag := split(parts[count(parts) - 1], ":")
	addon := table[name_tag[0]]
	version := semver_of(name_tag[1])
	semver.is_valid(version)
	semver.compare(version, addon.minimum) < 0
	repository_matches(addon, parts) # after the version: true for nearly every image that gets here

	tag := split(name_tag[1], "@")[0]
	msg := sprintf("container %q: %s %s is older than %s, the first version that refreshes bound service-account tokens", [c.name, addon.id, tag, addon.minimum])
}

# semver_of(tag): after an optional "v", the three numeric parts the tag
# starts with, or its two with a ".0" patch; undefined when it starts with
# neither.
semver_of(tag) := v if {
	v := trim_prefix(regex.find_n(`^v?[0-9]+\.[0-9]+\.[0-9]+`, tag, 1)[0], "v")
} else := v if {
	v := concat("", [trim_prefix(regex.find_n(`^v?[0-9]+\.[0-9]+`, tag, 1)[0], "v"), ".0"])
}

# repository_matches(addon, parts): the repository path of the image split at
# "/" (parts) ends with one of the add-on's patterns; its last component is
# known to match. A registry host never equals a parent (no "." or ":").
repository_matches(addon, _) if not addon.parents

repository_matches(addon, parts) if addon.parents[parts[count(parts) - 2]]

repository_matches(addon, parts) if {
	addon.parents.library
	count(parts) == 1
}

repository_matches(addon, parts) if {
	addon.parents.library
	count(parts) == 2
	lower(parts[0]) in {"docker.io", "index.docker.io", "registry-1.docker.io"}
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
