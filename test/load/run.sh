#!/usr/bin/env bash
# Admission load test: tokenguard serve against the decode-only floor, on
# 127.0.0.1 only. Builds bin/tokenguard and the floor/loader tools, starts
# both servers with one shared self-signed certificate, waits until they are
# ready, runs the loader (targets interleaved round by round), prints Markdown
# tables and writes JSON (and the Markdown) next to them. Kills only the
# processes it started.
#
# Two ways to run it:
#
# SUITE=0 (run.sh's default; make loadtest): one configuration, from N, C,
#   ROUNDS, SCENARIOS (closed loop) or RATE and DURATION (open loop); results
#   in $OUT_DIR/<scenario>.json.
#
# SUITE=1 (peers.sh's default; make loadtest-peers): the suite of issue #8,
#   the servers started once, then these phases in order, each one's results
#   in $OUT_DIR/<phase>/<scenario>.json (.md: the loader's tables):
#     c8        closed loop, 8 connections: C8_SCENARIOS (pod-allowed
#               pod-denied deployment-allowed deployment-denied), C8_N=5000
#               requests per target per round, C8_ROUNDS=5
#     c1        closed loop, 1 connection: C1_SCENARIOS (pod-allowed
#               pod-denied), C1_N=3000, C1_ROUNDS=3
#     open1000  open loop, OPEN_RATE=1000 req/s for OPEN_DURATION=10s per
#               target run, at most OPEN_C=8 in flight: OPEN_SCENARIOS
#               (pod-allowed pod-denied), OPEN_ROUNDS=3
#     cachemem  go run ./test/load/cachemem -serve <tokenguard binary>
#               -images CACHE_IMAGES (10000): its own tokenguard serve with
#               registry lookups on; $OUT_DIR/cachemem/cachemem.{md,json}
#   SUITE_PHASES="c8 c1 open1000 cachemem" picks and orders the phases. N,
#   ROUNDS and SCENARIOS, when set, are the default of every loader phase
#   (before its own C8_N, C1_ROUNDS, ...), RATE and DURATION those of
#   open1000; C is not used (the phases fix it; OPEN_C). The suite prints an
#   estimate of its length first (about 11 minutes in full with both OPA
#   APIs on 2 cores), and last test/load/summary writes $OUT_DIR/summary.md:
#   the machine, the command and settings, every phase's table and the
#   Targets of issue #8 (ratios per round against the same round's floor,
#   median and min–max, ✓ or ✗), and prints it. Quick smoke run:
#     SUITE_PHASES="c8 c1" C8_N=300 C1_N=200 ROUNDS=2 OPA_API=v0 ./test/load/peers.sh
#
# Settings (environment):
#   SUITE=0          1: the suite above
#   CHECK_TARGETS=0  suite: 1: exit 3 when a target of issue #8 is missed
#                    (by default a missed target is reported, not an error)
#   N=20000          requests per target per round (closed loop)
#   C=8              concurrent connections
#   ROUNDS=3         rounds (targets interleaved A B A B A B)
#   RATE=            requests/s: open loop instead of closed (with DURATION)
#   DURATION=10s     open loop: length of each target run
#   SCENARIOS="pod-allowed pod-denied"   also: deployment-allowed deployment-denied
#   REVIEW_ONLY=0    1: add the review-only floor (AdmissionReview decode only)
#   OUT_DIR=bin/loadtest   where the JSON results go
#   TOKENGUARD_ARGS= extra flags for tokenguard serve (not for cachemem's)
#   READY_TIMEOUT=30 seconds to wait for the servers
#   TOKENGUARD_BIN=  a tokenguard binary to test instead of building bin/tokenguard
#   PEERS=0          1: also the peers (issue #8, test/load/peers.sh): the Pod
#                    Security Admission webhook (defaults: enforce restricted;
#                    namespaces from test/load/fakeapi) and OPA with
#                    test/load/opa/tokenguard.rego, built by
#                    hack/peer-binaries.sh into ~/.cache/tokenguard/peers
#   OPA_API="v0 v1"  peers: OPA's data APIs to load: v0 (target opa-v0: the
#                    AdmissionReview is the input, as kube-apiserver sends it)
#                    and/or v1 (target opa-v1: {"input": review}, the loader's
#                    -wrap-input; the answer is {"result": review})
#
# Targets are named floor, floor-review-only, warn or enforce (tokenguard's
# /validate/<mode>: warn for the allowed scenarios, enforce for the denied
# ones), psa, opa-v0 and opa-v1.
#
# Exit status: 0 all runs clean; 1 a run had errors, or tokenguard serve is
# not available; 2 usage; 3 SUITE=1 CHECK_TARGETS=1 and a target missed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

# The settings given in the environment, before defaults: the suite records
# them as the command that reproduces it.
settings=(SUITE SUITE_PHASES CHECK_TARGETS N C ROUNDS RATE DURATION SCENARIOS
	C8_N C8_ROUNDS C8_SCENARIOS C1_N C1_ROUNDS C1_SCENARIOS
	OPEN_RATE OPEN_DURATION OPEN_C OPEN_ROUNDS OPEN_SCENARIOS CACHE_IMAGES
	REVIEW_ONLY OUT_DIR TOKENGUARD_ARGS READY_TIMEOUT TOKENGUARD_BIN PEERS OPA_API GO GOMAXPROCS GOGC GOMEMLIMIT)
given=()
for v in "${settings[@]}"; do
	[ -n "${!v+x}" ] && given+=("$v=${!v}")
done

SUITE=${SUITE:-0}
SUITE_PHASES=${SUITE_PHASES:-c8 c1 open1000 cachemem}
CHECK_TARGETS=${CHECK_TARGETS:-0}
C8_N=${C8_N:-${N:-5000}}
C8_ROUNDS=${C8_ROUNDS:-${ROUNDS:-5}}
C8_SCENARIOS=${C8_SCENARIOS:-${SCENARIOS:-pod-allowed pod-denied deployment-allowed deployment-denied}}
C1_N=${C1_N:-${N:-3000}}
C1_ROUNDS=${C1_ROUNDS:-${ROUNDS:-3}}
C1_SCENARIOS=${C1_SCENARIOS:-${SCENARIOS:-pod-allowed pod-denied}}
OPEN_RATE=${OPEN_RATE:-${RATE:-1000}}
OPEN_DURATION=${OPEN_DURATION:-${DURATION:-10s}}
OPEN_C=${OPEN_C:-8}
OPEN_ROUNDS=${OPEN_ROUNDS:-${ROUNDS:-3}}
OPEN_SCENARIOS=${OPEN_SCENARIOS:-${SCENARIOS:-pod-allowed pod-denied}}
CACHE_IMAGES=${CACHE_IMAGES:-10000}
N=${N:-20000}
C=${C:-8}
ROUNDS=${ROUNDS:-3}
RATE=${RATE:-}
DURATION=${DURATION:-10s}
SCENARIOS=${SCENARIOS:-pod-allowed pod-denied}
REVIEW_ONLY=${REVIEW_ONLY:-0}
OUT_DIR=${OUT_DIR:-bin/loadtest}
TOKENGUARD_ARGS=${TOKENGUARD_ARGS:-}
READY_TIMEOUT=${READY_TIMEOUT:-30}
TOKENGUARD_BIN=${TOKENGUARD_BIN:-}
PEERS=${PEERS:-0}
OPA_API=${OPA_API:-v0 v1}
GO=${GO:-go}
fixtures=test/load/fixtures

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tokenguard-load.XXXXXX")
pids=() # every process this script started, and only those
logs=()

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then # 3: a target missed, the servers were fine
		for log in "${logs[@]}"; do
			[ -s "$log" ] && { echo "--- last lines of $(basename "$log"):" >&2; tail -n 20 "$log" >&2; }
		done
	fi
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

die() { echo "run.sh: $*" >&2; exit 1; }
usage() { echo "run.sh: $*" >&2; exit 2; }

known_scenarios=" pod-allowed pod-denied deployment-allowed deployment-denied "
# check_scenarios VAR: every word of $VAR is a scenario.
check_scenarios() {
	local s
	for s in ${!1}; do
		[[ "$known_scenarios" == *" $s "* ]] || usage "$1: unknown scenario $s (known:${known_scenarios% })"
	done
}
# check_count VAR: $VAR is a positive whole number.
check_count() { [[ "${!1}" =~ ^[1-9][0-9]*$ ]] || usage "$1=${!1}: want a positive whole number"; }
# phase_on PHASE: PHASE is in SUITE_PHASES.
phase_on() { [[ " $SUITE_PHASES " == *" $1 "* ]]; }

if [ "$SUITE" = 1 ]; then
	for p in $SUITE_PHASES; do
		case $p in
		c8 | c1 | open1000 | cachemem) ;;
		*) usage "SUITE_PHASES: unknown phase $p (known: c8 c1 open1000 cachemem)" ;;
		esac
	done
	[ -n "${SUITE_PHASES// /}" ] || usage "SUITE_PHASES is empty"
	for v in C8_N C8_ROUNDS C1_N C1_ROUNDS OPEN_C OPEN_ROUNDS CACHE_IMAGES; do check_count "$v"; done
	for v in C8_SCENARIOS C1_SCENARIOS OPEN_SCENARIOS; do check_scenarios "$v"; done
	[[ "$OPEN_RATE" =~ ^[0-9]+(\.[0-9]+)?$ && "$OPEN_RATE" != 0 ]] || usage "OPEN_RATE=$OPEN_RATE: want requests per second"
	[[ "$OPEN_DURATION" =~ ^([0-9]+(\.[0-9]+)?(ms|s|m))+$ ]] || usage "OPEN_DURATION=$OPEN_DURATION: want a duration like 10s, 500ms or 1m30s"
	[[ " ${given[*]} " == *" C="* ]] && echo "run.sh: note: C is not used by the suite (c8 and c1 fix it; OPEN_C caps the open loop)" >&2
elif [ "$SUITE" != 0 ]; then
	usage "SUITE=$SUITE: want 0 or 1"
fi

# --- build -------------------------------------------------------------------
if [ -z "$TOKENGUARD_BIN" ]; then
	echo "building bin/tokenguard" >&2
	mkdir -p bin
	if ! CGO_ENABLED=0 "$GO" build -trimpath -o bin/tokenguard ./cmd/webhook; then
		die "cannot build ./cmd/webhook (go build -o bin/tokenguard ./cmd/webhook failed); is tokenguard serve still being written?"
	fi
	TOKENGUARD_BIN=bin/tokenguard
fi
if "$TOKENGUARD_BIN" serve -h 2>&1 | grep -qi 'unknown command'; then
	die "$TOKENGUARD_BIN has no 'serve' subcommand yet: nothing to load-test"
fi
echo "building floor, loader" >&2
tools=(floor loader freeport)
[ "$PEERS" = 1 ] && tools+=(fakeapi)
[ "$SUITE" = 1 ] && tools+=(summary)
[ "$SUITE" = 1 ] && phase_on cachemem && tools+=(cachemem)
for tool in "${tools[@]}"; do
	CGO_ENABLED=0 "$GO" build -trimpath -o "$tmp/$tool" "./test/load/$tool"
done
if [ "$PEERS" = 1 ]; then
	echo "building (or reusing) the peers: Pod Security Admission webhook, OPA" >&2
	peer_bin=$(GO=$GO ./hack/peer-binaries.sh | tail -n 1) || die "hack/peer-binaries.sh failed: cannot build the peers"
fi

# --- start the servers ---------------------------------------------------------
read -r tg_port metrics_port floor_port review_port api_port psa_port opa_port <<<"$("$tmp/freeport" -n 7 | xargs)"
"$tmp/floor" -gen-cert "$tmp" # one certificate for every server: same TLS cost
ca=$tmp/ca.crt

# shellcheck disable=SC2086 # TOKENGUARD_ARGS is a list of flags
"$TOKENGUARD_BIN" serve --listen "127.0.0.1:$tg_port" --metrics-listen "127.0.0.1:$metrics_port" \
	--tls-cert-file "$tmp/tls.crt" --tls-private-key-file "$tmp/tls.key" $TOKENGUARD_ARGS \
	>"$tmp/tokenguard.log" 2>&1 &
tg_pid=$!
pids+=("$tg_pid")
logs+=("$tmp/tokenguard.log")

"$tmp/floor" -listen "127.0.0.1:$floor_port" -cert "$tmp/tls.crt" -key "$tmp/tls.key" >"$tmp/floor.log" 2>&1 &
floor_pid=$!
pids+=("$floor_pid")
logs+=("$tmp/floor.log")

if [ "$REVIEW_ONLY" = 1 ]; then
	"$tmp/floor" -mode review-only -listen "127.0.0.1:$review_port" -cert "$tmp/tls.crt" -key "$tmp/tls.key" >"$tmp/floor-review.log" 2>&1 &
	review_pid=$!
	pids+=("$review_pid")
	logs+=("$tmp/floor-review.log")
fi

if [ "$PEERS" = 1 ]; then
	# The PSA webhook keeps a namespace informer: a namespaces-only fake API.
	"$tmp/fakeapi" -listen "127.0.0.1:$api_port" >"$tmp/fakeapi.log" 2>&1 &
	api_pid=$!
	pids+=("$api_pid")
	logs+=("$tmp/fakeapi.log")
	cat >"$tmp/kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: fakeapi
  cluster: {server: "http://127.0.0.1:$api_port"}
users:
- name: none
  user: {}
contexts:
- name: fakeapi
  context: {cluster: fakeapi, user: none}
current-context: fakeapi
KUBECONFIG
	cat >"$tmp/podsecurity.yaml" <<PSA
apiVersion: pod-security.admission.config.k8s.io/v1
kind: PodSecurityConfiguration
defaults:
  enforce: restricted
  enforce-version: latest
  audit: privileged
  audit-version: latest
  warn: privileged
  warn-version: latest
exemptions: {}
PSA
	"$peer_bin/pod-security-webhook" --kubeconfig "$tmp/kubeconfig" --config "$tmp/podsecurity.yaml" \
		--bind-address 127.0.0.1 --secure-port "$psa_port" \
		--tls-cert-file "$tmp/tls.crt" --tls-private-key-file "$tmp/tls.key" >"$tmp/psa.log" 2>&1 &
	psa_pid=$!
	pids+=("$psa_pid")
	logs+=("$tmp/psa.log")

	"$peer_bin/opa" run --server --addr "127.0.0.1:$opa_port" --skip-version-check --log-level error \
		--tls-cert-file "$tmp/tls.crt" --tls-private-key-file "$tmp/tls.key" \
		test/load/opa/tokenguard.rego >"$tmp/opa.log" 2>&1 &
	opa_pid=$!
	pids+=("$opa_pid")
	logs+=("$tmp/opa.log")
fi

# http_code URL [curl flags]: the status of GET URL, 000 when nothing answers.
http_code() {
	local url=$1
	shift
	curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$@" "$url" 2>/dev/null || true
}

tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_ready NAME PID HTTPS_PORT [METRICS_PORT [PATH]]: ready when PATH
# (default /readyz) answers 200 on the metrics port (plain HTTP) or on the
# HTTPS port. When neither serves PATH at all (no answer or 404) but the
# HTTPS port accepts connections for 2 s, it is taken as ready, with a
# warning. A process that exits fails.
wait_ready() {
	local name=$1 pid=$2 port=$3 metrics=${4:-} path=${5:-/readyz} deadline=$((SECONDS + READY_TIMEOUT)) tcp_polls=0 m s rc
	while [ "$SECONDS" -lt "$deadline" ]; do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" && rc=0 || rc=$?
			die "$name exited (status $rc) before it was ready; see its log below"
		fi
		m=000
		[ -n "$metrics" ] && m=$(http_code "http://127.0.0.1:$metrics$path")
		s=$(http_code "https://127.0.0.1:$port$path" --cacert "$ca")
		if [ "$m" = 200 ] || [ "$s" = 200 ]; then
			echo "$name ready (pid $pid, https://127.0.0.1:$port)" >&2
			return 0
		fi
		if [[ "$m" =~ ^(000|404)$ && "$s" =~ ^(000|404)$ ]] && tcp_open "$port"; then
			tcp_polls=$((tcp_polls + 1))
			if [ "$tcp_polls" -ge 20 ]; then
				echo "run.sh: warning: $name serves no /readyz; ready by TCP connect to :$port" >&2
				return 0
			fi
		else
			tcp_polls=0
		fi
		sleep 0.1
	done
	die "$name not ready after ${READY_TIMEOUT}s (metrics $path: $m, https $path: $s)"
}

wait_ready "tokenguard serve" "$tg_pid" "$tg_port" "$metrics_port"
wait_ready floor "$floor_pid" "$floor_port"
if [ "$REVIEW_ONLY" = 1 ]; then
	wait_ready "floor (review-only)" "$review_pid" "$review_port"
fi
if [ "$PEERS" = 1 ]; then
	wait_ready fakeapi "$api_pid" "$api_port" "$api_port"
	wait_ready "pod-security webhook" "$psa_pid" "$psa_port" # /readyz: namespace informer synced
	wait_ready opa "$opa_pid" "$opa_port" "" /health
fi

# --- load ------------------------------------------------------------------------
mkdir -p "$OUT_DIR"

# scenario DIR NAME FIXTURE MODE: the floor (and the review-only floor)
# against tokenguard's /validate/MODE, with FIXTURE as the body, loaded as
# load[] says; the loader's JSON to DIR/NAME.json, its tables to DIR/NAME.md
# (and stdout). ?timeout=10s is what kube-apiserver appends to every webhook
# call (the webhook's timeoutSeconds).
scenario() {
	local dir=$1 name=$2 fixture=$3 mode=$4
	local urls="floor=https://127.0.0.1:$floor_port/validate/$mode?timeout=10s"
	local pidargs=(-pid "floor=$floor_pid" -pid "$mode=$tg_pid")
	if [ "$REVIEW_ONLY" = 1 ]; then
		urls+=",floor-review-only=https://127.0.0.1:$review_port/validate/$mode?timeout=10s"
		pidargs+=(-pid "floor-review-only=$review_pid")
	fi
	urls+=",$mode=https://127.0.0.1:$tg_port/validate/$mode?timeout=10s"
	if [ "$PEERS" = 1 ]; then
		# PSA answers on any path. OPA's v0 data API takes the AdmissionReview
		# itself as input; the v1 API wants {"input": ...} around it.
		urls+=",psa=https://127.0.0.1:$psa_port/validate?timeout=10s"
		pidargs+=(-pid "psa=$psa_pid")
		local api
		for api in $OPA_API; do
			urls+=",opa-$api=https://127.0.0.1:$opa_port/$api/data/tokenguard/admission/review?timeout=10s"
			pidargs+=(-pid "opa-$api=$opa_pid")
			[ "$api" = v1 ] && pidargs+=(-wrap-input opa-v1)
		done
	fi
	echo >&2
	echo "== $name: $fixture → /validate/$mode" >&2
	{
		echo
		echo "#### $name → tokenguard /validate/$mode"
		"$tmp/loader" "${load[@]}" -body "$fixtures/$fixture" -url "$urls" "${pidargs[@]}" \
			-json "$dir/$name.json"
	} | tee "$dir/$name.md"
}

# run_scenarios DIR "SCENARIO ...": every scenario in turn; a run with
# errors sets failed=1, a server that died ends the script.
run_scenarios() {
	local dir=$1 s
	mkdir -p "$dir"
	for s in $2; do
		case $s in
		pod-allowed) scenario "$dir" pod-allowed pod-3c-allowed.json warn || failed=1 ;;
		pod-denied) scenario "$dir" pod-denied pod-3c-denied.json enforce || failed=1 ;;
		deployment-allowed) scenario "$dir" deployment-allowed deployment-allowed.json warn || failed=1 ;;
		deployment-denied) scenario "$dir" deployment-denied deployment-denied.json enforce || failed=1 ;;
		*) usage "unknown scenario $s" ;;
		esac
		if ! kill -0 "$tg_pid" 2>/dev/null; then
			die "tokenguard serve died during $s"
		fi
		if [ "$PEERS" = 1 ]; then
			kill -0 "$psa_pid" 2>/dev/null || die "the pod-security webhook died during $s"
			kill -0 "$opa_pid" 2>/dev/null || die "opa died during $s"
		fi
	done
}

failed=0
if [ "$SUITE" = 0 ]; then
	load=(-ca "$ca" -c "$C" -rounds "$ROUNDS" -baseline floor)
	if [ -n "$RATE" ]; then
		load+=(-rate "$RATE" -duration "$DURATION")
	else
		load+=(-n "$N")
	fi
	run_scenarios "$OUT_DIR" "$SCENARIOS"
	echo >&2
	echo "JSON results in $OUT_DIR/" >&2
	if [ "$failed" -ne 0 ]; then
		die "a load run had errors (see ERRORS above): the figures are not valid"
	fi
	exit 0
fi

# --- the suite (SUITE=1) ---------------------------------------------------------
# estimate: how long the phases take at the rates of the 2-core reference
# machine (docs/benchmarks.md): server µs per request at c=8 and at c=1, per
# target, plus the loader's warm-up (1,000 requests per target and
# scenario); cachemem: ~8 ms per image (push, a cold and a warm pass).
est_targets="floor:135:320 tokenguard:185:360"
[ "$REVIEW_ONLY" = 1 ] && est_targets+=" review-only:90:300"
if [ "$PEERS" = 1 ]; then
	est_targets+=" psa:210:460"
	for api in $OPA_API; do est_targets+=" opa-$api:600:960"; done
fi
estimate=$(awk -v targets="$est_targets" -v phases="$SUITE_PHASES" \
	-v c8n="$C8_N" -v c8r="$C8_ROUNDS" -v c8s="$(wc -w <<<"$C8_SCENARIOS")" \
	-v c1n="$C1_N" -v c1r="$C1_ROUNDS" -v c1s="$(wc -w <<<"$C1_SCENARIOS")" \
	-v rate="$OPEN_RATE" -v dur="$OPEN_DURATION" -v orounds="$OPEN_ROUNDS" -v os="$(wc -w <<<"$OPEN_SCENARIOS")" \
	-v images="$CACHE_IMAGES" '
	function mmss(t) { t = int(t + 0.5); return sprintf("%dm%02ds", int(t / 60), t % 60) }
	BEGIN {
		nt = split(targets, tg, " ")
		for (i = 1; i <= nt; i++) { split(tg[i], f, ":"); us8 += f[2]; us1 += f[3] }
		d = dur; secs = 0
		while (match(d, /^[0-9.]+(ms|s|m)/)) {
			tok = substr(d, 1, RLENGTH); d = substr(d, RLENGTH + 1)
			u = tok; sub(/^[0-9.]+/, "", u); v = tok + 0
			secs += (u == "ms") ? v / 1000 : (u == "m") ? v * 60 : v
		}
		est["c8"] = c8s * ((c8r * c8n + 1000) * us8 / 1e6 + c8r * nt * 0.1)
		est["c1"] = c1s * ((c1r * c1n + 1000) * us1 / 1e6 + c1r * nt * 0.1)
		est["open1000"] = os * (nt * orounds * (secs + 0.1) + 1000 * us8 / 1e6)
		est["cachemem"] = 5 + images * 0.008
		np = split(phases, ph, " ")
		for (i = 1; i <= np; i++) { line = line sprintf("%s ~%s, ", ph[i], mmss(est[ph[i]])); total += est[ph[i]] }
		printf "%stotal ~%s", line, mmss(total)
	}')
echo >&2
echo "suite estimate: $estimate (at the rates of the 2-core reference machine in docs/benchmarks.md; a slower or busier machine takes longer)" >&2

# Results of an earlier suite in OUT_DIR must not mix with this one's.
for p in c8 c1 open1000 cachemem; do
	rm -f "$OUT_DIR/$p"/*.json "$OUT_DIR/$p"/*.md
done
rm -f "$OUT_DIR/summary.md" "$OUT_DIR/suite.json"

# What reproduces this run: the settings given in the environment, in front
# of the script (peers.sh implies PEERS=1 and SUITE=1).
script=test/load/run.sh
[ "$PEERS" = 1 ] && script=test/load/peers.sh
record=(-script "$script")
for kv in "${given[@]}"; do
	if [ "$kv" = GO=go ] || { [ "$PEERS" = 1 ] && [[ "$kv" == PEERS=1 || "$kv" == SUITE=1 ]]; }; then
		continue
	fi
	record+=(-given "$kv")
done
for v in SUITE_PHASES C8_N C8_ROUNDS C8_SCENARIOS C1_N C1_ROUNDS C1_SCENARIOS \
	OPEN_RATE OPEN_DURATION OPEN_C OPEN_ROUNDS OPEN_SCENARIOS CACHE_IMAGES \
	PEERS REVIEW_ONLY TOKENGUARD_BIN TOKENGUARD_ARGS CHECK_TARGETS; do
	record+=(-set "$v=${!v}")
done
[ "$PEERS" = 1 ] && record+=(-set "OPA_API=$OPA_API" -set "peer binaries=$peer_bin")
record+=(-set "commit=$(git describe --always --dirty 2>/dev/null || echo unknown)")
record+=(-set "estimate=$estimate")
"$tmp/summary" -init "${record[@]}" "$OUT_DIR"

suite_start=$SECONDS
for p in $SUITE_PHASES; do
	phase_start=$SECONDS
	echo >&2
	echo "=== phase $p" >&2
	case $p in
	c8)
		load=(-ca "$ca" -c 8 -rounds "$C8_ROUNDS" -baseline floor -n "$C8_N")
		run_scenarios "$OUT_DIR/c8" "$C8_SCENARIOS"
		;;
	c1)
		load=(-ca "$ca" -c 1 -rounds "$C1_ROUNDS" -baseline floor -n "$C1_N")
		run_scenarios "$OUT_DIR/c1" "$C1_SCENARIOS"
		;;
	open1000)
		load=(-ca "$ca" -c "$OPEN_C" -rounds "$OPEN_ROUNDS" -baseline floor -rate "$OPEN_RATE" -duration "$OPEN_DURATION")
		run_scenarios "$OUT_DIR/open1000" "$OPEN_SCENARIOS"
		;;
	cachemem)
		# Its own tokenguard serve (registry lookups on, against a registry
		# in cachemem's process), started and killed by cachemem.
		mkdir -p "$OUT_DIR/cachemem"
		logs+=("$tmp/cachemem.log")
		echo "== cachemem: $CACHE_IMAGES cached image digests in $TOKENGUARD_BIN serve" >&2
		if ! "$tmp/cachemem" -serve "$TOKENGUARD_BIN" -images "$CACHE_IMAGES" \
			-json "$OUT_DIR/cachemem/cachemem.json" 2>"$tmp/cachemem.log" | tee "$OUT_DIR/cachemem/cachemem.md"; then
			echo "run.sh: cachemem failed:" >&2
			tail -n 5 "$tmp/cachemem.log" >&2
			failed=1
		fi
		;;
	esac
	echo "=== phase $p took $((SECONDS - phase_start))s" >&2
done

echo >&2
summary_rc=0
check=()
[ "$CHECK_TARGETS" = 1 ] && check=(-check)
"$tmp/summary" "${check[@]}" "$OUT_DIR" || summary_rc=$?
echo >&2
echo "the suite took $((SECONDS - suite_start))s (estimate: $estimate); results in $OUT_DIR/, summary in $OUT_DIR/summary.md" >&2
if [ "$failed" -ne 0 ]; then
	die "a load run had errors (see ERRORS above): the figures are not valid"
fi
case $summary_rc in
0) ;;
3)
	echo "run.sh: a target of issue #8 was missed (CHECK_TARGETS=1): see Targets in $OUT_DIR/summary.md" >&2
	exit 3
	;;
*) die "test/load/summary failed (status $summary_rc)" ;;
esac
