package layers

import (
	"strconv"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/tokenguard/tokenguard/pkg/sdkdetect/filecat"
)

// Result is what a scan found in an image's merged filesystem.
type Result struct {
	// Found is every package found in a file that is present in the merged
	// filesystem, sorted by File, then package identity and Source.
	Found []filecat.Found
	// Notes say which files of the merged filesystem could not be read
	// completely, sorted by File and Reason.
	Notes []filecat.Note
	// Complete is true when every layer was read to its end. When false,
	// Gaps says why, and Found may miss packages (or keep some that a
	// layer not read would have removed).
	Complete bool
	// Reason is the Gaps' reasons joined by "; ", empty when Complete.
	Reason string
	// Gaps lists why the result is incomplete, in layer order.
	Gaps []Gap
	// Layers is the number of layers of the image; LayersRead were read
	// to their end during this scan and LayersCached came from the Cache.
	Layers, LayersRead, LayersCached int
	// CompressedBytes and UncompressedBytes are what this scan read
	// (layers from the Cache cost nothing).
	CompressedBytes, UncompressedBytes int64
	// Files counts the regular files of the layers read or cached,
	// including files that later layers remove.
	Files int
}

// GapKind names why a scan is incomplete; it is fit for a metric label.
type GapKind string

// The kinds of Gap.
const (
	// GapMediaType: a layer is not a filesystem layer (an artifact, an
	// in-toto attestation, an encrypted layer); it is skipped.
	GapMediaType GapKind = "media-type"
	// GapFetch: a layer, or the image's layer list, could not be read
	// from its source (the registry); later layers are still read.
	GapFetch GapKind = "fetch"
	// GapCorrupt: a layer is truncated or is not a valid compressed tar;
	// what was read of it is kept, later layers are still read.
	GapCorrupt GapKind = "corrupt"
	// GapCompressedBudget: Options.MaxCompressedBytes stopped the scan.
	GapCompressedBudget GapKind = "compressed-budget"
	// GapUncompressedBudget: Options.MaxUncompressedBytes stopped the scan.
	GapUncompressedBudget GapKind = "uncompressed-budget"
	// GapDeadline: the context's deadline stopped the scan.
	GapDeadline GapKind = "deadline"
	// GapCanceled: the context was canceled.
	GapCanceled GapKind = "canceled"
)

// Gap is one reason a Result is incomplete.
type Gap struct {
	Kind GapKind
	// Layer is the digest of the layer concerned; zero when the gap is
	// about the whole image (a budget, the deadline).
	Layer v1.Hash
	// Reason is an operator's sentence: what stopped, where, and why.
	Reason string
}

// formatBytes renders a byte count for a reason: "512 B", "64 MiB",
// "1.5 GiB".
func formatBytes(n int64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(1024), 0
	for m := n / 1024; m >= 1024 && exp < len(units)-1; m /= 1024 {
		div *= 1024
		exp++
	}
	unit := " " + units[exp:exp+1] + "iB"
	if n%div == 0 {
		return strconv.FormatInt(n/div, 10) + unit
	}
	return strconv.FormatFloat(float64(n)/float64(div), 'f', 1, 64) + unit
}
