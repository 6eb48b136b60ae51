package workload

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/tokenguard/tokenguard/pkg/awsid"
	"github.com/tokenguard/tokenguard/pkg/policy"
)

// The json* types read only what token rules need from an object as the
// API server serialises it. Decoding into them skips everything else
// (managedFields, status, resources, probes...), which makes the admission
// path cheaper than decoding the full typed object.
type jsonObject struct {
	Metadata struct {
		Name        string             `json:"name"`
		Namespace   string             `json:"namespace"`
		Annotations jsonPodAnnotations `json:"annotations"`
	} `json:"metadata"`
	Spec jsonSpec `json:"spec"`
}

// jsonPodAnnotations keeps the pod annotations token rules read (the IRSA
// webhook's), matched exactly as the typed decode's map does: not with
// encoding/json's case-insensitive struct fields.
//
// Most pods carry none, and their annotations cost one pass over bytes
// encoding/json has scanned already: only annotations that hold
// "eks.amazonaws.com/ or an escape that could spell it (\u, \/) are
// decoded, into a map.
type jsonPodAnnotations struct {
	TokenExpiration string
	SkipContainers  string
}

var (
	quotedEKSPrefix = []byte(`"eks.amazonaws.com/`)
	unicodeEscape   = []byte(`\u`)
	slashEscape     = []byte(`\/`)
)

func (a *jsonPodAnnotations) UnmarshalJSON(data []byte) error {
	*a = jsonPodAnnotations{}
	if len(data) > 0 && data[0] == 'n' { // null
		return nil
	}
	if !bytes.Contains(data, quotedEKSPrefix) && !bytes.Contains(data, unicodeEscape) && !bytes.Contains(data, slashEscape) {
		if len(data) == 0 || data[0] != '{' {
			return &json.UnmarshalTypeError{Value: "annotations", Type: reflect.TypeFor[map[string]string]()}
		}
		return nil
	}
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	a.TokenExpiration, a.SkipContainers = m[awsid.AnnotationTokenExpiration], m[awsid.AnnotationSkipContainers]
	return nil
}

// jsonSpec is the union of a pod spec (Pod) and a controller spec: a Pod's
// fields sit at the top, a controller's under template or jobTemplate.
type jsonSpec struct {
	jsonPodSpec
	Template    *jsonTemplate `json:"template"`
	JobTemplate *struct {
		Spec struct {
			Template jsonTemplate `json:"template"`
		} `json:"spec"`
	} `json:"jobTemplate"`
}

type jsonTemplate struct {
	Metadata struct {
		Annotations jsonPodAnnotations `json:"annotations"`
	} `json:"metadata"`
	Spec jsonPodSpec `json:"spec"`
}

type jsonPodSpec struct {
	AutomountServiceAccountToken *bool  `json:"automountServiceAccountToken"`
	ServiceAccountName           string `json:"serviceAccountName"`
	ImagePullSecrets             []struct {
		Name string `json:"name"`
	} `json:"imagePullSecrets"`
	InitContainers      []jsonContainer `json:"initContainers"`
	Containers          []jsonContainer `json:"containers"`
	EphemeralContainers []jsonContainer `json:"ephemeralContainers"`
	Volumes             []jsonVolume    `json:"volumes"`
}

type jsonContainer struct {
	Name         string `json:"name"`
	Image        string `json:"image"`
	VolumeMounts []struct {
		Name      string `json:"name"`
		MountPath string `json:"mountPath"`
	} `json:"volumeMounts"`
	Env jsonAWSEnv `json:"env"`
}

// jsonAWSEnv is a container's env reduced to the variables named AWS_*, in
// order, with their literal values; nil when there are none.
//
// Most containers have no such variable, and their env costs what skipping
// it did before: encoding/json has scanned the array already, and one pass
// over its bytes finds no "AWS_ string start. Only an env holding one (or a
// backslash: an escape could spell a name's "AWS_") is decoded, with
// encoding/json, its names and values kept as raw literals: only the AWS_*
// entries' become strings, all in one. The fuzz target FuzzFromJSON holds
// the result against the typed decode.
type jsonAWSEnv []policy.EnvVar

var quotedAWSPrefix = []byte(`"` + awsEnvPrefix)

func (e *jsonAWSEnv) UnmarshalJSON(data []byte) error {
	*e = nil
	switch {
	case len(data) > 0 && data[0] == 'n': // null
		return nil
	case len(data) > 0 && data[0] == '[' && bytes.IndexByte(data, '\\') < 0 && !bytes.Contains(data, quotedAWSPrefix):
		return nil
	}
	// Without escapes, the entries' names and values are cut out of the
	// bytes directly (scanEnv); anything else is left to encoding/json.
	var stack [8]envEntry
	all, ok := stack[:0], false
	if bytes.IndexByte(data, '\\') < 0 {
		all, ok = scanEnv(data, all)
	}
	if !ok {
		// Each entry is an object: there are at most as many as '{'. (A
		// variable of its own: taking all's address would move the stack
		// array to the heap on the fast path too.)
		slow := make([]envEntry, 0, bytes.Count(data, []byte{'{'}))
		if err := json.Unmarshal(data, &slow); err != nil {
			return err
		}
		all = slow
	}
	// The names and values of the AWS_* entries share one string; the
	// rare one spelt with escapes is decoded on its own.
	n, size := 0, 0
	for i := range all {
		if all[i].Name.mayBeAWSEnv() {
			n++
			name, _ := all[i].Name.plain()
			value, _ := all[i].Value.plain()
			size += len(name) + len(value)
		}
	}
	if n == 0 {
		return nil
	}
	var b strings.Builder
	b.Grow(size)
	for i := range all {
		if all[i].Name.mayBeAWSEnv() {
			name, _ := all[i].Name.plain()
			value, _ := all[i].Value.plain()
			b.Write(name)
			b.Write(value)
		}
	}
	buf := b.String()
	take := func(r rawLiteral) (string, error) {
		if p, ok := r.plain(); ok {
			s := buf[:len(p)]
			buf = buf[len(p):]
			return s, nil
		}
		var s string
		err := json.Unmarshal(r, &s)
		return s, err
	}
	out := make([]policy.EnvVar, 0, n)
	for i := range all {
		if !all[i].Name.mayBeAWSEnv() {
			continue
		}
		name, err := take(all[i].Name)
		if err != nil {
			return err
		}
		value, err := take(all[i].Value)
		if err != nil {
			return err
		}
		if isAWSEnv(name) {
			out = append(out, policy.EnvVar{Name: name, Value: value})
		}
	}
	if len(out) > 0 {
		*e = out
	}
	return nil
}

// envEntry is one entry of a container's env, its fields as raw literals.
type envEntry struct {
	Name  rawLiteral `json:"name"`
	Value rawLiteral `json:"value"`
}

// scanEnv appends the entries of data, a JSON array of objects without
// escapes that encoding/json has already checked, to all: each object's
// "name" and "value" as raw literals, keys matched as encoding/json matches
// them (case-insensitively, the last of a repeated key winning), other
// members skipped. ok is false for anything else (an entry that is not an
// object), which is then left to encoding/json.
func scanEnv(data []byte, all []envEntry) (_ []envEntry, ok bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return all, false
	}
	for i++; ; {
		i = skipSpace(data, i)
		switch {
		case i >= len(data):
			return all, false
		case data[i] == ']':
			return all, true
		case data[i] == ',':
			i++
			continue
		case data[i] != '{':
			return all, false
		}
		var e envEntry
		for i++; ; {
			i = skipSpace(data, i)
			if i >= len(data) {
				return all, false
			}
			if data[i] == '}' {
				i++
				break
			}
			if data[i] == ',' {
				i++
				continue
			}
			if data[i] != '"' {
				return all, false
			}
			end := bytes.IndexByte(data[i+1:], '"')
			if end < 0 {
				return all, false
			}
			key := data[i+1 : i+1+end]
			i = skipSpace(data, i+2+end)
			if i >= len(data) || data[i] != ':' {
				return all, false
			}
			start := skipSpace(data, i+1)
			if i, ok = skipValue(data, start); !ok {
				return all, false
			}
			switch {
			case bytes.EqualFold(key, []byte("name")):
				e.Name = data[start:i]
			case bytes.EqualFold(key, []byte("value")):
				e.Value = data[start:i]
			}
		}
		all = append(all, e)
	}
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the valid JSON value without escapes that
// starts at i.
func skipValue(data []byte, i int) (int, bool) {
	if i >= len(data) {
		return i, false
	}
	switch data[i] {
	case '"':
		end := bytes.IndexByte(data[i+1:], '"')
		return i + 2 + end, end >= 0
	case '{', '[':
		depth := 0
		for ; i < len(data); i++ {
			switch data[i] {
			case '"':
				end := bytes.IndexByte(data[i+1:], '"')
				if end < 0 {
					return i, false
				}
				i += 1 + end
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1, true
				}
			}
		}
		return i, false
	}
	for i < len(data) && data[i] != ',' && data[i] != '}' && data[i] != ']' && data[i] != ' ' && data[i] != '\t' && data[i] != '\n' && data[i] != '\r' {
		i++
	}
	return i, true
}

// rawLiteral is a JSON value as encoding/json hands it to an Unmarshaler:
// the input's own bytes, not a copy, so it is read before that input is
// released (within jsonAWSEnv.UnmarshalJSON).
type rawLiteral []byte

func (r *rawLiteral) UnmarshalJSON(data []byte) error {
	*r = data
	return nil
}

// mayBeAWSEnv reports whether r is a JSON string that starts with "AWS_",
// or may once its escapes are decoded.
func (r rawLiteral) mayBeAWSEnv() bool {
	return bytes.HasPrefix(r, quotedAWSPrefix) || len(r) > 0 && r[0] == '"' && bytes.IndexByte(r, '\\') >= 0
}

// plain returns the bytes of the string r holds when they need no decoding
// (as encoding/json's unquote: no escape, valid UTF-8); absent or null is
// empty. ok is false for anything else: escapes, or not a string.
func (r rawLiteral) plain() (s []byte, ok bool) {
	switch {
	case len(r) == 0 || r[0] == 'n':
		return nil, true
	case len(r) >= 2 && r[0] == '"' && bytes.IndexByte(r, '\\') < 0 && utf8.Valid(r):
		return r[1 : len(r)-1], true
	}
	return nil, false
}

type jsonVolume struct {
	Name      string `json:"name"`
	Projected *struct {
		Sources []struct {
			ServiceAccountToken *struct {
				Path              string `json:"path"`
				Audience          string `json:"audience"`
				ExpirationSeconds *int64 `json:"expirationSeconds"`
			} `json:"serviceAccountToken"`
		} `json:"sources"`
	} `json:"projected"`
	Secret *struct {
		SecretName string `json:"secretName"`
	} `json:"secret"`
}

// FromJSON reads a workload of the given API group and kind from its JSON
// (an AdmissionReview's object), decoding only what token rules need. ok is
// false for kinds that are not workloads. It gives the same PodSpec as
// FromObject on the typed object.
func FromJSON(group, kind string, raw []byte) (w Workload, ok bool, err error) {
	if !IsWorkloadKind(group, kind) {
		return Workload{}, false, nil
	}
	var obj Object
	if err := json.Unmarshal(raw, &obj); err != nil {
		return Workload{}, true, fmt.Errorf("decoding %s: %w", kind, err)
	}
	return obj.Workload(group, kind)
}

// Object is a workload object of any kind as encoding/json decodes it,
// reading only what token rules need. As a field of a larger document (an
// AdmissionReview's request.object) it is decoded in the same pass as the
// document: unlike a json.RawMessage handed to FromJSON, the object's bytes
// are not scanned again, which is most of what a review costs.
type Object struct {
	jsonObject
}

// Workload returns the workload of the given API group and kind that obj
// holds, as FromJSON does.
func (obj *Object) Workload(group, kind string) (w Workload, ok bool, err error) {
	k := lookupKind(group, kind)
	if k == nil {
		return Workload{}, false, nil
	}
	w = Workload{Kind: kind, Namespace: obj.Metadata.Namespace, Name: obj.Metadata.Name}
	spec := &obj.Spec.jsonPodSpec
	ann := &obj.Metadata.Annotations
	switch k.Spec {
	case InJobTemplate:
		if obj.Spec.JobTemplate == nil {
			return w, true, fmt.Errorf("%s has no spec.jobTemplate", kind)
		}
		spec, ann = &obj.Spec.JobTemplate.Spec.Template.Spec, &obj.Spec.JobTemplate.Spec.Template.Metadata.Annotations
	case InTemplate:
		if obj.Spec.Template == nil {
			return w, true, fmt.Errorf("%s has no spec.template", kind)
		}
		spec, ann = &obj.Spec.Template.Spec, &obj.Spec.Template.Metadata.Annotations
	}
	w.Pod = spec.podSpec()
	w.Pod.AWS = podAWSContext(kind, ann.TokenExpiration, ann.SkipContainers)
	return w, true, nil
}

// podSpec converts with the same rules as PodSpecFromCore: containers in
// init, regular, ephemeral order; one volume per projected token source.
func (s *jsonPodSpec) podSpec() policy.PodSpec {
	out := policy.PodSpec{AutomountServiceAccountToken: s.AutomountServiceAccountToken, ServiceAccountName: s.ServiceAccountName}
	if len(s.ImagePullSecrets) > 0 {
		out.ImagePullSecrets = make([]string, len(s.ImagePullSecrets))
		for i := range s.ImagePullSecrets {
			out.ImagePullSecrets[i] = s.ImagePullSecrets[i].Name
		}
	}
	n := len(s.InitContainers) + len(s.Containers) + len(s.EphemeralContainers)
	if n > 0 {
		out.Containers = make([]policy.Container, 0, n)
		out.Containers = appendJSONContainers(out.Containers, s.InitContainers, policy.ContainerInit)
		out.Containers = appendJSONContainers(out.Containers, s.Containers, policy.ContainerRegular)
		out.Containers = appendJSONContainers(out.Containers, s.EphemeralContainers, policy.ContainerEphemeral)
	}
	for i := range s.Volumes {
		v := &s.Volumes[i]
		if v.Secret != nil {
			out.Volumes = append(out.Volumes, policy.Volume{Name: v.Name, SecretName: v.Secret.SecretName})
		}
		if v.Projected != nil {
			for _, src := range v.Projected.Sources {
				if t := src.ServiceAccountToken; t != nil {
					out.Volumes = append(out.Volumes, policy.Volume{Name: v.Name, ServiceAccountToken: &policy.ProjectedToken{
						Path: t.Path, Audience: t.Audience, ExpirationSeconds: t.ExpirationSeconds}})
				}
			}
		}
	}
	return out
}

func appendJSONContainers(out []policy.Container, cs []jsonContainer, kind policy.ContainerKind) []policy.Container {
	for i := range cs {
		c := &cs[i]
		pc := policy.Container{Name: c.Name, Image: c.Image, Kind: kind, Env: c.Env}
		if len(c.VolumeMounts) > 0 {
			pc.VolumeMounts = make([]policy.VolumeMount, len(c.VolumeMounts))
			for j, m := range c.VolumeMounts {
				pc.VolumeMounts[j] = policy.VolumeMount{Name: m.Name, MountPath: m.MountPath}
			}
		}
		out = append(out, pc)
	}
	return out
}
