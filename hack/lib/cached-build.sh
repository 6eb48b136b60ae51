# shellcheck shell=bash
# Shared by hack/e2e-binaries.sh and hack/peer-binaries.sh: build binaries
# from a tools module into a cache folder outside the checkout, keyed by
# versions and go.mod/go.sum, skipping those already present. Source it after
# setting NAME (the log prefix); then call, in order:
#
#   cache_init ENV_VAR SUBDIR KEY   # sets BIN (from $ENV_VAR, XDG_CACHE_HOME or HOME)
#   all_present BIN1 BIN2 ... && { echo "$BIN"; exit 0; }
#   cache_lock                      # one build per key at a time; sets TMP
#   build MODULE_DIR LDFLAGS NAME=PACKAGE...
#
# Progress goes to stderr; the callers print BIN on stdout.

GO=${GO:-go}
if ! command -v "$GO" >/dev/null 2>&1; then
	if [ -x /usr/local/go/bin/go ]; then
		GO=/usr/local/go/bin/go
	else
		echo "$NAME: no Go toolchain found (set GO= or put go on PATH)" >&2
		exit 1
	fi
fi

log() { echo "$NAME: $*" >&2; }

# modversion GOMOD MODULE: the version a go.mod requires MODULE at.
modversion() {
	awk -v m="$2" '
		$1 == "require" && $2 == m { print $3; exit }
		$1 == m && $2 ~ /^v/ { print $2; exit }
	' "$1"
}

export CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off
GOVERSION=$("$GO" env GOVERSION)
GOOS=$("$GO" env GOOS)
GOARCH=$("$GO" env GOARCH)

# modhash MODULE_DIR...: a short hash of the modules' go.mod and go.sum.
modhash() {
	local d files=()
	for d in "$@"; do files+=("$d/go.mod" "$d/go.sum"); done
	if command -v sha256sum >/dev/null 2>&1; then
		cat "${files[@]}" | sha256sum | cut -c1-12
	else
		cat "${files[@]}" | shasum -a 256 | cut -c1-12
	fi
}

# cache_init ENV_VAR SUBDIR KEY: BIN is the cache folder of KEY.
cache_init() {
	local root=${!1:-}
	if [ -z "$root" ]; then
		if [ -n "${XDG_CACHE_HOME:-}" ]; then
			root=$XDG_CACHE_HOME/tokenguard/$2
		elif [ -n "${HOME:-}" ]; then
			root=$HOME/.cache/tokenguard/$2
		else
			root=${TMPDIR:-/tmp}/tokenguard-$2-$(id -u)
		fi
	fi
	BIN=$root/$3
	mkdir -p "$BIN"
	BIN=$(cd "$BIN" && pwd)
}

# missing NAME...: the names without an executable in BIN.
missing() {
	local b out=()
	for b in "$@"; do [ -x "$BIN/$b" ] || out+=("$b"); done
	echo "${out[@]+"${out[@]}"}"
}

all_present() { [ -z "$(missing "$@")" ]; }

# cache_lock: one build at a time per cache key (a second caller waits,
# then finds the binaries present); TMP is removed on exit.
cache_lock() {
	if command -v flock >/dev/null 2>&1; then
		exec 9>"$BIN/.lock"
		if ! flock -n 9; then
			log "another build into $BIN is running; waiting for it"
			flock 9
		fi
	fi
	TMP=$(mktemp -d "$BIN/.build.XXXXXX")
	trap 'rm -rf "$TMP"' EXIT
}

# build MODULE_DIR LDFLAGS NAME=PACKAGE...: one go build for all of them,
# written under TMP and moved into BIN.
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
