package v1alpha1

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
)

// fill sets every settable field reachable from v to a non-zero value:
// strings to their path, numbers to 1, slices to two elements, maps to two
// entries, pointers to a new filled value. New fields are filled too, so
// a deep copy that forgets one shows up in TestDeepCopy.
func fill(v reflect.Value, path string) {
	if v.Type() == reflect.TypeFor[time.Time]() {
		v.Set(reflect.ValueOf(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(path)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), path)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := 0; i < 2; i++ {
			fill(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		for i := 0; i < 2; i++ {
			k := reflect.New(v.Type().Key()).Elem()
			fill(k, fmt.Sprintf("%s.key%d", path, i))
			e := reflect.New(v.Type().Elem()).Elem()
			fill(e, fmt.Sprintf("%s.value%d", path, i))
			v.SetMapIndex(k, e)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if f := v.Type().Field(i); f.IsExported() {
				fill(v.Field(i), path+"."+f.Name)
			}
		}
	}
}

// shared returns the path of the first pointer, slice or map that a and b
// share, "" when they share none.
func shared(a, b reflect.Value, path string) string {
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return ""
		}
		if a.Pointer() == b.Pointer() {
			return path
		}
		return shared(a.Elem(), b.Elem(), path)
	case reflect.Slice:
		if a.Len() > 0 && b.Len() > 0 && a.Pointer() == b.Pointer() {
			return path
		}
		for i := 0; i < min(a.Len(), b.Len()); i++ {
			if p := shared(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	case reflect.Map:
		if !a.IsNil() && a.Pointer() == b.Pointer() {
			return path
		}
		for _, k := range a.MapKeys() {
			if p := shared(a.MapIndex(k), b.MapIndex(k), path+"["+fmt.Sprint(k)+"]"); p != "" {
				return p
			}
		}
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if a.Type().Field(i).IsExported() {
				if p := shared(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); p != "" {
					return p
				}
			}
		}
	}
	return ""
}

func TestDeepCopy(t *testing.T) {
	var ie ImageEvidence
	fill(reflect.ValueOf(&ie).Elem(), "ie")
	list := &ImageEvidenceList{Items: []ImageEvidence{ie, *ie.DeepCopy()}}
	fill(reflect.ValueOf(&list.ListMeta).Elem(), "list")

	tests := []struct {
		name string
		in   runtime.Object
		copy func() any
	}{
		{"ImageEvidence", &ie, func() any { return ie.DeepCopy() }},
		{"ImageEvidence.DeepCopyObject", &ie, func() any { return ie.DeepCopyObject() }},
		{"ImageEvidenceList", list, func() any { return list.DeepCopyObject() }},
		{"ImageEvidenceSpec", nil, func() any { return ie.Spec.DeepCopy() }},
		{"ImageEvidenceStatus", nil, func() any { return ie.Status.DeepCopy() }},
		{"Package", nil, func() any { return ie.Status.Packages[0].DeepCopy() }},
		{"TagCheck", nil, func() any { return ie.Status.Tags[0].DeepCopy() }},
	}
	originals := map[string]any{
		"ImageEvidenceSpec": &ie.Spec, "ImageEvidenceStatus": &ie.Status,
		"Package": &ie.Status.Packages[0], "TagCheck": &ie.Status.Tags[0],
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var orig any = tt.in
			if tt.in == nil {
				orig = originals[tt.name]
			}
			got := tt.copy()
			if !reflect.DeepEqual(got, orig) {
				t.Fatalf("copy differs:\n got %+v\nwant %+v", got, orig)
			}
			if p := shared(reflect.ValueOf(got), reflect.ValueOf(orig), tt.name); p != "" {
				t.Errorf("the copy shares %s with the original", p)
			}
		})
	}

	// nil in, nil out.
	if (*ImageEvidence)(nil).DeepCopy() != nil || (*ImageEvidenceList)(nil).DeepCopy() != nil ||
		(*ImageEvidenceStatus)(nil).DeepCopy() != nil || (*ImageEvidenceSpec)(nil).DeepCopy() != nil ||
		(*Package)(nil).DeepCopy() != nil || (*TagCheck)(nil).DeepCopy() != nil {
		t.Error("DeepCopy of nil is not nil")
	}
	if o := (*ImageEvidence)(nil).DeepCopyObject(); o != nil {
		t.Errorf("DeepCopyObject of nil = %#v, want a nil interface", o)
	}
	if o := (*ImageEvidenceList)(nil).DeepCopyObject(); o != nil {
		t.Errorf("DeepCopyObject of nil list = %#v, want a nil interface", o)
	}
}
