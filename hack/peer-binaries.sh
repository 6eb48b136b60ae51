#!/usr/bin/env bash
# Builds the peers of the side-by-side load test (test/load/peers.sh, issue
# #8): the Pod Security Admission webhook from hack/tools/psa and the OPA
# binary from hack/tools/opa, both from the Go module proxy (only Go is needed).
#
#   BIN=$(hack/peer-binaries.sh | tail -1)
#
# Like hack/e2e-binaries.sh, they go to a cache folder outside the checkout,
# so fresh clones on the same machine share them:
#
#   ${TOKENGUARD_PEERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tokenguard/peers}/<key>/
#
# where <key> names the PSA and OPA versions, the Go version and platform, and
# a hash of both tools modules' go.mod and go.sum. A binary already present is
# not rebuilt; a new one is written under a temporary name and moved into
# place. Concurrent runs wait for each other (flock, when available).
#
# Progress goes to stderr; stdout carries one line, the bin directory.
# A cold build (empty Go build cache) takes a few minutes; with the binaries
# cached it returns in well under a second.
#
# Environment: TOKENGUARD_PEERS_CACHE (cache root), GO (go command).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PSA_MOD="$ROOT/hack/tools/psa"
OPA_MOD="$ROOT/hack/tools/opa"

NAME=peer-binaries
# shellcheck source=lib/cached-build.sh
. "$ROOT/hack/lib/cached-build.sh"

PSA_VERSION=$(modversion "$PSA_MOD/go.mod" k8s.io/pod-security-admission)
OPA_VERSION=$(modversion "$OPA_MOD/go.mod" github.com/open-policy-agent/opa)
if [ -z "$PSA_VERSION" ] || [ -z "$OPA_VERSION" ]; then
	log "cannot read the pod-security-admission or opa version from hack/tools/{psa,opa}/go.mod"
	exit 1
fi

cache_init TOKENGUARD_PEERS_CACHE peers "psa-${PSA_VERSION}_opa-${OPA_VERSION}_${GOVERSION}_${GOOS}-${GOARCH}_$(modhash "$PSA_MOD" "$OPA_MOD")"
if all_present pod-security-webhook opa; then
	echo "$BIN"
	exit 0
fi
cache_lock

if [ -n "$(missing pod-security-webhook)" ]; then
	log "building the Pod Security Admission webhook $PSA_VERSION (cold build: a few minutes) ..."
	build "$PSA_MOD" "-s -w" pod-security-webhook=k8s.io/pod-security-admission/cmd/webhook
fi
if [ -n "$(missing opa)" ]; then
	log "building OPA $OPA_VERSION (cold build: a few minutes) ..."
	build "$OPA_MOD" "-s -w" opa=github.com/open-policy-agent/opa
fi

echo "$BIN"
