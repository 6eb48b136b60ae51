#!/usr/bin/env bash
# Builds syft (github.com/anchore/syft/cmd/syft, the version this tools
# module requires) from the Go module proxy, the peer that test/corpus runs
# over the layer-scanning corpus. Only Go is needed.
#
#   SYFT=$(hack/tools/syft/build.sh | tail -1)
#
# The binary goes to a cache folder outside the checkout, so fresh clones on
# the same machine share it:
#
#   ${TOKENGUARD_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tokenguard/tools}/syft-<version>-<sha256 of go.sum, 12>/syft
#
# (test/corpus computes the same path). A binary already present is not
# rebuilt; a new one is written under a temporary name and moved into place.
# A cold build (empty Go build cache) takes 10 to 20 minutes on 2 cores
# (22 minutes measured with other builds running).
#
# Progress goes to stderr; the last line on stdout is the binary's path.
# A failed build is reported and exits 0 with an empty last line, so that
# CI never fails because of it (the corpus test then skips the syft side).
#
# Environment: TOKENGUARD_TOOLS_CACHE (cache root), GO (go command).
set -uo pipefail

MOD=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# The build runs in a subshell (set -e, and hack/lib/cached-build.sh exits
# when Go is missing); any failure there becomes a message and exit 0.
path=$(
	set -euo pipefail
	NAME=syft-build
	# shellcheck source=../../lib/cached-build.sh
	. "$MOD/../../lib/cached-build.sh"

	VERSION=$(modversion "$MOD/go.mod" github.com/anchore/syft)
	if [ -z "$VERSION" ]; then
		log "cannot read the github.com/anchore/syft version from $MOD/go.mod"
		exit 1
	fi
	if command -v sha256sum >/dev/null 2>&1; then
		SUM=$(sha256sum <"$MOD/go.sum" | cut -c1-12)
	else
		SUM=$(shasum -a 256 <"$MOD/go.sum" | cut -c1-12)
	fi

	cache_init TOKENGUARD_TOOLS_CACHE tools "syft-${VERSION}-${SUM}"
	if all_present syft; then
		echo "$BIN/syft"
		exit 0
	fi
	cache_lock
	log "building syft $VERSION (cold build: 10 to 20 minutes) ..."
	# main.version is what `syft version` and the syft-json descriptor report.
	build "$MOD" "-s -w -X main.version=$VERSION" syft=github.com/anchore/syft/cmd/syft
	echo "$BIN/syft"
)
if [ -z "$path" ] || [ ! -x "$path" ]; then
	echo "syft-build: syft was not built (see the messages above); the corpus test will skip the syft side" >&2
	echo
	exit 0
fi
echo "$path"
