#!/usr/bin/env bash
# Fetches the Debian packages hack/image/base.txt pins (ca-certificates) for
# the image's base layer, as hack/layer-corpus.sh fetches its packages:
# apt-get download, then dpkg-deb unpacks each into a plain tar (the Go side
# has no xz decoder) and its control fields. They go to a cache folder
# outside the checkout, shared by fresh clones on the same machine:
#
#   ${TOKENGUARD_IMAGE_BASE:-${XDG_CACHE_HOME:-$HOME/.cache}/tokenguard/image-base}
#
# holding NAME_VERSION.{deb,tar,control}. A package already there is not
# fetched again, so make image works offline once this has run; a .deb
# whose SHA-256 is not the pinned one is refused and not kept.
#
#   DIR=$(hack/image/fetch-base.sh | tail -1)
#
# Progress goes to stderr; the last line on stdout is the folder. Unlike
# layer-corpus.sh it fails (exit 1) when a package cannot be had: the image
# cannot be built without it. Environment: TOKENGUARD_IMAGE_BASE, APT_GET,
# DPKG_DEB.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LIST=$HERE/base.txt
APT_GET=${APT_GET:-apt-get}
DPKG_DEB=${DPKG_DEB:-dpkg-deb}

log() { echo "fetch-base: $*" >&2; }
# shellcheck source=../lib/deb.sh
. "$(dirname "$0")/../lib/deb.sh"

sha256() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum <"$1" | cut -d' ' -f1
	else
		shasum -a 256 <"$1" | cut -d' ' -f1
	fi
}

DIR=${TOKENGUARD_IMAGE_BASE:-}
if [ -z "$DIR" ]; then
	if [ -n "${XDG_CACHE_HOME:-}" ]; then
		DIR=$XDG_CACHE_HOME/tokenguard/image-base
	elif [ -n "${HOME:-}" ]; then
		DIR=$HOME/.cache/tokenguard/image-base
	else
		DIR=${TMPDIR:-/tmp}/tokenguard-image-base-$(id -u)
	fi
fi
mkdir -p "$DIR" || { log "cannot create $DIR"; exit 1; }
DIR=$(cd "$DIR" && pwd)

lock_cache "$DIR"

apt_updated=
# download NAME VERSION: the .deb into TMP/apt-NAME (as root, apt-get needs
# a folder its sandbox user may write).
download() {
	local name=$1 version=$2 d=$TMP/apt-$1
	mkdir -p "$d" && chmod 777 "$d"
	(cd "$d" && timeout 120 "$APT_GET" download -qq "$name=$version" >/dev/null 2>"$TMP/apt.err") && return 0
	# An empty or stale package list: update it once, as root.
	if [ -z "$apt_updated" ] && [ "$(id -u)" = 0 ]; then
		apt_updated=1
		log "apt-get update (the package lists may be missing)"
		timeout 300 "$APT_GET" update -qq >/dev/null 2>&1 || true
		(cd "$d" && timeout 120 "$APT_GET" download -qq "$name=$version" >/dev/null 2>"$TMP/apt.err") && return 0
	fi
	return 1
}

# fetch NAME VERSION SHA256: DIR/NAME_VERSION.{deb,tar,control}.
fetch() {
	local name=$1 version=$2 want=$3 base=${1}_${2}
	if [ ! -s "$DIR/$base.deb" ]; then
		if ! command -v "$APT_GET" >/dev/null 2>&1; then
			log "no apt-get: cannot fetch the Debian package $name=$version"
			return 1
		fi
		log "apt-get download $name=$version"
		if ! download "$name" "$version"; then
			log "apt-get download $name=$version failed: $(grep -v '^W:' "$TMP/apt.err" | tail -3 | tr '\n' ' ')"
			log "(if Debian no longer serves $version, pin a newer version in $LIST)"
			return 1
		fi
		local got
		got=$(ls "$TMP/apt-$name"/*.deb 2>/dev/null | head -1)
		if [ -z "$got" ]; then
			log "apt-get download $name=$version wrote no .deb"
			return 1
		fi
		local sum
		sum=$(sha256 "$got")
		if [ "$sum" != "$want" ]; then
			log "$name=$version: the .deb's SHA-256 is $sum, $LIST pins $want; not kept"
			return 1
		fi
		mv -f "$got" "$DIR/$base.deb"
	fi
	unpack_deb "$DIR" "$base"
}

failed=()
while read -r kind name version sum _; do
	case "$kind" in
	'' | '#'*) continue ;;
	deb) fetch "$name" "$version" "$sum" || failed+=("$name=$version") ;;
	*) log "base.txt: unknown kind $kind" ;;
	esac
done <"$LIST"

if [ "${#failed[@]}" -gt 0 ]; then
	log "could not fetch ${failed[*]}"
	exit 1
fi
echo "$DIR"
