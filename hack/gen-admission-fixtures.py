#!/usr/bin/env python3
"""Writes the AdmissionReview request fixtures of test/testdata/admission/requests
and the load-test fixtures of test/load/fixtures.

The requests look like what kube-apiserver sends a validating webhook after
mutating admission (pods carry the kube-api-access projected volume); the
load-test ones are byte for byte what it sends (compact, Go field order). Run
it from the repository root; review the diff.
"""
import copy, json, os

OUT = "test/testdata/admission/requests"
CNI_OLD = "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.7.5-eksbuild.1"
CNI_NEW = "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.18.3-eksbuild.1"
DNS_OLD = "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.8.3-eksbuild.1"
DNS_NEW = "registry.k8s.io/coredns/coredns:v1.11.1"
APP = "ghcr.io/acme/orders:1.4.2"

def api_access(containers):
    for c in containers:
        c.setdefault("volumeMounts", []).append({"name": "kube-api-access-x7k2p", "readOnly": True,
            "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"})
    return [{"name": "kube-api-access-x7k2p", "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}]}}]

def containers(*images):
    return [{"name": n, "image": i, "imagePullPolicy": "IfNotPresent",
             "resources": {"requests": {"cpu": "25m", "memory": "64Mi"}}} for n, i in images]

def pod_spec(images, admitted=True, **extra):
    spec = {"serviceAccountName": extra.pop("sa", "default"), "containers": containers(*images),
            "restartPolicy": extra.pop("restartPolicy", "Always"), "dnsPolicy": "ClusterFirst"}
    if admitted and extra.get("automountServiceAccountToken") is not False:
        spec["volumes"] = api_access(spec["containers"])
    spec.update(extra)
    return spec

def pod(name, ns, images, **extra):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": {"app": name}},
            "spec": pod_spec(images, **extra)}

def template(images, **extra):
    return {"metadata": {"labels": {"app": "x"}}, "spec": pod_spec(images, admitted=False, **extra)}

def deployment(name, ns, images, labels=None):
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns, "labels": labels or {"app": name}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "x"}}, "template": template(images)}}

GVK = {"Pod": ("", "v1", "pods"), "Deployment": ("apps", "v1", "deployments"), "DaemonSet": ("apps", "v1", "daemonsets"),
       "StatefulSet": ("apps", "v1", "statefulsets"), "ReplicaSet": ("apps", "v1", "replicasets"),
       "ReplicationController": ("", "v1", "replicationcontrollers"), "Job": ("batch", "v1", "jobs"),
       "CronJob": ("batch", "v1", "cronjobs"), "ConfigMap": ("", "v1", "configmaps"), "Scale": ("autoscaling", "v1", "scale")}

n = 0
def review(name, obj, op="CREATE", old=None, dry=False, sub="", kind=None):
    global n
    n += 1
    k = kind or obj["kind"]
    g, v, r = GVK[k]
    _, _, res = GVK[obj["kind"]] if obj and obj.get("kind") in GVK and k != "Scale" else (g, v, r)
    if k == "Scale":
        res = "deployments"
    req = {"uid": "00000000-0000-4000-8000-%012d" % n,
           "kind": {"group": g, "version": v, "kind": k},
           "resource": {"group": "apps" if k == "Scale" else g, "version": "v1", "resource": res},
           "requestKind": {"group": g, "version": v, "kind": k},
           "requestResource": {"group": "apps" if k == "Scale" else g, "version": "v1", "resource": res},
           "name": obj["metadata"]["name"], "namespace": obj["metadata"]["namespace"], "operation": op,
           "userInfo": {"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]},
           "object": obj if op != "DELETE" else None, "oldObject": old, "dryRun": dry,
           "options": {"apiVersion": "meta.k8s.io/v1", "kind": {"CREATE": "CreateOptions", "UPDATE": "UpdateOptions", "DELETE": "DeleteOptions"}[op]}}
    if sub:
        req["subResource"] = sub
        req["requestSubResource"] = sub
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req}, f, indent=2)
        f.write("\n")

os.makedirs(OUT, exist_ok=True)
review("pod-addon-too-old", pod("aws-node-abcde", "kube-system", [("aws-node", CNI_OLD)], sa="aws-node"))
review("pod-addon-ok", pod("aws-node-fghij", "kube-system", [("aws-node", CNI_NEW)], sa="aws-node"))
review("pod-two-too-old", pod("mixed", "prod", [("coredns", DNS_OLD), ("app", APP), ("aws-node", CNI_OLD)]))
review("pod-unknown", pod("orders-7d9f", "prod", [("orders", APP)], sa="orders"))
review("pod-no-token", pod("static", "prod", [("web", APP)], automountServiceAccountToken=False))
review("pod-dry-run-too-old", pod("dns-test", "prod", [("coredns", DNS_OLD)]), dry=True)
review("pod-long-token", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "vault", "namespace": "prod"},
    "spec": {"automountServiceAccountToken": False, "containers": [{"name": "agent", "image": DNS_NEW,
        "volumeMounts": [{"name": "vault-token", "mountPath": "/var/run/secrets/vault"}]}],
        "volumes": [{"name": "vault-token", "projected": {"sources": [{"serviceAccountToken": {"path": "token", "expirationSeconds": 31536000}}]}}]}})
review("pod-exempt-namespace", pod("old-cni", "legacy-batch", [("aws-node", CNI_OLD)]))
review("pod-exempt-image", pod("old-tool", "prod", [("tool", "registry.example.com/legacy/coredns:1.6.7")]))
review("pod-delete", pod("aws-node-abcde", "kube-system", [("aws-node", CNI_OLD)]), op="DELETE",
       old=pod("aws-node-abcde", "kube-system", [("aws-node", CNI_OLD)]))
review("pod-update", pod("aws-node-abcde", "kube-system", [("aws-node", CNI_OLD)]), op="UPDATE",
       old=pod("aws-node-abcde", "kube-system", [("aws-node", CNI_NEW)]))
review("deployment-too-old", deployment("coredns", "kube-system", [("coredns", DNS_OLD)]))
review("deployment-ok", deployment("coredns", "kube-system", [("coredns", DNS_NEW)]))
review("deployment-update-same-images", deployment("coredns", "kube-system", [("coredns", DNS_OLD)], labels={"app": "coredns", "team": "dns"}),
       op="UPDATE", old=deployment("coredns", "kube-system", [("coredns", DNS_OLD)]))
review("deployment-update-new-image", deployment("coredns", "kube-system", [("coredns", DNS_OLD)]),
       op="UPDATE", old=deployment("coredns", "kube-system", [("coredns", DNS_NEW)]))
review("deployment-scale", {"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "coredns", "namespace": "kube-system"},
       "spec": {"replicas": 5}}, op="UPDATE", old={"apiVersion": "autoscaling/v1", "kind": "Scale",
       "metadata": {"name": "coredns", "namespace": "kube-system"}, "spec": {"replicas": 2}}, sub="scale", kind="Scale")
ds = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "fluent-bit", "namespace": "amazon-cloudwatch"},
      "spec": {"selector": {"matchLabels": {"app": "x"}}, "template": template([("fluent-bit", "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.23.4")])}}
review("daemonset-too-old", ds)
sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "ledger", "namespace": "prod"},
       "spec": {"serviceName": "ledger", "selector": {"matchLabels": {"app": "x"}}, "template": template([("ledger", APP)])}}
review("statefulset-unknown", sts)
cj = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "rotate", "namespace": "logging"},
      "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": template([("fluentd", "fluent/fluentd-kubernetes-daemonset:v1.14.6-debian-cloudwatch-1.1")], restartPolicy="Never")}}}}
review("cronjob-too-old", cj)
job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate", "namespace": "prod"},
       "spec": {"template": template([("proxy", "registry.k8s.io/kube-proxy:v1.29.3")], restartPolicy="Never")}}
review("job-kube-proxy", job)
rc = {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "legacy-dns", "namespace": "legacy"},
      "spec": {"replicas": 1, "template": template([("dns", "k8s.gcr.io/coredns:1.6.7")])}}
review("replicationcontroller-too-old", rc)
rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "coredns-5d78c9869d", "namespace": "kube-system"},
      "spec": {"selector": {"matchLabels": {"app": "x"}}, "template": template([("coredns", DNS_NEW)])}}
review("replicaset-ok", rs)
review("configmap", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "prod"}, "data": {"a": "b"}})
bad = pod("broken", "prod", [("x", APP)])
bad["spec"]["containers"] = "not-a-list"
review("pod-undecodable", bad)

# --------------------------------------------------------------------------
# The load-test fixtures of test/load/fixtures: AdmissionReviews exactly as
# kube-apiserver sends them (compact JSON, fields in the order of the Go types,
# defaults filled in), sent as they are to every server of the load test.
# test/load/fixtures_test.go checks that encoding/json gives the same bytes.

LOAD = "test/load/fixtures"
KUBE_API_ACCESS_MOUNT = {"name": "kube-api-access-7xk2p", "readOnly": True,
                         "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}
TERMINATION = {"terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
               "imagePullPolicy": "IfNotPresent"}

def write_load(name, review):
    # json.Marshal's encoding: compact, "<", ">" and "&" escaped.
    s = json.dumps(review, separators=(",", ":"))
    s = s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    with open(os.path.join(LOAD, name), "w") as f:
        f.write(s + "\n")

def load_review(uid, gvk, resource, namespace, user, obj, name=None, field_manager=None):
    group, version, kind = gvk
    req = {"uid": uid,
           "kind": {"group": group, "version": version, "kind": kind},
           "resource": {"group": group, "version": version, "resource": resource},
           "requestKind": {"group": group, "version": version, "kind": kind},
           "requestResource": {"group": group, "version": version, "resource": resource}}
    if name:
        req["name"] = name
    req.update({"namespace": namespace, "operation": "CREATE", "userInfo": user, "object": obj,
                "oldObject": None, "dryRun": False,
                "options": {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"}})
    if field_manager:
        req["options"]["fieldManager"] = field_manager
    return {"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1", "request": req}

def restricted(container, add=None):
    """The container securityContext PSA "restricted" asks for."""
    caps = {"add": add, "drop": ["ALL"]} if add else {"drop": ["ALL"]}
    return dict(container, securityContext={"capabilities": caps, "allowPrivilegeEscalation": False})

def node_agents_pod(uid, pod_name, pod_uid, cni_image, secure):
    """A ReplicaSet's pod in kube-system with three add-on containers (VPC CNI,
    CoreDNS, AWS for Fluent Bit), after mutating admission (kube-api-access
    volume, defaults, priority). secure: the securityContext of PSA
    "restricted" (pod: a non-root user, runAsNonRoot, seccomp RuntimeDefault;
    containers: no privilege escalation, all capabilities dropped, CoreDNS
    keeping NET_BIND_SERVICE for port 53); without it PSA restricted denies
    the pod."""
    rs, rs_uid = "node-agents-5f7c9d8b64", "0d9e8f7a-6b5c-4d3e-2f1a-0b9c8d7e6f5a"
    aws_node = {"name": "aws-node", "image": cni_image,
                "env": [{"name": "AWS_VPC_K8S_CNI_LOGLEVEL", "value": "DEBUG"},
                        {"name": "MY_NODE_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}}],
                "resources": {"requests": {"cpu": "25m"}}, "volumeMounts": [KUBE_API_ACCESS_MOUNT], **TERMINATION}
    coredns = {"name": "coredns", "image": DNS_NEW, "args": ["-conf", "/etc/coredns/Corefile"],
               "ports": [{"name": "dns", "containerPort": 53, "protocol": "UDP"}],
               "resources": {"limits": {"memory": "170Mi"}, "requests": {"cpu": "100m", "memory": "70Mi"}},
               "volumeMounts": [KUBE_API_ACCESS_MOUNT],
               "livenessProbe": {"httpGet": {"path": "/health", "port": 8080, "scheme": "HTTP"}, "initialDelaySeconds": 60,
                                 "timeoutSeconds": 5, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 5},
               **TERMINATION}
    fluent_bit = {"name": "fluent-bit", "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.2.20241008",
                  "env": [{"name": "AWS_REGION", "value": "us-west-2"},
                          {"name": "HOST_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}}],
                  "resources": {}, "volumeMounts": [KUBE_API_ACCESS_MOUNT], **TERMINATION}
    pod_security = {}
    if secure:
        aws_node, coredns, fluent_bit = restricted(aws_node), restricted(coredns, ["NET_BIND_SERVICE"]), restricted(fluent_bit)
        pod_security = {"runAsUser": 65532, "runAsGroup": 65532, "runAsNonRoot": True,
                        "seccompProfile": {"type": "RuntimeDefault"}}
    # managedFields name a few of the fields only (the securityContext not),
    # which keeps the review near the 4.4 KB of issue #8's reference figures.
    managed_spec = {"f:containers": {'k:{"name":"aws-node"}': {".": {}, "f:env": {}, "f:image": {}, "f:name": {}},
                                     'k:{"name":"coredns"}': {".": {}, "f:args": {}, "f:image": {}, "f:name": {}},
                                     'k:{"name":"fluent-bit"}': {".": {}, "f:image": {}, "f:name": {}}},
                    "f:dnsPolicy": {}, "f:restartPolicy": {}, "f:serviceAccountName": {}, "f:tolerations": {}}
    metadata = {"name": pod_name, "generateName": rs + "-", "namespace": "kube-system", "uid": pod_uid,
                "creationTimestamp": "2026-11-26T09:14:03Z", "labels": {"app": "node-agents", "pod-template-hash": "5f7c9d8b64"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs, "uid": rs_uid,
                                     "controller": True, "blockOwnerDeletion": True}],
                "managedFields": [{"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
                                   "time": "2026-11-26T09:14:03Z", "fieldsType": "FieldsV1", "fieldsV1": {
                                       "f:metadata": {"f:generateName": {}, "f:labels": {".": {}, "f:app": {}, "f:pod-template-hash": {}},
                                                      "f:ownerReferences": {".": {}, 'k:{"uid":"%s"}' % rs_uid: {}}},
                                       "f:spec": managed_spec}}]}
    spec = {"volumes": [{"name": "kube-api-access-7xk2p", "projected": {"sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}],
                "defaultMode": 420}}],
            "containers": [aws_node, coredns, fluent_bit],
            "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "node-agents", "serviceAccount": "node-agents", "securityContext": pod_security,
            "schedulerName": "default-scheduler",
            "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}],
            "priorityClassName": "system-node-critical", "priority": 2000001000, "enableServiceLinks": True,
            "preemptionPolicy": "PreemptLowerPriority"}
    pod = {"kind": "Pod", "apiVersion": "v1", "metadata": metadata, "spec": spec,
           "status": {"phase": "Pending", "qosClass": "Burstable"}}
    user = {"username": "system:serviceaccount:kube-system:replicaset-controller", "uid": "3f1d2c4b-8a7e-4b6d-9c05-1e2f3a4b5c6d",
            "groups": ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"]}
    return load_review(uid, ("", "v1", "Pod"), "pods", "kube-system", user, pod)

def coredns_deployment(uid, obj_uid, image):
    """kubectl create of a CoreDNS Deployment with a config-reloader sidecar."""
    coredns = {"name": "coredns", "image": image, "args": ["-conf", "/etc/coredns/Corefile"],
               "ports": [{"name": "dns", "containerPort": 53, "protocol": "UDP"},
                         {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
                         {"name": "metrics", "containerPort": 9153, "protocol": "TCP"}],
               "resources": {"limits": {"memory": "170Mi"}, "requests": {"cpu": "100m", "memory": "70Mi"}},
               "volumeMounts": [{"name": "config-volume", "readOnly": True, "mountPath": "/etc/coredns"}],
               "livenessProbe": {"httpGet": {"path": "/health", "port": 8080, "scheme": "HTTP"}, "initialDelaySeconds": 60,
                                 "timeoutSeconds": 5, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 5},
               "readinessProbe": {"httpGet": {"path": "/ready", "port": 8181, "scheme": "HTTP"}, "timeoutSeconds": 1,
                                  "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3},
               **TERMINATION,
               "securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
                                   "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False}}
    reloader = {"name": "config-reloader", "image": "ghcr.io/stakater/reloader:v1.0.121",
                "env": [{"name": "KUBERNETES_NAMESPACE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}}],
                "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}}, **TERMINATION}
    labels = {"k8s-app": "kube-dns"}
    m_labels = {"f:labels": {".": {}, "f:k8s-app": {}}}
    managed = {"manager": "kubectl-create", "operation": "Update", "apiVersion": "apps/v1", "time": "2026-11-26T09:20:41Z",
               "fieldsType": "FieldsV1", "fieldsV1": {
                   "f:metadata": m_labels,
                   "f:spec": {"f:replicas": {}, "f:selector": {},
                              "f:strategy": {"f:rollingUpdate": {".": {}, "f:maxSurge": {}, "f:maxUnavailable": {}}, "f:type": {}},
                              "f:template": {"f:metadata": m_labels, "f:spec": {
                                  "f:containers": {'k:{"name":"config-reloader"}': {".": {}, "f:image": {}, "f:name": {}},
                                                   'k:{"name":"coredns"}': {".": {}, "f:args": {}, "f:image": {}, "f:name": {}}},
                                  "f:serviceAccountName": {}, "f:volumes": {}}}}}}
    deploy = {"kind": "Deployment", "apiVersion": "apps/v1",
              "metadata": {"name": "coredns", "namespace": "kube-system", "uid": obj_uid, "generation": 1,
                           "creationTimestamp": "2026-11-26T09:20:41Z", "labels": labels, "managedFields": [managed]},
              "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                       "template": {"metadata": {"labels": labels}, "spec": {
                           "volumes": [{"name": "config-volume", "configMap": {"name": "coredns",
                                        "items": [{"key": "Corefile", "path": "Corefile"}], "defaultMode": 420}}],
                           "containers": [coredns, reloader],
                           "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "Default",
                           "serviceAccountName": "coredns", "serviceAccount": "coredns", "securityContext": {},
                           "schedulerName": "default-scheduler",
                           "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"},
                                           {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}],
                           "priorityClassName": "system-cluster-critical"}},
                       "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"}},
                       "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600},
              "status": {}}
    user = {"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]}
    return load_review(uid, ("apps", "v1", "Deployment"), "deployments", "kube-system", user, deploy,
                       name="coredns", field_manager="kubectl-create")

os.makedirs(LOAD, exist_ok=True)
# pod-3c-allowed passes tokenguard and PSA restricted; pod-3c-denied (an old
# VPC CNI, no securityContext) is denied by both.
write_load("pod-3c-allowed.json", node_agents_pod("6b0f6a3e-7c2d-4f1a-9e58-2d4c1b7a9e01", "node-agents-5f7c9d8b64-x2k9q",
           "c41e8a27-5b3f-4d9e-8f12-7a6b5c4d3e2f", CNI_NEW, secure=True))
write_load("pod-3c-denied.json", node_agents_pod("9e2d4c8a-1f3b-4a6e-b7d0-5c8f2a1e3d02", "node-agents-5f7c9d8b64-m7w4t",
           "e83b1f6d-2a9c-4e7b-a0d5-4f3e2d1c0b9a", CNI_OLD, secure=False))
write_load("deployment-allowed.json", coredns_deployment("2a7c5e91-8d3f-4b0e-9a16-7f4e3d2c1b03",
           "5d4c3b2a-1e0f-4a9b-8c7d-6e5f4a3b2c1d", DNS_NEW))
write_load("deployment-denied.json", coredns_deployment("f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a04",
           "7a6b5c4d-3e2f-4a1b-9c0d-8e7f6a5b4c3d", DNS_OLD))
