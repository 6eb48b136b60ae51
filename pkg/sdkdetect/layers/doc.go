// Package layers streams an image's layers once, in order, offers each
// regular file to filecat catalogers, and returns what they found in the
// image's merged filesystem, within byte and time budgets.
//
// # Reading
//
// Each layer is read once, from v1.Layer.Compressed as it streams from the
// registry, and decompressed here (gzip, zstd or none, told by the
// stream's magic bytes; the media type only says whether the layer is a
// filesystem layer at all). Nothing is written to disk and no file is
// buffered unless a cataloger wants it. For every regular file the
// catalogers' Wants sees the clean absolute path, the size, the mode and
// the first filecat.HeadSize bytes; a cataloger that wants the file reads
// it from the tar stream (an io.Reader of exactly the file's bytes), and
// the rest is skipped. File.Path and File.Head given to Wants are valid
// only during the call (no string is made for a file nobody wants); Read
// gets a File of its own. A layer of another media type (an in-toto
// attestation, a Helm chart, an encrypted layer) is skipped and makes the
// result incomplete.
//
// Tar headers are read in place by a reader of this package that
// allocates nothing per entry and agrees with archive/tar on every archive
// archive/tar reads (a differential fuzz test holds it to that); a scan of
// a layer of 100,000 small files costs about 1.2 times decompressing it.
// Sparse tar entries, which no image builder writes, are not expanded: a
// cataloger that wants one gets a Note instead. A layer must end with the
// tar end-of-archive marker: archive/tar would take an uncompressed layer
// cut at a block boundary for a complete one.
//
// # Paths
//
// Tar names are made absolute and clean ("./app/x" and "app//x" are
// "/app/x"); ".." never climbs above "/" ("../../etc/x" is "/etc/x"), as a
// container runtime clamps it. Symbolic links are recorded (they replace
// what lower layers had at their path) and never followed; nothing is ever
// resolved against the host's filesystem. A hard link takes the findings of
// its target, a file of the same layer or of a lower one.
//
// # Layers
//
// Later layers win, as in overlayfs and the OCI image-spec: a whiteout
// DIR/.wh.NAME deletes DIR/NAME and everything under it from lower layers,
// an opaque whiteout DIR/.wh..wh..opq deletes everything lower layers put
// under DIR, a path a later layer writes replaces the lower file there
// (whatever it is now: another file, a directory, a symlink), and a
// non-directory replacing a directory hides everything under it. Each layer
// is summarised on its own (LayerSummary) and the summaries are merged in
// order, so a Cache can keep them by layer digest and a base layer shared by
// many images is read once.
//
// # Budgets
//
// A scan stops, with Result.Complete false and a Gap naming the budget,
// when it has read Options.MaxCompressedBytes of compressed layers (default
// 2 GiB; a layer whose size would pass it is not started), when it has
// decompressed Options.MaxUncompressedBytes (default 16 GiB: a compression
// bomb, whose ratio can pass 1000:1, costs time, not memory, since nothing
// is kept but the decompressor's window; an absolute bound is used rather
// than a ratio, which real layers of empty or zero-filled files also
// reach), or when its context ends (polled between tar entries and on
// every read; a stalled registry stream is closed at the deadline). A
// truncated or corrupt layer, or one the registry fails to serve, makes the
// result incomplete with a Gap naming the layer's digest, and the scan goes
// on with the next layer. What was read before any stop is kept.
//
// Catalogers bound their own buffering (filecat.Limits, default
// MaxFileBytes 64 MiB). A wanted file larger than MaxFileBytes is still
// handed to the cataloger as a stream: its bytes must be decompressed to
// reach the next entry anyway, and a cataloger that cannot read it within
// its limits says so with a Note. Only when several catalogers want the
// same file is it copied, once, and only up to MaxFileBytes.
package layers
