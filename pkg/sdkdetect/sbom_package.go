package sdkdetect

import (
	"bytes"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// pkgCandidate gathers what one SBOM package entry says about itself while
// it is read (its fields come in any order), in buffers reused from one
// entry to the next so that entries that are not kept cost no allocation
// beyond their purl string.
type pkgCandidate struct {
	purls      []byte // the package URLs, concatenated
	ends       []int  // where each ends in purls
	version    []byte
	hasVersion bool
	isPackage  bool   // SPDX 3: the element's type is a package
	tmp        []byte // a field kept until its object ends
}

func (c *pkgCandidate) reset() {
	c.purls, c.ends, c.version, c.tmp = c.purls[:0], c.ends[:0], c.version[:0], c.tmp[:0]
	c.hasVersion, c.isPackage = false, false
}

func (c *pkgCandidate) addPURL(b []byte) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return
	}
	c.purls = append(c.purls, b...)
	c.ends = append(c.ends, len(c.purls))
}

func (c *pkgCandidate) setVersion(b []byte) {
	c.version = append(c.version[:0], bytes.TrimSpace(b)...)
	c.hasVersion = len(c.version) > 0 &&
		!bytes.Equal(c.version, []byte("NOASSERTION")) && !bytes.Equal(c.version, []byte("NONE"))
}

// cand returns the reused candidate of a nesting level.
func (p *sbomParser) cand(level int) *pkgCandidate {
	for len(p.cands) <= level {
		p.cands = append(p.cands, new(pkgCandidate))
	}
	c := p.cands[level]
	c.reset()
	return c
}

// emit adds the packages of c's purls that the filter keeps.
func (p *sbomParser) emit(c *pkgCandidate) {
	p.entries++
	p.purls += len(c.ends)
	start := 0
	for _, end := range c.ends {
		raw := string(c.purls[start:end])
		start = end
		pu, err := ParsePURL(raw)
		if err != nil {
			p.invalid++
			continue
		}
		if p.keep != nil && !p.keep(pu) {
			continue
		}
		v := pu.Version
		if v == "" && c.hasVersion {
			v = string(c.version)
		}
		p.add(policy.Package{Type: pu.Type, Namespace: pu.Namespace, Name: pu.Name, Version: v})
	}
}

// add appends pkg unless it is already there.
func (p *sbomParser) add(pkg policy.Package) {
	if p.seen == nil && len(p.pkgs) >= 16 {
		p.seen = make(map[policy.Package]struct{}, 2*len(p.pkgs))
		for _, q := range p.pkgs {
			p.seen[q] = struct{}{}
		}
	}
	if p.seen != nil {
		if _, dup := p.seen[pkg]; dup {
			return
		}
		p.seen[pkg] = struct{}{}
	} else {
		for _, q := range p.pkgs {
			if q == pkg {
				return
			}
		}
	}
	p.pkgs = append(p.pkgs, pkg)
}

// beginOptArray consumes the '[' that must come next, or a null (ok false).
func (s *scanner) beginOptArray() (ok bool, err error) {
	c, err := s.peek()
	if err != nil {
		return false, err
	}
	if c == 'n' {
		return false, s.skipLiteral("null")
	}
	return true, s.beginArray()
}

// forObject calls fn for each member of the object (not null) that comes
// next, with its key; fn must consume the member's value. key is valid only
// until the value is read: copy it to keep it.
func (s *scanner) forObject(fn func(key []byte) error) error {
	if err := s.beginObject(); err != nil {
		return err
	}
	for first := true; ; first = false {
		key, ok, err := s.objectKey(first)
		if err != nil || !ok {
			return err
		}
		if err := fn(key); err != nil {
			return err
		}
	}
}

// forArray calls fn for each element of the array (or null) that comes
// next, with the element's index; fn must consume the element. Errors are
// prefixed with "[i]".
func (s *scanner) forArray(fn func(i int) error) error {
	ok, err := s.beginOptArray()
	if err != nil || !ok {
		return err
	}
	for i, first := 0, true; ; i, first = i+1, false {
		more, err := s.arrayNext(first)
		if err != nil || !more {
			return err
		}
		if err := fn(i); err != nil {
			return atIndex(err, "", i)
		}
	}
}
