#!/usr/bin/env bash
# Fetches the real artifacts of the layer-scanning corpus (test/corpus): npm
# tarballs from the npm registry and Debian packages from Debian's archive,
# as test/corpus/artifacts.txt lists them, then builds the syft peer
# (hack/tools/syft/build.sh). test/corpus builds its images from these
# files; it skips when they are missing.
#
#   DIR=$(hack/layer-corpus.sh | tail -1)
#
# They go to a cache folder outside the checkout, so fresh clones on the same
# machine share them:
#
#   ${TOKENGUARD_LAYER_CORPUS:-${XDG_CACHE_HOME:-$HOME/.cache}/tokenguard/layer-corpus/<key>}
#
# where <key> is the first 12 hex digits of artifacts.txt's SHA-256. A file
# already present is not fetched again; a new one is written under a
# temporary name and moved into place, so an interrupted run leaves nothing
# half-written. The Go programs of the corpus are not fetched: test/corpus
# builds them from the Go module proxy into DIR/gobin/ on first use.
#
# Progress goes to stderr; the last line on stdout is the corpus folder.
# Whatever fails (no network, no npm, no apt-get), it says what and exits 0:
# CI never fails because of it, the corpus tests skip.
#
# Environment: TOKENGUARD_LAYER_CORPUS (the corpus folder itself),
# LAYER_CORPUS_SYFT=0 (do not build syft), NPM, APT_GET, DPKG_DEB.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LIST=$ROOT/test/corpus/artifacts.txt
NPM=${NPM:-npm}
APT_GET=${APT_GET:-apt-get}
DPKG_DEB=${DPKG_DEB:-dpkg-deb}

log() { echo "layer-corpus: $*" >&2; }
# shellcheck source=lib/deb.sh
. "$(dirname "$0")/lib/deb.sh"

sha12() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum <"$1" | cut -c1-12
	else
		shasum -a 256 <"$1" | cut -c1-12
	fi
}

DIR=${TOKENGUARD_LAYER_CORPUS:-}
if [ -z "$DIR" ]; then
	if [ -n "${XDG_CACHE_HOME:-}" ]; then
		DIR=$XDG_CACHE_HOME/tokenguard/layer-corpus
	elif [ -n "${HOME:-}" ]; then
		DIR=$HOME/.cache/tokenguard/layer-corpus
	else
		DIR=${TMPDIR:-/tmp}/tokenguard-layer-corpus-$(id -u)
	fi
	DIR=$DIR/$(sha12 "$LIST")
fi
if ! mkdir -p "$DIR/npm" "$DIR/deb"; then
	log "cannot create $DIR"
	echo "$DIR"
	exit 0
fi
DIR=$(cd "$DIR" && pwd)

lock_cache "$DIR"

failed=()

# npm NAME VERSION: npm/<name without @, / as ->-VERSION.tgz, as npm pack
# names it.
fetch_npm() {
	local name=$1 version=$2 file
	file=$(echo "${name#@}" | tr / -)-$version.tgz
	[ -s "$DIR/npm/$file" ] && return 0
	if ! command -v "$NPM" >/dev/null 2>&1; then
		log "no npm: cannot fetch $name@$version"
		return 1
	fi
	log "npm pack $name@$version"
	if ! (cd "$TMP" && timeout 120 "$NPM" pack --silent "$name@$version" >/dev/null 2>"$TMP/npm.err"); then
		log "npm pack $name@$version failed: $(tail -3 "$TMP/npm.err" | tr '\n' ' ')"
		return 1
	fi
	if [ ! -s "$TMP/$file" ]; then
		log "npm pack $name@$version did not write $file"
		return 1
	fi
	mv -f "$TMP/$file" "$DIR/npm/$file"
}

apt_updated=
# deb NAME VERSION: deb/NAME_VERSION.{deb,tar,control}.
fetch_deb() {
	local name=$1 version=$2 base
	base=${name}_${version}
	if [ ! -s "$DIR/deb/$base.deb" ]; then
		if ! command -v "$APT_GET" >/dev/null 2>&1; then
			log "no apt-get: cannot fetch the Debian package $name=$version"
			return 1
		fi
		log "apt-get download $name=$version"
		local d=$TMP/apt-$name
		mkdir -p "$d" && chmod 777 "$d"
		if ! (cd "$d" && timeout 120 "$APT_GET" download -qq "$name=$version" >/dev/null 2>"$TMP/apt.err"); then
			# An empty or stale package list: update it once, as root.
			if [ -z "$apt_updated" ] && [ "$(id -u)" = 0 ]; then
				apt_updated=1
				log "apt-get update (the package lists may be missing)"
				timeout 300 "$APT_GET" update -qq >/dev/null 2>&1 || true
			fi
			if ! (cd "$d" && timeout 120 "$APT_GET" download -qq "$name=$version" >/dev/null 2>"$TMP/apt.err"); then
				log "apt-get download $name=$version failed: $(grep -v '^W:' "$TMP/apt.err" | tail -3 | tr '\n' ' ')"
				return 1
			fi
		fi
		local got
		got=$(ls "$d"/*.deb 2>/dev/null | head -1)
		if [ -z "$got" ]; then
			log "apt-get download $name=$version wrote no .deb"
			return 1
		fi
		mv -f "$got" "$DIR/deb/$base.deb"
	fi
	unpack_deb "$DIR/deb" "$base"
}

# After a kind's first failure (no network, no client) the rest of that
# kind is not tried, so an offline run ends quickly.
npm_down= deb_down=
while read -r kind name version _; do
	case "$kind" in
	'' | '#'*) continue ;;
	npm)
		if [ -n "$npm_down" ] && [ ! -s "$DIR/npm/$(echo "${name#@}" | tr / -)-$version.tgz" ]; then
			failed+=("npm:$name@$version")
		elif ! fetch_npm "$name" "$version"; then
			failed+=("npm:$name@$version")
			npm_down=1
		fi
		;;
	deb)
		if [ -n "$deb_down" ] && [ ! -s "$DIR/deb/${name}_$version.tar" ]; then
			failed+=("deb:$name=$version")
		elif ! fetch_deb "$name" "$version"; then
			failed+=("deb:$name=$version")
			deb_down=1
		fi
		;;
	*) log "artifacts.txt: unknown kind $kind" ;;
	esac
done <"$LIST"

if [ "${#failed[@]}" -gt 0 ]; then
	log "could not fetch ${failed[*]}; the corpus tests will skip until a run fetches them"
else
	log "all artifacts of $LIST are in $DIR"
fi

if [ "${LAYER_CORPUS_SYFT:-1}" != 0 ]; then
	syft=$("$ROOT/hack/tools/syft/build.sh" | tail -1) || true
	if [ -n "$syft" ]; then
		log "syft: $syft"
	else
		log "syft is not built; the corpus test will skip the syft side"
	fi
fi

echo "$DIR"
exit 0
