# shellcheck shell=bash
# Shared by hack/layer-corpus.sh and hack/image/fetch-base.sh: unpack a
# cached .deb into the plain tar of its files and its control fields, beside
# it, once. The caller defines log and DPKG_DEB, and calls lock_cache first.
#
#   lock_cache DIR        # one filler of DIR at a time; sets TMP (removed at exit)
#   unpack_deb DIR BASE   # DIR/BASE.deb → DIR/BASE.tar, DIR/BASE.control

lock_cache() {
	local dir=$1
	if command -v flock >/dev/null 2>&1; then
		exec 9>"$dir/.lock"
		if ! flock -n 9; then
			log "another run is filling $dir; waiting for it"
			flock 9
		fi
	fi
	TMP=$(mktemp -d "$dir/.fetch.XXXXXX")
	trap 'rm -rf "$TMP"' EXIT
}

unpack_deb() {
	local dir=$1 base=$2
	if ! command -v "$DPKG_DEB" >/dev/null 2>&1; then
		log "no dpkg-deb: cannot unpack $base.deb"
		return 1
	fi
	# The Go side reads a plain tar: the product module has no xz decoder.
	if [ ! -s "$dir/$base.tar" ]; then
		"$DPKG_DEB" --fsys-tarfile "$dir/$base.deb" >"$TMP/$base.tar" || {
			log "dpkg-deb --fsys-tarfile $base.deb failed"
			return 1
		}
		mv -f "$TMP/$base.tar" "$dir/$base.tar"
	fi
	if [ ! -s "$dir/$base.control" ]; then
		"$DPKG_DEB" --field "$dir/$base.deb" >"$TMP/$base.control" || {
			log "dpkg-deb --field $base.deb failed"
			return 1
		}
		mv -f "$TMP/$base.control" "$dir/$base.control"
	fi
}
