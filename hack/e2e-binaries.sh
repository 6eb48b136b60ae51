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

GO=${GO:-go}
if ! command -v "$GO" >/dev/null 2>&1; then
	if [ -x /usr/local/go/bin/go ]; then
		GO=/usr/local/go/bin/go
	else
		echo "e2e-binaries: no Go toolchain found (set GO= or put go on PATH)" >&2
		exit 1
	fi
fi

log() { echo "e2e-binaries: $*" >&2; }

# modversion GOMOD MODULE: the version a go.mod requires MODULE at.
modversion() {
	awk -v m="$2" '
		$1 == "require" && $2 == m { print $3; exit }
		$1 == m && $2 ~ /^v/ { print $2; exit }
	' "$1"
}

K8S_VERSION=$(modversion "$K8S_MOD/go.mod" k8s.io/kubernetes)
ETCD_VERSION=$(modversion "$ETCD_MOD/go.mod" go.etcd.io/etcd/server/v3)
if [ -z "$K8S_VERSION" ] || [ -z "$ETCD_VERSION" ]; then
	log "cannot read the k8s.io/kubernetes or etcd server version from hack/tools/*/go.mod"
	exit 1
fi
K8S_MAJOR=$(echo "$K8S_VERSION" | sed -E 's/^v([0-9]+)\..*/\1/')
K8S_MINOR=$(echo "$K8S_VERSION" | sed -E 's/^v[0-9]+\.([0-9]+)\..*/\1/')

export CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off
GOVERSION=$("$GO" env GOVERSION)
GOOS=$("$GO" env GOOS)
GOARCH=$("$GO" env GOARCH)

if command -v sha256sum >/dev/null 2>&1; then
	sha() { sha256sum | cut -c1-12; }
else
	sha() { shasum -a 256 | cut -c1-12; }
fi
HASH=$(cat "$K8S_MOD/go.mod" "$K8S_MOD/go.sum" "$ETCD_MOD/go.mod" "$ETCD_MOD/go.sum" | sha)
KEY="k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_${GOVERSION}_${GOOS}-${GOARCH}_${HASH}"

if [ -n "${TOKENGUARD_E2E_CACHE:-}" ]; then
	CACHE=$TOKENGUARD_E2E_CACHE
elif [ -n "${XDG_CACHE_HOME:-}" ]; then
	CACHE=$XDG_CACHE_HOME/tokenguard/e2e
elif [ -n "${HOME:-}" ]; then
	CACHE=$HOME/.cache/tokenguard/e2e
else
	CACHE=${TMPDIR:-/tmp}/tokenguard-e2e-$(id -u)
fi
BIN=$CACHE/$KEY
mkdir -p "$BIN"
BIN=$(cd "$BIN" && pwd)

missing() {
	local b out=()
	for b in "$@"; do [ -x "$BIN/$b" ] || out+=("$b"); done
	echo "${out[@]+"${out[@]}"}"
}

if [ -z "$(missing kube-apiserver kube-controller-manager etcd)" ]; then
	echo "$BIN"
	exit 0
fi

# One build at a time per cache key: a second caller waits, then finds the
# binaries present.
if command -v flock >/dev/null 2>&1; then
	exec 9>"$BIN/.lock"
	if ! flock -n 9; then
		log "another build into $BIN is running; waiting for it"
		flock 9
	fi
fi

TMP=$(mktemp -d "$BIN/.build.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# build MODULE_DIR LDFLAGS NAME=PACKAGE...: one go build for the missing ones.
build() {
	local dir=$1 ldflags=$2
	shift 2
	local pkgs=() names=() spec
	for spec in "$@"; do
		names+=("${spec%%=*}")
		pkgs+=("${spec#*=}")
	done
	# With several packages, -o DIR/ names each binary after its import
	# path's last element; with one, name it explicitly (etcd's is "v3").
	local out="$TMP/"
	[ "${#names[@]}" -eq 1 ] && out="$TMP/${names[0]}"
	local start=$SECONDS
	(cd "$dir" && "$GO" build -trimpath -ldflags "$ldflags" -o "$out" "${pkgs[@]}") >&2
	local n
	for n in "${names[@]}"; do
		mv -f "$TMP/$n" "$BIN/$n"
	done
	log "built ${names[*]} in $((SECONDS - start))s"
}

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
