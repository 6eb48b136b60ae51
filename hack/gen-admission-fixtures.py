#!/usr/bin/env python3
"""Writes the AdmissionReview request fixtures of test/testdata/admission/requests.

The requests look like what kube-apiserver sends a validating webhook after
mutating admission (pods carry the kube-api-access projected volume). Run it
from the repository root; review the diff.
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
