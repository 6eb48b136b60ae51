package staletoken

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// FileResult is one input in the JSON output of stale-tokens: its statistics, and the
// error that stopped reading it, if any.
type FileResult struct {
	FileStats
	Error string `json:"error,omitempty"`
}

// ReadPaths reads every path in order: a file, a directory (every
// regular file below it, in lexical order, skipping hidden names), or "-"
// for stdin. A path that cannot be read or is not an audit log is recorded
// with its error; the others are read all the same.
func ReadPaths(agg *Aggregator, paths []string, stdin io.Reader) []FileResult {
	var out []FileResult
	readOne := func(name string, r io.Reader) {
		st, err := agg.Read(name, r)
		res := FileResult{FileStats: st}
		if err != nil {
			res.Error = err.Error()
		}
		out = append(out, res)
	}
	failed := func(name string, err error) {
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Path == name {
			err = pe.Err
		}
		out = append(out, FileResult{FileStats: FileStats{Source: name, MalformedLines: []int64{}}, Error: err.Error()})
	}
	readFile := func(name string) {
		f, err := os.Open(name)
		if err != nil {
			failed(name, err)
			return
		}
		defer f.Close()
		readOne(name, f)
	}
	for _, p := range paths {
		if p == "-" {
			if stdin == nil {
				failed(p, errors.New("no standard input"))
				continue
			}
			readOne(p, stdin)
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			failed(p, err)
			continue
		}
		if !fi.IsDir() {
			readFile(p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				failed(path, err)
				return nil
			}
			if path != p && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				readFile(path)
			} else if d.Type()&fs.ModeSymlink != 0 {
				if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
					readFile(path)
				}
			}
			return nil
		})
		if err != nil {
			failed(p, err)
		}
	}
	return out
}
