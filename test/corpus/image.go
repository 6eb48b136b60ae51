package corpus

import (
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Image is one image of the corpus: a single-platform image or a
// multi-platform index, with the packages its build put in it.
type Image struct {
	// Name is the image's repository name in the registry ("go/client-go-v0.37.2").
	Name string
	// Image is set for a single-platform image, Index for a multi-platform
	// one; never both.
	Image v1.Image
	Index v1.ImageIndex
	// Want is the ground truth: every package of interest the image holds
	// after its layers are applied, from how the image was built (never
	// from a scanner).
	Want []WantPackage
	// Absent lists packages of interest that a layer added and a later
	// layer removed (a whiteout, an opaque directory), or that a file
	// names without installing (an app's package.json range): a scanner
	// that reports one is wrong.
	Absent []WantPackage
	// Note says what the image is for.
	Note string
}

// WantPackage is a package of interest and where it is in an image.
type WantPackage struct {
	// Type, Namespace and Name identify the package as a purl does:
	// "golang" "k8s.io" "client-go", "npm" "@kubernetes" "client-node",
	// "pypi" "" "kubernetes", "maven" "io.kubernetes" "client-java",
	// "nuget" "" "KubernetesClient", "gem" "" "kubernetes-io".
	Type, Namespace, Name string
	// Version as the ecosystem writes it ("v11.0.0+incompatible", "0.10.2",
	// "1.0.0.pre.alpha2").
	Version string
	// Path is the file in the image that records the version; inside an
	// archive, the archive's path, "!", and the member's path
	// ("/app/app.jar!/BOOT-INF/lib/client-java-8.0.2.jar").
	Path string
	// Platform is the image's platform ("linux/amd64").
	Platform string
}

// ID is the package's identity without the version, as a purl writes it:
// "golang/k8s.io/client-go", "pypi/kubernetes".
func (p WantPackage) ID() string {
	if p.Namespace == "" {
		return p.Type + "/" + p.Name
	}
	return p.Type + "/" + p.Namespace + "/" + p.Name
}

// String is ID@Version, then the path and platform.
func (p WantPackage) String() string {
	return p.ID() + "@" + p.Version + " " + p.Path + " (" + p.Platform + ")"
}
