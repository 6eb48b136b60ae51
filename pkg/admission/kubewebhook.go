package admission

import (
	"github.com/slok/kubewebhook/v2/pkg/model"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tokenguard/tokenguard/pkg/workload"
)

// This file is the one seam between tokenguard's decoding and kubewebhook's
// webhook layer. Handler decodes a workload's review in one pass, objects
// included; kubewebhook's model carries objects only as raw bytes, but it
// also carries the review as decoded (model.AdmissionReview's
// OriginalAdmissionReview, where kubewebhook's own HTTP handler puts its
// admissionv1.AdmissionReview). decodedReview is tokenguard's decoded form
// of the review, and rides there; reviews decoded elsewhere (kubewebhook's
// handler, tests) carry none and are read from their raw bytes.

// decodedReview is an AdmissionReview's objects as Handler decoded them;
// nil: absent or null.
type decodedReview struct {
	metav1.TypeMeta
	newObject, oldObject *workload.Object
}

// DeepCopyObject makes decodedReview a runtime.Object. The objects are
// read-only once decoded, so a shallow copy is a copy.
func (d *decodedReview) DeepCopyObject() runtime.Object {
	c := *d
	return &c
}

// decodedObjects reads a review's objects: from the decoded review when
// Handler made one, else from the raw bytes.
type decodedObjects struct{ decoded *decodedReview }

func decodedObjectsOf(ar *model.AdmissionReview) decodedObjects {
	d, _ := ar.OriginalAdmissionReview.(*decodedReview)
	return decodedObjects{decoded: d}
}

// object is the workload of the review's object.
func (o decodedObjects) object(ar *model.AdmissionReview) (workload.Workload, bool, error) {
	if o.decoded != nil && o.decoded.newObject != nil {
		return o.decoded.newObject.Workload(ar.RequestGVK.Group, ar.RequestGVK.Kind)
	}
	return workload.FromJSON(ar.RequestGVK.Group, ar.RequestGVK.Kind, ar.NewObjectRaw)
}

// oldObject is the workload of an UPDATE's old object; ok is false when
// there is none.
func (o decodedObjects) oldObject(ar *model.AdmissionReview) (workload.Workload, bool, error) {
	switch {
	case o.decoded != nil && o.decoded.oldObject != nil:
		return o.decoded.oldObject.Workload(ar.RequestGVK.Group, ar.RequestGVK.Kind)
	case len(ar.OldObjectRaw) > 0:
		return workload.FromJSON(ar.RequestGVK.Group, ar.RequestGVK.Kind, ar.OldObjectRaw)
	}
	return workload.Workload{}, false, nil
}
