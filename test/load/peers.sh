#!/usr/bin/env bash
# Side-by-side load test (issue #8): tokenguard serve, the decode-only floor,
# the Pod Security Admission webhook and OPA with tokenguard's add-on rules in
# Rego (test/load/opa/tokenguard.rego), all on 127.0.0.1 over HTTPS with one
# certificate, the same request bodies, targets interleaved round by round.
#
# This is test/load/run.sh with PEERS=1 and, by default, SUITE=1: the whole
# suite with the servers started once — c8 (closed loop, 8 connections, Pod
# and Deployment scenarios), c1 (closed loop, 1 connection), open1000 (open
# loop at 1,000 req/s) and cachemem (tokenguard serve with 10,000 cached
# image digests) — then $OUT_DIR/summary.md (test/load/summary): the
# machine, the command, every table and the Targets of issue #8 with ✓ or ✗.
# It prints an estimate of its length first (about 11 minutes on 2 cores).
# CHECK_TARGETS=1: exit 3 when a target is missed. SUITE=0: one
# configuration only (N, C, ROUNDS, RATE, DURATION, SCENARIOS). The settings
# (SUITE_PHASES, C8_N, C1_N, OPEN_RATE, CACHE_IMAGES, ...) are described in
# run.sh. Quick smoke run:
#
#   SUITE_PHASES="c8 c1" C8_N=300 C1_N=200 ROUNDS=2 OPA_API=v0 ./test/load/peers.sh
#
# The peers are built from the Go module proxy by hack/peer-binaries.sh
# (tools modules hack/tools/psa and hack/tools/opa) and cached in
# ~/.cache/tokenguard/peers; the first run pays a cold build of a few minutes.
set -euo pipefail
PEERS=1 SUITE=${SUITE:-1} exec "$(dirname "${BASH_SOURCE[0]}")/run.sh" "$@"
