#!/usr/bin/env bash
# Builds the control-plane binaries for the end-to-end tests (test/e2e/...):
# kube-apiserver and kube-controller-manager from hack/tools/k8s, etcd from
# hack/tools/etcd, all from the Go module proxy (only Go is needed).
#
#   BIN=$(hack/e2e-binaries.sh | tail -1)
#
# They go to a cache folder outside the checkout, so fresh clones on the same
# machine share them:
#
#   ${TOKENGUARD_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tokenguard/e2e}/<key>/
#
# where <key> names the Kubernetes and etcd versions, the Go version and
# platform, and a hash of both tools modules' go.mod and go.sum. A binary
# already present is not rebuilt; a new one is written under a temporary name
# and moved into place, so an interrupted build leaves nothing half-written.
# Concurrent runs wait for each other (flock, when available).
#
# Progress goes to stderr; stdout carries one line, the bin directory.
# A cold build (empty Go build cache) takes several minutes and ~2.5 GB of
# memory (the linker); with the binaries cached it returns in well under a
# second.
#
# Environment: TOKENGUARD_E2E_CACHE (cache root), GO (go command).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
K8S_MOD="$ROOT/hack/tools/k8s"
ETCD_MOD="$ROOT/hack/tools/etcd"

NAME=e2e-binaries
# shellcheck source=lib/cached-build.sh
. "$ROOT/hack/lib/cached-build.sh"

K8S_VERSION=$(modversion "$K8S_MOD/go.mod" k8s.io/kubernetes)
ETCD_VERSION=$(modversion "$ETCD_MOD/go.mod" go.etcd.io/etcd/server/v3)
if [ -z "$K8S_VERSION" ] || [ -z "$ETCD_VERSION" ]; then
	log "cannot read the k8s.io/kubernetes or etcd server version from hack/tools/*/go.mod"
	exit 1
fi
K8S_MAJOR=$(echo "$K8S_VERSION" | sed -E 's/^v([0-9]+)\..*/\1/')
K8S_MINOR=$(echo "$K8S_VERSION" | sed -E 's/^v[0-9]+\.([0-9]+)\..*/\1/')

cache_init TOKENGUARD_E2E_CACHE e2e "k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_${GOVERSION}_${GOOS}-${GOARCH}_$(modhash "$K8S_MOD" "$ETCD_MOD")"
if all_present kube-apiserver kube-controller-manager etcd; then
	echo "$BIN"
	exit 0
fi
cache_lock

if [ -n "$(missing etcd)" ]; then
	log "building etcd $ETCD_VERSION (cold build: about a minute) ..."
	build "$ETCD_MOD" "-s -w" "etcd=go.etcd.io/etcd/server/v3"
fi

read -r -a k8s_missing <<<"$(missing kube-apiserver kube-controller-manager)"
if [ "${#k8s_missing[@]}" -gt 0 ]; then
	specs=()
	for n in "${k8s_missing[@]}"; do
		log "building $n $K8S_VERSION (cold build: several minutes) ..."
		specs+=("$n=k8s.io/kubernetes/cmd/$n")
	done
	build "$K8S_MOD" "-s -w \
-X k8s.io/component-base/version.gitVersion=$K8S_VERSION \
-X k8s.io/component-base/version.gitMajor=$K8S_MAJOR \
-X k8s.io/component-base/version.gitMinor=$K8S_MINOR \
-X k8s.io/component-base/version.gitTreeState=clean" "${specs[@]}"
fi

echo "$BIN"
