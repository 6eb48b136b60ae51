package config

import (
	"errors"
	"fmt"
	"strconv"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Exempter answers, on the admission path, whether the configuration
// exempts a namespace, a service account, an image or a component, and
// why. Each method returns the reason, naming the configuration entry
// (`namespace "legacy-batch" is exempt by configuration
// (exemptions.namespaces[0])`), or "" when nothing exempts it. Exact
// entries are map lookups and patterns are tried only when there are any;
// a miss does not allocate. When several entries match, the reason names
// the first. A nil *Exempter exempts nothing. It is safe for concurrent use.
type Exempter struct {
	namespaces     map[string]hit
	namespaceGlobs []indexedGlob

	accounts     map[accountKey]hit
	accountInNS  map[string]int // "ns:*"
	accountGlobs []accountGlob

	images     map[name]int
	imageGlobs []imageGlob

	components map[string]hit
}

// hit is an exact entry: its index and its precomputed reason.
type hit struct {
	index  int
	reason string
}

type indexedGlob struct {
	index int
	glob  *glob
}

type accountKey struct{ namespace, name string }

type accountGlob struct {
	index     int
	entry     string
	namespace *glob
	name      *glob
}

type imageGlob struct {
	index int
	entry string
	glob  *glob
	// normalized says the pattern was normalised: it is matched against
	// the normalised reference only, else against the reference as written
	// too.
	normalized bool
}

// none is an index above every entry.
const none = int(^uint(0) >> 1)

// Compile checks the syntax of the exemptions and compiles them. (Whether
// the components name catalog rules is checked by Validate.)
func (e *Exemptions) Compile() (*Exempter, error) {
	p := field.NewPath("exemptions")
	if errs := validateExemptions(e, p, nil); len(errs) > 0 {
		return nil, errs.ToAggregate()
	}
	x := &Exempter{}
	for i, ns := range e.Namespaces {
		if isGlob(ns) {
			x.namespaceGlobs = append(x.namespaceGlobs, indexedGlob{i, mustGlob(ns)})
			continue
		}
		if x.namespaces == nil {
			x.namespaces = make(map[string]hit)
		}
		if _, dup := x.namespaces[ns]; !dup {
			x.namespaces[ns] = hit{i, "namespace " + strconv.Quote(ns) + " is exempt by configuration (exemptions.namespaces[" + strconv.Itoa(i) + "])"}
		}
	}
	for i, sa := range e.ServiceAccounts {
		ns, n, _ := parseServiceAccount(sa)
		switch {
		case !isGlob(ns) && !isGlob(n):
			if x.accounts == nil {
				x.accounts = make(map[accountKey]hit)
			}
			k := accountKey{ns, n}
			if _, dup := x.accounts[k]; !dup {
				x.accounts[k] = hit{i, accountReason(ns, n, i, "")}
			}
		case !isGlob(ns) && n == "*":
			if x.accountInNS == nil {
				x.accountInNS = make(map[string]int)
			}
			if _, dup := x.accountInNS[ns]; !dup {
				x.accountInNS[ns] = i
			}
		default:
			x.accountGlobs = append(x.accountGlobs, accountGlob{i, sa, mustGlob(ns), mustGlob(n)})
		}
	}
	for i, img := range e.Images {
		if !isGlob(img) {
			if x.images == nil {
				x.images = make(map[name]int)
			}
			if k := normalizeImage(img); !hasKey(x.images, k) {
				x.images[k] = i
			}
			continue
		}
		norm, ok := normalizePattern(img)
		if !ok {
			norm = img
		}
		x.imageGlobs = append(x.imageGlobs, imageGlob{i, img, mustGlob(norm), ok})
	}
	for i, id := range e.Components {
		if x.components == nil {
			x.components = make(map[string]hit)
		}
		if _, dup := x.components[id]; !dup {
			x.components[id] = hit{i, "component " + strconv.Quote(id) + " is exempt by configuration (exemptions.components[" + strconv.Itoa(i) + "])"}
		}
	}
	return x, nil
}

func hasKey[K comparable, V any](m map[K]V, k K) bool {
	_, ok := m[k]
	return ok
}

// mustGlob compiles a pattern already checked by validateExemptions.
func mustGlob(pattern string) *glob {
	g, err := compileGlob(pattern)
	if err != nil {
		panic(errors.New("config: unchecked pattern " + strconv.Quote(pattern) + ": " + err.Error()))
	}
	return g
}

// Namespace says why namespace ns is exempt, or "".
func (x *Exempter) Namespace(ns string) string {
	if x == nil || ns == "" {
		return ""
	}
	best := hit{index: none}
	if h, ok := x.namespaces[ns]; ok {
		best = h
	}
	for _, g := range x.namespaceGlobs {
		if g.index > best.index {
			break
		}
		if g.glob.match(name{b: ns}) {
			return fmt.Sprintf("namespace %q is exempt by configuration (exemptions.namespaces[%d] %q)", ns, g.index, g.glob.pattern)
		}
	}
	return best.reason
}

// ServiceAccount says why service account sa of namespace ns is exempt, or
// "". An empty sa is the namespace's "default" service account.
func (x *Exempter) ServiceAccount(ns, sa string) string {
	if x == nil || ns == "" {
		return ""
	}
	if sa == "" {
		sa = "default"
	}
	best := hit{index: none}
	if h, ok := x.accounts[accountKey{ns, sa}]; ok {
		best = h
	}
	entry := ""
	if i, ok := x.accountInNS[ns]; ok && i < best.index {
		best, entry = hit{index: i}, ns+":*"
	}
	for i := range x.accountGlobs {
		g := &x.accountGlobs[i]
		if g.index > best.index {
			break
		}
		if g.namespace.match(name{b: ns}) && g.name.match(name{b: sa}) {
			best, entry = hit{index: g.index}, g.entry
			break
		}
	}
	if best.reason == "" && best.index != none {
		return accountReason(ns, sa, best.index, entry)
	}
	return best.reason
}

func accountReason(ns, sa string, i int, entry string) string {
	s := "service account " + strconv.Quote(sa) + " of namespace " + strconv.Quote(ns) +
		" is exempt by configuration (exemptions.serviceAccounts[" + strconv.Itoa(i) + "]"
	if entry != "" {
		s += " " + strconv.Quote(entry)
	}
	return s + ")"
}

// Image says why a container image is exempt, or "". An entry without
// wildcards matches the image when both normalise to the same reference
// ("busybox:1.36" is "docker.io/library/busybox:1.36"). A pattern is matched
// against the normalised reference, registry/repository[:tag][@digest]; a
// pattern whose registry part has a wildcard ("*/legacy/**") is also
// matched against the image as written. '*' does not cross '/', '**' does.
func (x *Exempter) Image(image string) string {
	if x == nil || image == "" {
		return ""
	}
	// norm.a is "" when the image is already normalised (norm.b == image).
	norm := normalizeImage(image)
	best, pattern := none, ""
	if i, ok := x.images[norm]; ok {
		best = i
	}
	for i := range x.imageGlobs {
		g := &x.imageGlobs[i]
		if g.index > best {
			break
		}
		if g.glob.match(norm) || (!g.normalized && norm.a != "" && g.glob.match(name{b: image})) {
			best, pattern = g.index, g.entry
			break
		}
	}
	switch {
	case best == none:
		return ""
	case pattern == "":
		return fmt.Sprintf("image %q is exempt by configuration (exemptions.images[%d])", image, best)
	}
	return fmt.Sprintf("image %q is exempt by configuration (exemptions.images[%d] %q)", image, best, pattern)
}

// Component says why findings about component id (a catalog rule id) are
// exempt, or "".
func (x *Exempter) Component(id string) string {
	if x == nil {
		return ""
	}
	return x.components[id].reason
}
