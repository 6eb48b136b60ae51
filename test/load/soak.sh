#!/usr/bin/env bash
# Soak: tokenguard serve under a fixed open-loop rate for SOAK_DURATION
# (default 20m), on 127.0.0.1 only. Every SAMPLE seconds it records the
# server's RSS, open files and goroutines; at the end it compares the first
# and the last minute of the last 15 minutes (or of the second half, for
# shorter runs) and says whether they are flat (within SOAK_TOLERANCE, 10%
# by default, and goroutines within 10). Writes $OUT_DIR/soak.tsv and
# soak.md. Kills only the processes it started. Exit 1 when not flat.
#
#   SOAK_DURATION=20m RATE=200 SAMPLE=10 OUT_DIR=bin/soak ./test/load/soak.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
GO=${GO:-go}
SOAK_DURATION=${SOAK_DURATION:-20m}
RATE=${RATE:-200}
SAMPLE=${SAMPLE:-10}
SOAK_TOLERANCE=${SOAK_TOLERANCE:-0.10}
OUT_DIR=${OUT_DIR:-bin/soak}
mkdir -p "$OUT_DIR"
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

CGO_ENABLED=0 $GO build -trimpath -o "$tmp/tokenguard" ./cmd/webhook
$GO build -o "$tmp/loader" ./test/load/loader
$GO build -o "$tmp/freeport" ./test/load/freeport
read -r port mport <<<"$("$tmp/freeport" -n 2 | xargs)"
"$tmp/tokenguard" serve --listen "127.0.0.1:$port" --metrics-listen "127.0.0.1:$mport" --log-level warn >"$tmp/serve.log" 2>&1 &
tg=$!
pids+=("$tg")
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$mport/readyz" >/dev/null 2>&1 && break; sleep 0.1; done

secs=$($GO run ./test/load/soak/seconds "$SOAK_DURATION")
"$tmp/loader" -insecure -warmup 0 -rounds 1 -c 8 -rate "$RATE" -duration "$SOAK_DURATION" -timeout "$((secs + 120))s" \
	-body test/load/fixtures/pod-3c-denied.json -url "soak=https://127.0.0.1:$port/validate/enforce" \
	-json "$OUT_DIR/loader.json" >"$OUT_DIR/loader.md" 2>"$tmp/loader.err" &
ld=$!
pids+=("$ld")
printf 'seconds\trss_kb\topen_files\tgoroutines\n' >"$OUT_DIR/soak.tsv"
start=$(date +%s)
while kill -0 "$ld" 2>/dev/null; do
	now=$(( $(date +%s) - start ))
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$tg/status")
	fds=$(ls "/proc/$tg/fd" | wc -l)
	gor=$(curl -fsS "http://127.0.0.1:$mport/metrics" | awk '/^go_goroutines / {print $2}')
	printf '%s\t%s\t%s\t%s\n' "$now" "$rss" "$fds" "$gor" >>"$OUT_DIR/soak.tsv"
	sleep "$SAMPLE"
done
wait "$ld" || { echo "soak: the loader failed:"; cat "$tmp/loader.err"; exit 1; }
kill -0 "$tg" || { echo "soak: tokenguard serve died:"; tail "$tmp/serve.log"; exit 1; }
$GO run ./test/load/soak/judge -tsv "$OUT_DIR/soak.tsv" -seconds "$secs" -tolerance "$SOAK_TOLERANCE" -rate "$RATE" | tee "$OUT_DIR/soak.md"
