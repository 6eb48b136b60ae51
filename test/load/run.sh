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
for tool in floor loader freeport; do
	CGO_ENABLED=0 "$GO" build -trimpath -o "$tmp/$tool" "./test/load/$tool"
done

# --- start the servers ---------------------------------------------------------
read -r tg_port metrics_port floor_port review_port <<<"$("$tmp/freeport" -n 4 | xargs)"
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

# http_code URL [curl flags]: the status of GET URL, 000 when nothing answers.
http_code() {
	local url=$1
	shift
	curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$@" "$url" 2>/dev/null || true
}

tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_ready NAME PID HTTPS_PORT [METRICS_PORT]: ready when /readyz answers 200
# on the metrics port (plain HTTP) or on the HTTPS port. When neither serves
# /readyz at all (no answer or 404) but the HTTPS port accepts connections for
# 2 s, it is taken as ready, with a warning. A process that exits fails.
wait_ready() {
	local name=$1 pid=$2 port=$3 metrics=${4:-} deadline=$((SECONDS + READY_TIMEOUT)) tcp_polls=0 m s rc
	while [ "$SECONDS" -lt "$deadline" ]; do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" && rc=0 || rc=$?
			die "$name exited (status $rc) before it was ready; see its log below"
		fi
		m=000
		[ -n "$metrics" ] && m=$(http_code "http://127.0.0.1:$metrics/readyz")
		s=$(http_code "https://127.0.0.1:$port/readyz" --cacert "$ca")
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
	die "$name not ready after ${READY_TIMEOUT}s (metrics /readyz: $m, https /readyz: $s)"
}

wait_ready "tokenguard serve" "$tg_pid" "$tg_port" "$metrics_port"
wait_ready floor "$floor_pid" "$floor_port"
if [ "$REVIEW_ONLY" = 1 ]; then
	wait_ready "floor (review-only)" "$review_pid" "$review_port"
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
done

echo >&2
echo "JSON results in $OUT_DIR/" >&2
if [ "$failed" -ne 0 ]; then
	die "a load run had errors (see ERRORS above): the figures are not valid"
fi
