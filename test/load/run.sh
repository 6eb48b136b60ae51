#!/usr/bin/env bash
# Admission load test: tokenguard serve against the decode-only floor, on
# 127.0.0.1 only. Builds bin/tokenguard and the floor/loader tools, starts
# both servers with one shared self-signed certificate, waits until they are
# ready, runs the loader (targets interleaved round by round), prints Markdown
# tables and writes JSON next to them. Kills only the processes it started.
#
# Settings (environment):
#   N=20000          requests per target per round (closed loop)
#   C=8              concurrent connections
#   ROUNDS=3         rounds (targets interleaved A B A B A B)
#   RATE=            requests/s: open loop instead of closed (with DURATION)
#   DURATION=10s     open loop: length of each target run
#   SCENARIOS="pod-allowed pod-denied"   also: deployment-allowed deployment-denied
#   REVIEW_ONLY=0    1: add the review-only floor (AdmissionReview decode only)
#   OUT_DIR=bin/loadtest   where the JSON results go
#   TOKENGUARD_ARGS= extra flags for tokenguard serve
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
# Exit status: 0 all runs clean; 1 a run had errors, or tokenguard serve is
# not available; 2 usage.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

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
	if [ "$rc" -ne 0 ]; then
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
load=(-ca "$ca" -c "$C" -rounds "$ROUNDS" -baseline floor)
if [ -n "$RATE" ]; then
	load+=(-rate "$RATE" -duration "$DURATION")
else
	load+=(-n "$N")
fi

# scenario NAME FIXTURE MODE: the floor (and the review-only floor) against
# tokenguard's /validate/MODE, with FIXTURE as the body. ?timeout=10s is what
# kube-apiserver appends to every webhook call (the webhook's timeoutSeconds).
scenario() {
	local name=$1 fixture=$2 mode=$3
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
	echo
	echo "#### $name → tokenguard /validate/$mode"
	"$tmp/loader" "${load[@]}" -body "$fixtures/$fixture" -url "$urls" "${pidargs[@]}" \
		-json "$OUT_DIR/$name.json"
}

failed=0
for s in $SCENARIOS; do
	case $s in
	pod-allowed) scenario pod-allowed pod-3c-allowed.json warn || failed=1 ;;
	pod-denied) scenario pod-denied pod-3c-denied.json enforce || failed=1 ;;
	deployment-allowed) scenario deployment-allowed deployment-allowed.json warn || failed=1 ;;
	deployment-denied) scenario deployment-denied deployment-denied.json enforce || failed=1 ;;
	*) echo "run.sh: unknown scenario $s" >&2; exit 2 ;;
	esac
	if ! kill -0 "$tg_pid" 2>/dev/null; then
		die "tokenguard serve died during $s"
	fi
	if [ "$PEERS" = 1 ]; then
		kill -0 "$psa_pid" 2>/dev/null || die "the pod-security webhook died during $s"
		kill -0 "$opa_pid" 2>/dev/null || die "opa died during $s"
	fi
done

echo >&2
echo "JSON results in $OUT_DIR/" >&2
if [ "$failed" -ne 0 ]; then
	die "a load run had errors (see ERRORS above): the figures are not valid"
fi
