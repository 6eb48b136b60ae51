package corpus

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"debug/buildinfo"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// hostUsrRoots are the host folders the large layer copies, in order, until
// its budget is reached: documentation and manual pages (many small
// files), then libraries (large ones), as a distribution's /usr has them;
// the rest in case those are small.
var hostUsrRoots = []string{"/usr/share/doc", "/usr/share/man", "/usr/lib", "/usr/share/locale", "/usr/share/i18n", "/usr/share/zoneinfo", "/usr/bin"}

const (
	// hostUsrBytes is how many bytes of regular files the large layer
	// copies at least (the last file may take it past).
	hostUsrBytes = 320 << 20
	// hostUsrMaxLinks caps the symbolic links it copies.
	hostUsrMaxLinks = 20000
)

// sdkNameFragments mark host files that might be SDK evidence themselves
// (a python package, a node module, a jar of a wanted artifact): the large
// layer leaves them out so that the image's ground truth stays what it
// was built with.
var sdkNameFragments = []string{"kubernetes", "client-go", "client-java", "client-node", "botocore", "boto3", "aws-sdk", "awssdk", "aws-java-sdk", "software.amazon"}

// hostUsrStats describes the large layer.
type hostUsrStats struct {
	files, links, skipped int
	bytes                 int64
}

// hostUsrLayer copies real files of the host (read only) into a gzip layer
// under t.TempDir: regular files, directories and up to hostUsrMaxLinks
// symbolic links of hostUsrRoots, unreadable files and special files
// skipped, until hostUsrBytes of file data.
func hostUsrLayer(t testing.TB) (v1.Layer, hostUsrStats, error) {
	t.Helper()
	var st hostUsrStats
	path := filepath.Join(t.TempDir(), "host-usr.tar.gz")
	f, err := os.Create(path)
	if err != nil {
		return nil, st, err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	zw, _ := gzip.NewWriterLevel(bw, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	seen := map[string]bool{}
	full := func() bool { return st.bytes >= hostUsrBytes }
	for _, root := range hostUsrRoots {
		if full() {
			break
		}
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if full() {
				return fs.SkipAll
			}
			if err != nil {
				st.skipped++
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if seen[p] {
				if d.IsDir() && p != root {
					return fs.SkipDir
				}
				return nil
			}
			seen[p] = true
			if mayBeSDK(p) {
				st.skipped++
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			return copyHostEntry(tw, p, d, &st)
		})
		if err != nil {
			return nil, st, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, st, err
	}
	if err := zw.Close(); err != nil {
		return nil, st, err
	}
	if err := bw.Flush(); err != nil {
		return nil, st, err
	}
	l, err := tarball.LayerFromFile(path, tarball.WithMediaType(types.DockerLayer))
	return l, st, err
}

// mayBeSDK reports whether a host path's name suggests SDK evidence.
func mayBeSDK(p string) bool {
	low := strings.ToLower(p)
	for _, s := range sdkNameFragments {
		if strings.Contains(low, s) {
			return true
		}
	}
	return false
}

// copyHostEntry writes one host entry into the tar.
func copyHostEntry(tw *tar.Writer, p string, d fs.DirEntry, st *hostUsrStats) error {
	info, err := d.Info()
	if err != nil {
		st.skipped++
		return nil
	}
	name := strings.TrimPrefix(p, "/")
	switch {
	case info.Mode().IsDir():
		h, err := tar.FileInfoHeader(info, "")
		if err != nil {
			st.skipped++
			return fs.SkipDir
		}
		h.Name, h.Uname, h.Gname, h.Format = name+"/", "", "", tar.FormatPAX
		return tw.WriteHeader(h)
	case info.Mode()&fs.ModeSymlink != 0:
		if st.links >= hostUsrMaxLinks {
			st.skipped++
			return nil
		}
		target, err := os.Readlink(p)
		if err != nil {
			st.skipped++
			return nil
		}
		h, err := tar.FileInfoHeader(info, target)
		if err != nil {
			st.skipped++
			return nil
		}
		h.Name, h.Uname, h.Gname, h.Format = name, "", "", tar.FormatPAX
		st.links++
		return tw.WriteHeader(h)
	case info.Mode().IsRegular():
		in, err := os.Open(p)
		if err != nil {
			st.skipped++
			return nil
		}
		defer in.Close()
		if info.Mode()&0o111 != 0 && linksWantedGoModule(in) {
			st.skipped++
			return nil
		}
		h, err := tar.FileInfoHeader(info, "")
		if err != nil {
			st.skipped++
			return nil
		}
		h.Name, h.Uname, h.Gname, h.Format = name, "", "", tar.FormatPAX
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		// A file that shrinks while copied is padded: the header is written.
		n, err := io.Copy(tw, io.LimitReader(in, info.Size()))
		if err != nil || n < info.Size() {
			if _, err := io.CopyN(tw, zeroReader{}, info.Size()-n); err != nil {
				return err
			}
		}
		st.files++
		st.bytes += info.Size()
		return nil
	}
	st.skipped++ // devices, pipes, sockets
	return nil
}

// linksWantedGoModule reports whether an executable is a Go program whose
// build info lists a Kubernetes or AWS SDK module.
func linksWantedGoModule(f *os.File) bool {
	defer f.Seek(0, io.SeekStart)
	bi, err := buildinfo.Read(f)
	if err != nil {
		return false
	}
	for _, d := range bi.Deps {
		if d.Path == "k8s.io/client-go" || strings.HasPrefix(d.Path, "github.com/aws/aws-sdk-go") {
			return true
		}
	}
	return false
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
