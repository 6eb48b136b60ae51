package layers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Scan reads img's layers in order and returns what the catalogers found in
// its merged filesystem. Registry failures, corrupt layers, budgets and
// the context's end make the Result incomplete; they are not errors. The
// error is for a programming mistake only: a nil context, image, layer or
// cataloger.
func Scan(ctx context.Context, img v1.Image, opts Options) (Result, error) {
	if ctx == nil {
		return Result{}, errors.New("layers: nil context")
	}
	if img == nil {
		return Result{}, errors.New("layers: nil image")
	}
	layers, err := img.Layers()
	if err != nil {
		r := Result{Gaps: []Gap{{Kind: GapFetch, Reason: "cannot list the image's layers: " + err.Error()}}}
		r.Reason = r.Gaps[0].Reason
		return r, nil
	}
	return ScanLayers(ctx, layers, opts)
}

// ScanLayers is Scan over layers given bottom first.
func ScanLayers(ctx context.Context, layers []v1.Layer, opts Options) (Result, error) {
	if ctx == nil {
		return Result{}, errors.New("layers: nil context")
	}
	for i, l := range layers {
		if l == nil {
			return Result{}, fmt.Errorf("layers: layer %d is nil", i)
		}
	}
	for i, c := range opts.Catalogers {
		if c == nil {
			return Result{}, fmt.Errorf("layers: cataloger %d is nil", i)
		}
	}
	opts = opts.withDefaults()
	s := &scan{
		opts:   opts,
		key:    opts.summaryKey(),
		b:      newBudget(ctx, opts),
		result: Result{Layers: len(layers)},
	}
	s.ls = getLayerScanner(opts, s.b)
	defer s.ls.release()
	sums := make([]*LayerSummary, 0, len(layers))
	for i, l := range layers {
		sum, stop := s.layer(ctx, i, l)
		if sum != nil {
			sums = append(sums, sum)
			s.result.Files += sum.regularFiles
		}
		if stop {
			break
		}
	}
	r := s.result
	r.CompressedBytes, r.UncompressedBytes = s.b.compressed, s.b.tar
	r.Found, r.Notes = merge(sums)
	r.Complete = len(r.Gaps) == 0
	reasons := make([]string, len(r.Gaps))
	for i, g := range r.Gaps {
		reasons[i] = g.Reason
	}
	r.Reason = strings.Join(reasons, "; ")
	return r, nil
}

// scan is the state of one ScanLayers call.
type scan struct {
	opts   Options
	key    string
	b      *budget
	ls     *layerScanner
	result Result
}

// layer reads or fetches from the cache the summary of layer i, or says
// why it has none. stop ends the scan.
func (s *scan) layer(ctx context.Context, i int, l v1.Layer) (sum *LayerSummary, stop bool) {
	if st := s.b.stopped(); st != nil {
		s.stopGap(st, v1.Hash{}, "")
		return nil, true
	}
	digest, derr := l.Digest()
	name := fmt.Sprintf("layer %d of %d", i+1, s.result.Layers)
	if derr == nil {
		name += " (" + digest.String() + ")"
	}
	mt, err := l.MediaType()
	if err != nil {
		s.gap(GapFetch, digest, fmt.Sprintf("%s has no media type: %v", name, err))
		return nil, false
	}
	switch classifyMediaType(mt) {
	case mediaEncrypted:
		s.gap(GapMediaType, digest, fmt.Sprintf("%s is encrypted (%q)", name, mt))
		return nil, false
	case mediaOther:
		s.gap(GapMediaType, digest, fmt.Sprintf("%s has media type %q, not a filesystem layer", name, mt))
		return nil, false
	}
	cache := s.opts.Cache
	if cache != nil && derr == nil {
		if sum, ok := cache.Get(digest); ok && sum != nil && sum.key == s.key {
			s.result.LayersCached++
			return sum, false
		}
	}
	// A layer whose size is known and would pass the budget is not
	// started: reading part of it would spend the registry's bandwidth
	// on a result that is incomplete anyway.
	if size, err := l.Size(); err == nil && size > s.b.maxCompressed-s.b.compressed {
		s.gap(GapCompressedBudget, digest, fmt.Sprintf(
			"stopped after %s of compressed layers (read %d of %d layers): %s of %s would pass the %s budget",
			formatBytes(s.b.compressed), s.done(), s.result.Layers, name, formatBytes(size), formatBytes(s.b.maxCompressed)))
		return nil, true
	}
	sum, err = s.ls.read(ctx, l)
	sum.digest, sum.key = digest, s.key
	if err == nil {
		s.result.LayersRead++
		if cache != nil && derr == nil {
			cache.Put(digest, sum)
		}
		return sum, false
	}
	if st := s.b.stopped(); st != nil {
		s.stopGap(st, digest, name)
		return sum, true
	}
	var fe *fetchError
	switch {
	case errors.As(err, &fe) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		s.gap(GapFetch, digest, fmt.Sprintf("%s could not be read: %v", name, err))
	case errors.Is(err, errImplausible):
		s.gap(GapCorrupt, digest, fmt.Sprintf("%s: %v", name, err))
	default:
		s.gap(GapCorrupt, digest, fmt.Sprintf("%s is truncated or corrupt: %v", name, err))
	}
	return sum, false
}

// done counts the layers whose summaries the scan has.
func (s *scan) done() int { return s.result.LayersRead + s.result.LayersCached }

// stopGap records why the scan stopped; name is the layer being read, if
// any.
func (s *scan) stopGap(st *stopError, digest v1.Hash, name string) {
	where := fmt.Sprintf("%d of %d layers", s.done(), s.result.Layers)
	var reason string
	switch st.kind {
	case GapCompressedBudget:
		reason = fmt.Sprintf("stopped after %s of compressed layers, the budget (read %s)", formatBytes(s.b.maxCompressed), where)
	case GapUncompressedBudget:
		reason = fmt.Sprintf("stopped after %s of decompressed layer data, the budget (read %s)", formatBytes(s.b.maxTar), where)
	case GapDeadline:
		reason = "stopped at the deadline after reading " + where
	default:
		reason = "canceled after reading " + where
	}
	if name != "" {
		reason += ", in " + name
	}
	s.gap(st.kind, digest, reason)
}

func (s *scan) gap(kind GapKind, layer v1.Hash, reason string) {
	s.result.Gaps = append(s.result.Gaps, Gap{Kind: kind, Layer: layer, Reason: reason})
}
