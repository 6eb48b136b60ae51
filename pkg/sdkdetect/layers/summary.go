package layers

import (
	"hash/maphash"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/tokenguard/tokenguard/pkg/sdkdetect/filecat"
)

// LayerSummary is what one layer contributes to an image's filesystem, read
// once and merged in layer order (see merge). It is self-contained: it does
// not depend on the layers below it, so it can be cached by layer digest and
// reused for every image that has the layer. A summary is immutable once
// made; a Cache may hand the same one to concurrent scans.
//
// Why it records what it does. A lower layer's findings at path P must be
// dropped when a later layer removes or replaces P, but a layer is
// summarised without knowing which paths lower layers have findings at. It
// cannot keep every path it writes (100,000 strings for a node_modules
// layer), nor only the files a cataloger wanted: Wants looks at a file's
// size and first bytes, so a shell script that replaces a Go executable is
// not wanted, yet it removes the executable's findings. So a summary keeps
//   - files: the findings and notes of each file a cataloger read, by path;
//   - whiteouts and opaque directories: what it deletes from lower layers;
//   - written: a 64-bit keyed hash of every path it writes (file,
//     directory, link, device), with one bit telling directories apart:
//     8 bytes an entry instead of the path. A lower finding at P is dropped
//     when written holds P (any kind), or a non-directory at an ancestor of
//     P (a file or symlink that replaces a directory hides what was under
//     it). A hash collision drops a finding it should not; with 64-bit
//     hashes keyed per process that is about n·m/2⁶⁴ for n findings and m
//     paths, which is never in practice;
//   - hardLinks to files it does not hold itself, resolved at merge time
//     against the lower layers' findings.
type LayerSummary struct {
	digest v1.Hash
	key    string // Options.summaryKey of the scan that made it

	files     map[string]fileResult
	whiteouts []string // paths deleted with everything under them
	opaque    []string // directories whose lower content is deleted
	hardLinks []hardLink
	written   []uint64 // sorted, distinct pathHash values

	regularFiles int
	tarBytes     int64
	compressed   int64
	size         int64
}

// Digest is the digest of the layer summarised.
func (s *LayerSummary) Digest() v1.Hash { return s.digest }

// SizeBytes approximates the memory the summary holds, for a Cache's bound.
func (s *LayerSummary) SizeBytes() int64 { return s.size }

// fileResult is what the catalogers found in one file.
type fileResult struct {
	found []filecat.Found
	notes []filecat.Note
}

// hardLink is a hard link whose target is not a file with findings of the
// same layer: target may be a file of a lower layer.
type hardLink struct{ path, target string }

// pathSeed keys pathHash. Summaries live in memory only, so hashes never
// need to agree between processes.
var pathSeed = maphash.MakeSeed()

// pathHash is the hash a summary records for a path; its low bit is 1 for
// a directory.
func pathHash(p []byte, dir bool) uint64 {
	return maphash.Bytes(pathSeed, p)&^1 | b2u(dir)
}

func pathHashString(p string, dir bool) uint64 {
	return maphash.String(pathSeed, p)&^1 | b2u(dir)
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// writes reports whether the layer wrote path p, as anything.
func (s *LayerSummary) writes(p string) bool {
	h := maphash.String(pathSeed, p) &^ 1
	return s.has(h) || s.has(h|1)
}

// writesNonDir reports whether the layer wrote path p as a non-directory.
func (s *LayerSummary) writesNonDir(p string) bool {
	return s.has(pathHashString(p, false))
}

func (s *LayerSummary) has(h uint64) bool {
	_, ok := slices.BinarySearch(s.written, h)
	return ok
}

// hides reports whether the layer's own entries hide a lower layer's file
// at p: the layer wrote p itself, or a non-directory at one of p's
// ancestors.
func (s *LayerSummary) hides(p string) bool {
	if s.writes(p) {
		return true
	}
	for dir, _ := parentDir(p); dir != "/"; dir, _ = parentDir(dir) {
		if s.writesNonDir(dir) {
			return true
		}
	}
	return false
}

// sizeOf estimates a summary's memory.
func (s *LayerSummary) sizeOf() int64 {
	const (
		overhead    = 256
		perEntry    = 64 // map entry, slice headers
		perFound    = 7 * 16
		perNote     = 2 * 16
		perString   = 16
		perHardLink = 2 * 16
	)
	n := int64(overhead + len(s.key) + 8*cap(s.written))
	for p, r := range s.files {
		n += int64(perEntry + len(p))
		for _, f := range r.found {
			pk := f.Package
			n += int64(perFound + len(f.File) + len(pk.Type) + len(pk.Namespace) + len(pk.Name) + len(pk.Version) + len(pk.Source) + len(pk.Platform))
		}
		for _, nt := range r.notes {
			n += int64(perNote + len(nt.File) + len(nt.Reason))
		}
	}
	for _, w := range s.whiteouts {
		n += int64(perString + len(w))
	}
	for _, o := range s.opaque {
		n += int64(perString + len(o))
	}
	for _, l := range s.hardLinks {
		n += int64(perHardLink + len(l.path) + len(l.target))
	}
	return n
}
