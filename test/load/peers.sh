#!/usr/bin/env bash
# Side-by-side load test (issue #8): tokenguard serve, the decode-only floor,
# the Pod Security Admission webhook and OPA with tokenguard's add-on rules in
# Rego (test/load/opa/tokenguard.rego), all on 127.0.0.1 over HTTPS with one
# certificate, the same request bodies, targets interleaved round by round.
#
# This is test/load/run.sh with PEERS=1: the same settings (N, C, ROUNDS,
# RATE, DURATION, SCENARIOS, REVIEW_ONLY, OUT_DIR, ...), described there. The
# peers are built from the Go module proxy by hack/peer-binaries.sh (tools
# modules hack/tools/psa and hack/tools/opa) and cached in
# ~/.cache/tokenguard/peers; the first run pays a cold build of a few minutes.
set -euo pipefail
PEERS=1 exec "$(dirname "${BASH_SOURCE[0]}")/run.sh" "$@"
