package corpus

import (
	"fmt"
	"os"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// busyboxLayer is a minimal base: one multi-call binary, its links, and
// the usual /etc files. It holds no SDK.
func busyboxLayer() *tarLayer {
	l := newTarLayer()
	bin, err := os.ReadFile("/usr/bin/true")
	if err != nil {
		bin = []byte("\x7fELF placeholder\n")
	}
	l.file("/bin/busybox", 0o755, bin)
	for _, n := range []string{"sh", "ls", "cat", "cp", "mv", "rm", "wget", "vi"} {
		l.symlink("/bin/"+n, "busybox")
	}
	l.file("/etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"))
	l.file("/etc/group", 0o644, []byte("root:x:0:\nnobody:x:65534:\n"))
	l.file("/etc/os-release", 0o644, []byte("NAME=\"BusyBox\"\nID=busybox\n"))
	l.dir("/tmp")
	l.dir("/root")
	return l
}

// noSDKImage is an image without any SDK.
func (b *builder) noSDKImage() Image {
	return Image{
		Name:  "base/no-sdk",
		Image: b.image(docker, amd64, []string{"/bin/sh"}, b.layers(docker, busyboxLayer())...),
		Note:  "a busybox-like base with no SDK at all",
	}
}

// zstdImage has a zstd-compressed layer.
func (b *builder) zstdImage() Image {
	l := newTarLayer()
	w := b.npm(l, "@kubernetes/client-node", "1.4.0", "/srv/app/node_modules/@kubernetes/client-node")
	l.file("/srv/app/package.json", 0o644, packageJSON("kube-app", "1.0.0", map[string]string{"@kubernetes/client-node": "^1.4.0"}))
	z, err := l.layer(zstdCompressed, types.OCILayerZStd)
	b.must(err)
	layers := append(b.layers(oci, busyboxLayer()), z)
	return Image{
		Name:  "node/zstd",
		Image: b.image(oci, amd64, []string{"node", "/srv/app"}, layers...),
		Want:  []WantPackage{w},
		Note:  "an OCI image whose second layer is zstd-compressed (client-node 1.4.0) on a gzip base",
	}
}

// largeImage puts an old client-node above 320 MiB of real files.
func (b *builder) largeImage() Image {
	b.t.Helper()
	start := time.Now()
	usr, st, err := hostUsrLayer(b.t)
	b.must(err)
	b.t.Logf("large layer: %d files (%.0f MiB), %d symbolic links from the host's %s; %d entries skipped; in %v",
		st.files, float64(st.bytes)/(1<<20), st.links, strings.Join(hostUsrRoots, ", "), st.skipped, time.Since(start).Round(time.Millisecond))
	l := newTarLayer()
	w := b.npm(l, "@kubernetes/client-node", "0.10.2", "/opt/app/node_modules/@kubernetes/client-node")
	l.file("/opt/app/package.json", 0o644, packageJSON("kube-app", "1.0.0", map[string]string{"@kubernetes/client-node": "0.10.2"}))
	layers := append([]v1.Layer{usr}, b.layers(docker, l)...)
	return Image{
		Name:  "large/usr",
		Image: b.image(docker, amd64, []string{"node", "/opt/app"}, layers...),
		Want:  []WantPackage{w},
		Note:  fmt.Sprintf("%.0f MiB of real files (%d) copied from the host's /usr in layer 1, client-node 0.10.2 in layer 2", float64(st.bytes)/(1<<20), st.files),
	}
}
