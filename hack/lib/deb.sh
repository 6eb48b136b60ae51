# shellcheck shell=bash
# Shared by hack/layer-corpus.sh and hack/image/fetch-base.sh: unpack a
# cached .deb into the plain tar of its files and its control fields, beside
# it, once. The caller defines log, TMP (a scratch folder) and DPKG_DEB.
#
#   unpack_deb DIR BASE   # DIR/BASE.deb → DIR/BASE.tar, DIR/BASE.control

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
