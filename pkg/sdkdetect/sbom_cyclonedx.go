package sdkdetect

import "strconv"

// maxComponentDepth bounds the nesting of CycloneDX components.
const maxComponentDepth = 64

// cdxComponents reads a CycloneDX components[] array at a nesting level.
func (p *sbomParser) cdxComponents(level int) error {
	if level >= maxComponentDepth {
		return p.s.syntaxError("components nested deeper than " + strconv.Itoa(maxComponentDepth))
	}
	return p.s.forArray(func(int) error { return p.cdxComponent(level) })
}

// cdxComponent reads one component: its purl, version and nested
// components; everything else (pedigree included) is skipped.
func (p *sbomParser) cdxComponent(level int) error {
	s := p.s
	c := p.cand(level)
	err := s.forObject(func(key []byte) error {
		switch string(key) {
		case "purl":
			v, _, err := s.readOptString()
			if err == nil {
				c.addPURL(v)
			}
			return at(err, "purl")
		case "version":
			v, _, err := s.readOptVersion()
			if err == nil {
				c.setVersion(v)
			}
			return at(err, "version")
		case "components":
			return at(p.cdxComponents(level+1), "components")
		}
		return s.skipValue()
	})
	if err != nil {
		return err
	}
	p.emit(c)
	return nil
}

// syftArtifacts reads syft JSON's artifacts[]: objects with a purl and a
// version, like CycloneDX components without nesting (their metadata is
// skipped).
func (p *sbomParser) syftArtifacts() error {
	return p.s.forArray(func(int) error { return p.cdxComponent(0) })
}

// cdxMetadata reads metadata, for metadata.component: the component the
// SBOM describes (the image), whose nested components may be its contents.
func (p *sbomParser) cdxMetadata() error {
	s := p.s
	if b, err := s.peek(); err != nil || b == 'n' {
		if err != nil {
			return err
		}
		return s.skipValue()
	}
	return s.forObject(func(key []byte) error {
		if string(key) != "component" {
			return s.skipValue()
		}
		if b, err := s.peek(); err == nil && b == 'n' {
			return s.skipValue()
		}
		return at(p.cdxComponent(0), "component")
	})
}
