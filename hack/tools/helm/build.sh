#!/usr/bin/env bash
# Builds the helm CLI (helm.sh/helm/v4/cmd/helm, the version this tools
# module requires) from the Go module proxy, for the chart tests (charts/):
# helm lint and helm template of charts/tokenguard. Only Go is needed.
#
#   HELM=$(hack/tools/helm/build.sh | tail -1)
#
# The binary goes to a cache folder outside the checkout, so fresh clones on
# the same machine share it:
#
#   ${TOKENGUARD_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tokenguard/tools}/helm-<version>-<sha256 of go.mod+go.sum, 12>/helm
#
# (charts/ computes the same path when $TOKENGUARD_HELM is unset). A binary
# already present is not rebuilt; a new one is written under a temporary
# name and moved into place; concurrent runs wait for each other (flock).
# A cold build (empty Go build cache) takes 5 to 7 minutes on 2 cores;
# with the binary cached it returns in well under a second.
#
# Progress goes to stderr; the last line on stdout is the binary's path.
# Unlike syft, helm is not optional: a failed build exits non-zero (make
# test then stops before the chart tests would fail).
#
# Environment: TOKENGUARD_TOOLS_CACHE (cache root), GO (go command).
set -euo pipefail

MOD=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

NAME=helm-build
# shellcheck source=../../lib/cached-build.sh
. "$MOD/../../lib/cached-build.sh"

VERSION=$(modversion "$MOD/go.mod" helm.sh/helm/v4)
if [ -z "$VERSION" ]; then
	log "cannot read the helm.sh/helm/v4 version from $MOD/go.mod"
	exit 1
fi

cache_init TOKENGUARD_TOOLS_CACHE tools "helm-${VERSION}-$(modhash "$MOD")"
if all_present helm; then
	echo "$BIN/helm"
	exit 0
fi
cache_lock
log "building helm $VERSION (cold build: 5 to 7 minutes) ..."
# internal/version.version is what `helm version` prints (helm's Makefile
# sets it from the git tag; the module has no git metadata).
build "$MOD" "-s -w -X helm.sh/helm/v4/internal/version.version=$VERSION -X helm.sh/helm/v4/internal/version.gitTreeState=clean" helm=helm.sh/helm/v4/cmd/helm
echo "$BIN/helm"
