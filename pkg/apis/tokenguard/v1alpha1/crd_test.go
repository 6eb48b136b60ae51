package v1alpha1

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/tokenguard/tokenguard/deploy/crds"
)

// crd is the part of a CustomResourceDefinition the tests read (the
// apiextensions Go types are not a dependency of this module).
type crd struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Group string `json:"group"`
		Scope string `json:"scope"`
		Names struct {
			Kind       string   `json:"kind"`
			ListKind   string   `json:"listKind"`
			Plural     string   `json:"plural"`
			Singular   string   `json:"singular"`
			ShortNames []string `json:"shortNames"`
		} `json:"names"`
		Versions []struct {
			Name         string `json:"name"`
			Served       bool   `json:"served"`
			Storage      bool   `json:"storage"`
			Subresources struct {
				Status *struct{} `json:"status"`
			} `json:"subresources"`
			AdditionalPrinterColumns []struct {
				Name     string `json:"name"`
				Type     string `json:"type"`
				JSONPath string `json:"jsonPath"`
				Priority int    `json:"priority"`
			} `json:"additionalPrinterColumns"`
			Schema struct {
				OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
			} `json:"schema"`
		} `json:"versions"`
	} `json:"spec"`
}

func loadCRD(t *testing.T) *crd {
	t.Helper()
	var c crd
	if err := yaml.Unmarshal(crds.ImageEvidenceYAML, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

// TestCRDNames holds the CRD's names to the constants of register.go.
func TestCRDNames(t *testing.T) {
	c := loadCRD(t)
	if c.APIVersion != "apiextensions.k8s.io/v1" || c.Kind != "CustomResourceDefinition" {
		t.Errorf("%s %s", c.APIVersion, c.Kind)
	}
	s := &c.Spec
	if want := ImageEvidencePlural + "." + GroupName; c.Metadata.Name != want {
		t.Errorf("metadata.name %q, want %q", c.Metadata.Name, want)
	}
	if s.Group != GroupName || s.Scope != "Cluster" {
		t.Errorf("group %q scope %q", s.Group, s.Scope)
	}
	n := s.Names
	if n.Kind != ImageEvidenceKind || n.ListKind != ImageEvidenceListKind || n.Plural != ImageEvidencePlural ||
		n.Singular != ImageEvidenceSingular || !slices.Equal(n.ShortNames, []string{ImageEvidenceShortName}) {
		t.Errorf("names %+v", n)
	}
	if len(s.Versions) != 1 {
		t.Fatalf("%d versions", len(s.Versions))
	}
	v := s.Versions[0]
	if v.Name != Version || !v.Served || !v.Storage || v.Subresources.Status == nil {
		t.Errorf("version %s served %v storage %v status subresource %v", v.Name, v.Served, v.Storage, v.Subresources.Status != nil)
	}
	// What `kubectl get imageevidences` prints.
	want := map[string]string{"Digest": ".spec.digest", "Packages": ".status.summary", "Scan": ".status.scan", "Age": ".metadata.creationTimestamp"}
	var shown []string
	for _, col := range v.AdditionalPrinterColumns {
		if col.Priority == 0 {
			shown = append(shown, col.Name)
		}
		if p, ok := want[col.Name]; ok && p != col.JSONPath {
			t.Errorf("column %s shows %s, want %s", col.Name, col.JSONPath, p)
		}
	}
	if !slices.Equal(shown, []string{"Digest", "Packages", "Scan", "Age"}) {
		t.Errorf("columns %v", shown)
	}
}

// TestCRDSchemaMatchesTypes walks the CRD's schema beside the Go types:
// the same fields, JSON types and required fields, and every list and
// string capped at the constant of types.go.
func TestCRDSchemaMatchesTypes(t *testing.T) {
	caps := map[string]int{
		"spec.digest":                 MaxDigestLength,
		"spec.images":                 MaxImages,
		"spec.images[]":               MaxImageLength,
		"status.packages":             MaxPackages,
		"status.packages[].type":      MaxTypeLength,
		"status.packages[].namespace": MaxNameLength,
		"status.packages[].name":      MaxNameLength,
		"status.packages[].version":   MaxVersionLength,
		"status.packages[].purl":      MaxPURLLength,
		"status.packages[].source":    MaxSourceLength,
		"status.packages[].file":      MaxFileLength,
		"status.packages[].platform":  MaxPlatformLength,
		"status.labels":               MaxLabels,
		"status.labels{}":             MaxVersionLength,
		"status.sbom":                 MaxSourceLength,
		"status.layers":               MaxSourceLength,
		"status.layersIncomplete":     MaxReasonLength,
		"status.unavailable":          MaxReasonLength,
		"status.tags":                 MaxTags,
		"status.tags[].image":         MaxImageLength,
		"status.tags[].reason":        MaxReasonLength,
		"status.platforms":            MaxPlatforms,
		"status.platforms[]":          MaxPlatformLength,
		"status.catalogVersion":       MaxCatalogVersionLength,
		"status.summary":              MaxSummaryLength,
	}
	root := loadCRD(t).Spec.Versions[0].Schema.OpenAPIV3Schema
	w := &schemaWalk{t: t, caps: caps, seen: map[string]bool{}}
	w.walk("", reflect.TypeFor[ImageEvidence](), root)
	for p := range caps {
		if !w.seen[p] {
			t.Errorf("%s: capped in the test but not in the schema", p)
		}
	}

	labels := root["properties"].(map[string]any)["status"].(map[string]any)["properties"].(map[string]any)["labels"].(map[string]any)
	if rules := fmt.Sprint(labels["x-kubernetes-validations"]); !strings.Contains(rules, fmt.Sprintf("size(k) <= %d", MaxLabelKeyLength)) {
		t.Errorf("status.labels: no rule bounds keys to MaxLabelKeyLength (%d): %s", MaxLabelKeyLength, rules)
	}
	scan := root["properties"].(map[string]any)["status"].(map[string]any)["properties"].(map[string]any)["scan"].(map[string]any)
	if enum := fmt.Sprint(scan["enum"]); enum != fmt.Sprint([]any{ScanComplete, ScanIncomplete}) {
		t.Errorf("status.scan enum %s", enum)
	}

	// The digest pattern accepts what ValidDigest accepts.
	digest := root["properties"].(map[string]any)["spec"].(map[string]any)["properties"].(map[string]any)["digest"].(map[string]any)
	re := regexp.MustCompile(digest["pattern"].(string))
	hex := strings.Repeat("0123456789abcdef", 8)
	for _, d := range []string{
		"sha256:" + hex[:64], "sha384:" + hex[:96], "sha512:" + hex, "sha256:" + hex[:63], "sha256:" + hex[:65],
		"sha256:" + strings.ToUpper(hex[:64]), "sha1:" + hex[:40], "sha512:" + hex[:64], hex[:64],
	} {
		if re.MatchString(d) != ValidDigest(d) {
			t.Errorf("pattern %s and ValidDigest disagree on %q", re, d)
		}
	}
}

type schemaWalk struct {
	t    *testing.T
	caps map[string]int
	seen map[string]bool
}

func (w *schemaWalk) walk(path string, typ reflect.Type, s map[string]any) {
	t := w.t
	t.Helper()
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	want := func(key string, value any) {
		if got, ok := s[key]; !ok || fmt.Sprint(got) != fmt.Sprint(value) {
			t.Errorf("%s: %s is %v, want %v", path, key, got, value)
		}
	}
	capped := func(key string) {
		w.seen[path] = true
		c, ok := w.caps[path]
		if !ok {
			t.Errorf("%s: the test names no cap for it", path)
			return
		}
		want(key, c)
	}
	switch {
	case typ == reflect.TypeFor[metav1.Time]():
		want("type", "string")
		want("format", "date-time")
	case typ == reflect.TypeFor[metav1.ObjectMeta]():
		want("type", "object")
	case typ.Kind() == reflect.Struct:
		want("type", "object")
		props, _ := s["properties"].(map[string]any)
		var names, required []string
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			tag := f.Tag.Get("json")
			name, opts, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" { // TypeMeta: apiVersion, kind
				for _, n := range []string{"apiVersion", "kind"} {
					names = append(names, n)
					w.walk(join(path, n), reflect.TypeFor[string](), asMap(props[n]))
				}
				continue
			}
			names = append(names, name)
			if !strings.Contains(opts, "omitempty") {
				required = append(required, name)
			}
			sub, ok := props[name]
			if !ok {
				t.Errorf("%s: the schema has no property %q (%s.%s)", path, name, typ.Name(), f.Name)
				continue
			}
			w.walk(join(path, name), f.Type, asMap(sub))
		}
		for name := range props {
			if !slices.Contains(names, name) {
				t.Errorf("%s: the schema's property %q is no field of %s", path, name, typ.Name())
			}
		}
		var got []string
		if r, ok := s["required"].([]any); ok {
			for _, v := range r {
				got = append(got, v.(string))
			}
		}
		slices.Sort(got)
		slices.Sort(required)
		if !slices.Equal(got, required) {
			t.Errorf("%s: required %v, want %v (the fields without omitempty)", path, got, required)
		}
	case typ.Kind() == reflect.String:
		want("type", "string")
		_, enum := s["enum"]
		if path != "apiVersion" && path != "kind" && !enum {
			capped("maxLength")
		}
	case typ.Kind() == reflect.Bool:
		want("type", "boolean")
	case typ.Kind() == reflect.Int32:
		want("type", "integer")
		want("format", "int32")
	case typ.Kind() == reflect.Slice:
		want("type", "array")
		capped("maxItems")
		w.walk(path+"[]", typ.Elem(), asMap(s["items"]))
	case typ.Kind() == reflect.Map:
		want("type", "object")
		capped("maxProperties")
		w.walk(path+"{}", typ.Elem(), asMap(s["additionalProperties"]))
	default:
		t.Errorf("%s: no schema check for %s", path, typ)
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
