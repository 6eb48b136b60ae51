package layers

import (
	"cmp"
	"slices"

	"github.com/tokenguard/tokenguard/pkg/sdkdetect/filecat"
)

// merge applies layer summaries in order, bottom layer first, and returns
// the findings and notes of files present in the merged filesystem, sorted.
// For each layer, over what the layers below it left:
//  1. its hard links to files of lower layers take those files' findings;
//  2. its whiteouts delete a path and everything under it, its opaque
//     directories everything under them;
//  3. a path it writes hides the lower file at that path, and a
//     non-directory it writes hides everything under its path;
//  4. its own findings are added.
//
// merge does not modify the summaries.
func merge(sums []*LayerSummary) ([]filecat.Found, []filecat.Note) {
	state := map[string]fileResult{}
	for _, s := range sums {
		var linked []hardLinked
		for _, l := range s.hardLinks {
			if r, ok := state[l.target]; ok {
				linked = append(linked, hardLinked{l.path, relink(r, l.target, l.path)})
			}
		}
		for p := range state {
			if s.deletes(p) || s.hides(p) {
				delete(state, p)
			}
		}
		for p, r := range s.files {
			state[p] = r
		}
		for _, l := range linked {
			state[l.path] = l.result
		}
	}
	var found []filecat.Found
	var notes []filecat.Note
	for _, r := range state {
		found = append(found, r.found...)
		notes = append(notes, r.notes...)
	}
	slices.SortFunc(found, compareFound)
	slices.SortFunc(notes, func(a, b filecat.Note) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Reason, b.Reason))
	})
	return slices.Compact(found), slices.Compact(notes)
}

type hardLinked struct {
	path   string
	result fileResult
}

// deletes reports whether the layer's whiteouts or opaque directories
// delete a lower layer's file at p.
func (s *LayerSummary) deletes(p string) bool {
	for _, w := range s.whiteouts {
		if within(p, w) {
			return true
		}
	}
	for _, d := range s.opaque {
		if under(p, d) {
			return true
		}
	}
	return false
}

// relink copies what was found in the file at target for a hard link at
// path: the same content, another name.
func relink(r fileResult, target, path string) fileResult {
	out := fileResult{
		found: make([]filecat.Found, len(r.found)),
		notes: make([]filecat.Note, len(r.notes)),
	}
	for i, f := range r.found {
		f.File = rename(f.File, target, path)
		out.found[i] = f
	}
	for i, n := range r.notes {
		n.File = rename(n.File, target, path)
		out.notes[i] = n
	}
	return out
}

// rename replaces the file part of a finding's location: "/a" → "/b",
// "/a!/inner.jar" → "/b!/inner.jar". A location about another file is
// left alone.
func rename(loc, from, to string) string {
	if len(loc) >= len(from) && loc[:len(from)] == from && (len(loc) == len(from) || loc[len(from)] == '!') {
		return to + loc[len(from):]
	}
	return loc
}

func compareFound(a, b filecat.Found) int {
	pa, pb := &a.Package, &b.Package
	return cmp.Or(
		cmp.Compare(a.File, b.File),
		cmp.Compare(pa.Type, pb.Type),
		cmp.Compare(pa.Namespace, pb.Namespace),
		cmp.Compare(pa.Name, pb.Name),
		cmp.Compare(pa.Version, pb.Version),
		cmp.Compare(pa.Source, pb.Source),
		cmp.Compare(pa.Platform, pb.Platform),
	)
}
