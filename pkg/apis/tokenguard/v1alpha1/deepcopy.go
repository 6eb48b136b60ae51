package v1alpha1

import (
	"maps"

	"k8s.io/apimachinery/pkg/runtime"
)

// The deep copies are written by hand (what deepcopy-gen would generate);
// TestDeepCopy fills every field by reflection and fails when a field is
// added here but not copied.

// DeepCopyInto copies in into out, sharing no memory.
func (in *ImageEvidence) DeepCopyInto(out *ImageEvidence) {
	*out = *in
	out.TypeMeta = in.TypeMeta
	in.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	in.Spec.DeepCopyInto(&out.Spec)
	in.Status.DeepCopyInto(&out.Status)
}

// DeepCopy returns a deep copy of in; nil for nil.
func (in *ImageEvidence) DeepCopy() *ImageEvidence {
	if in == nil {
		return nil
	}
	out := new(ImageEvidence)
	in.DeepCopyInto(out)
	return out
}

// DeepCopyObject implements runtime.Object.
func (in *ImageEvidence) DeepCopyObject() runtime.Object {
	if c := in.DeepCopy(); c != nil {
		return c
	}
	return nil
}

// DeepCopyInto copies in into out, sharing no memory.
func (in *ImageEvidenceSpec) DeepCopyInto(out *ImageEvidenceSpec) {
	*out = *in
	if in.Images != nil {
		out.Images = make([]string, len(in.Images))
		copy(out.Images, in.Images)
	}
}

// DeepCopy returns a deep copy of in; nil for nil.
func (in *ImageEvidenceSpec) DeepCopy() *ImageEvidenceSpec {
	if in == nil {
		return nil
	}
	out := new(ImageEvidenceSpec)
	in.DeepCopyInto(out)
	return out
}

// DeepCopyInto copies in into out, sharing no memory.
func (in *ImageEvidenceStatus) DeepCopyInto(out *ImageEvidenceStatus) {
	*out = *in
	if in.Packages != nil {
		out.Packages = make([]Package, len(in.Packages))
		copy(out.Packages, in.Packages) // Package holds only strings
	}
	if in.Labels != nil {
		out.Labels = maps.Clone(in.Labels)
	}
	if in.Tags != nil {
		out.Tags = make([]TagCheck, len(in.Tags))
		copy(out.Tags, in.Tags) // TagCheck holds only strings and a bool
	}
	if in.Platforms != nil {
		out.Platforms = make([]string, len(in.Platforms))
		copy(out.Platforms, in.Platforms)
	}
	if in.ObservedTime != nil {
		out.ObservedTime = in.ObservedTime.DeepCopy()
	}
	if in.LastSeenRunning != nil {
		out.LastSeenRunning = in.LastSeenRunning.DeepCopy()
	}
}

// DeepCopy returns a deep copy of in; nil for nil.
func (in *ImageEvidenceStatus) DeepCopy() *ImageEvidenceStatus {
	if in == nil {
		return nil
	}
	out := new(ImageEvidenceStatus)
	in.DeepCopyInto(out)
	return out
}

// DeepCopyInto copies in into out.
func (in *Package) DeepCopyInto(out *Package) { *out = *in }

// DeepCopy returns a copy of in; nil for nil.
func (in *Package) DeepCopy() *Package {
	if in == nil {
		return nil
	}
	out := *in
	return &out
}

// DeepCopyInto copies in into out.
func (in *TagCheck) DeepCopyInto(out *TagCheck) { *out = *in }

// DeepCopy returns a copy of in; nil for nil.
func (in *TagCheck) DeepCopy() *TagCheck {
	if in == nil {
		return nil
	}
	out := *in
	return &out
}

// DeepCopyInto copies in into out, sharing no memory.
func (in *ImageEvidenceList) DeepCopyInto(out *ImageEvidenceList) {
	*out = *in
	out.TypeMeta = in.TypeMeta
	in.ListMeta.DeepCopyInto(&out.ListMeta)
	if in.Items != nil {
		out.Items = make([]ImageEvidence, len(in.Items))
		for i := range in.Items {
			in.Items[i].DeepCopyInto(&out.Items[i])
		}
	}
}

// DeepCopy returns a deep copy of in; nil for nil.
func (in *ImageEvidenceList) DeepCopy() *ImageEvidenceList {
	if in == nil {
		return nil
	}
	out := new(ImageEvidenceList)
	in.DeepCopyInto(out)
	return out
}

// DeepCopyObject implements runtime.Object.
func (in *ImageEvidenceList) DeepCopyObject() runtime.Object {
	if c := in.DeepCopy(); c != nil {
		return c
	}
	return nil
}
