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

GO=${GO:-go}
if ! command -v "$GO" >/dev/null 2>&1; then
	if [ -x /usr/local/go/bin/go ]; then
		GO=/usr/local/go/bin/go
	else
		echo "peer-binaries: no Go toolchain found (set GO= or put go on PATH)" >&2
		exit 1
	fi
fi

log() { echo "peer-binaries: $*" >&2; }

# modversion GOMOD MODULE: the version a go.mod requires MODULE at.
modversion() {
	awk -v m="$2" '
		$1 == "require" && $2 == m { print $3; exit }
		$1 == m && $2 ~ /^v/ { print $2; exit }
	' "$1"
}

PSA_VERSION=$(modversion "$PSA_MOD/go.mod" k8s.io/pod-security-admission)
OPA_VERSION=$(modversion "$OPA_MOD/go.mod" github.com/open-policy-agent/opa)
if [ -z "$PSA_VERSION" ] || [ -z "$OPA_VERSION" ]; then
	log "cannot read the pod-security-admission or opa version from hack/tools/{psa,opa}/go.mod"
	exit 1
fi

export CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off
GOVERSION=$("$GO" env GOVERSION)
GOOS=$("$GO" env GOOS)
GOARCH=$("$GO" env GOARCH)

if command -v sha256sum >/dev/null 2>&1; then
	sha() { sha256sum | cut -c1-12; }
else
	sha() { shasum -a 256 | cut -c1-12; }
fi
HASH=$(cat "$PSA_MOD/go.mod" "$PSA_MOD/go.sum" "$OPA_MOD/go.mod" "$OPA_MOD/go.sum" | sha)
KEY="psa-${PSA_VERSION}_opa-${OPA_VERSION}_${GOVERSION}_${GOOS}-${GOARCH}_${HASH}"

if [ -n "${TOKENGUARD_PEERS_CACHE:-}" ]; then
	CACHE=$TOKENGUARD_PEERS_CACHE
elif [ -n "${XDG_CACHE_HOME:-}" ]; then
	CACHE=$XDG_CACHE_HOME/tokenguard/peers
elif [ -n "${HOME:-}" ]; then
	CACHE=$HOME/.cache/tokenguard/peers
else
	CACHE=${TMPDIR:-/tmp}/tokenguard-peers-$(id -u)
fi
BIN=$CACHE/$KEY
mkdir -p "$BIN"
BIN=$(cd "$BIN" && pwd)

missing() {
	local b out=()
	for b in "$@"; do [ -x "$BIN/$b" ] || out+=("$b"); done
	echo "${out[@]+"${out[@]}"}"
}

if [ -z "$(missing pod-security-webhook opa)" ]; then
	echo "$BIN"
	exit 0
fi

if command -v flock >/dev/null 2>&1; then
	exec 9>"$BIN/.lock"
	if ! flock -n 9; then
		log "another build into $BIN is running; waiting for it"
		flock 9
	fi
fi

TMP=$(mktemp -d "$BIN/.build.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# build MODULE_DIR NAME PACKAGE [LDFLAGS]: one go build, moved into place.
build() {
	local dir=$1 name=$2 pkg=$3 ldflags=${4:-"-s -w"} start=$SECONDS
	(cd "$dir" && "$GO" build -trimpath -ldflags "$ldflags" -o "$TMP/$name" "$pkg") >&2
	mv -f "$TMP/$name" "$BIN/$name"
	log "built $name in $((SECONDS - start))s"
}

if [ -n "$(missing pod-security-webhook)" ]; then
	log "building the Pod Security Admission webhook $PSA_VERSION (cold build: a few minutes) ..."
	build "$PSA_MOD" pod-security-webhook k8s.io/pod-security-admission/cmd/webhook
fi
if [ -n "$(missing opa)" ]; then
	log "building OPA $OPA_VERSION (cold build: a few minutes) ..."
	build "$OPA_MOD" opa github.com/open-policy-agent/opa
fi

echo "$BIN"
