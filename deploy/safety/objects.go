package safety

import (
	"encoding/json"
	"testing"
)

// Find decodes the first object of kind named name (any name when name is
// "") into T; none fails the test.
func Find[T any](t testing.TB, objs []map[string]any, kind, name string) *T {
	t.Helper()
	o := FindMap(t, objs, kind, name)
	data, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

// FindMap returns the first object of kind named name (any name when name
// is ""); none fails the test.
func FindMap(t testing.TB, objs []map[string]any, kind, name string) map[string]any {
	t.Helper()
	if o := Lookup(objs, kind, name); o != nil {
		return o
	}
	if name != "" {
		t.Fatalf("no %s %s", kind, name)
	}
	t.Fatalf("no %s", kind)
	return nil
}

// Lookup returns the first object of kind named name (any name when name
// is ""), or nil.
func Lookup(objs []map[string]any, kind, name string) map[string]any {
	for _, o := range objs {
		if o["kind"] != kind {
			continue
		}
		if name == "" || Nested[string](o, "metadata", "name") == name {
			return o
		}
	}
	return nil
}

// Kinds counts the objects of each kind.
func Kinds(objs []map[string]any) map[string]int {
	kinds := map[string]int{}
	for _, o := range objs {
		k, _ := o["kind"].(string)
		kinds[k]++
	}
	return kinds
}

// Nested returns the value at path in m, or T's zero value.
func Nested[T any](m map[string]any, path ...string) T {
	var zero T
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return zero
		}
		cur = mm[p]
	}
	v, _ := cur.(T)
	return v
}
