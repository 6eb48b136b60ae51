package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The API group, version and the ImageEvidence resource's names, as the CRD
// (deploy/crds/tokenguard.io_imageevidences.yaml) declares them.
const (
	GroupName = "tokenguard.io"
	Version   = "v1alpha1"

	ImageEvidenceKind      = "ImageEvidence"
	ImageEvidenceListKind  = "ImageEvidenceList"
	ImageEvidencePlural    = "imageevidences"
	ImageEvidenceSingular  = "imageevidence"
	ImageEvidenceShortName = "ie"
)

// SchemeGroupVersion is tokenguard.io/v1alpha1.
var SchemeGroupVersion = schema.GroupVersion{Group: GroupName, Version: Version}

// ImageEvidenceResource is the resource of ImageEvidence objects, for
// dynamic clients and informers.
var ImageEvidenceResource = SchemeGroupVersion.WithResource(ImageEvidencePlural)

// Resource qualifies a resource name with the group.
func Resource(resource string) schema.GroupResource {
	return SchemeGroupVersion.WithResource(resource).GroupResource()
}

var (
	// SchemeBuilder registers this version's types.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)
	// AddToScheme adds ImageEvidence and ImageEvidenceList (and the meta
	// types every group version carries: ListOptions, DeleteOptions...) to
	// a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(SchemeGroupVersion, &ImageEvidence{}, &ImageEvidenceList{})
	metav1.AddToGroupVersion(scheme, SchemeGroupVersion)
	return nil
}
