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
	if err := s.beginObject(); err != nil {
		return err
	}
	for first := true; ; first = false {
		key, ok, err := s.objectKey(first)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		switch string(key) {
		case "purl":
			var v []byte
			if v, _, err = s.readOptString(); err == nil {
				c.addPURL(v)
			}
			err = at(err, "purl")
		case "version":
			var v []byte
			if v, _, err = s.readOptVersion(); err == nil {
				c.setVersion(v)
			}
			err = at(err, "version")
		case "components":
			err = at(p.cdxComponents(level+1), "components")
		default:
			err = s.skipValue()
		}
		if err != nil {
			return err
		}
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
	if err := s.beginObject(); err != nil {
		return err
	}
	for first := true; ; first = false {
		key, ok, err := s.objectKey(first)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if string(key) == "component" {
			if b, perr := s.peek(); perr == nil && b == 'n' {
				err = s.skipValue()
			} else {
				err = at(p.cdxComponent(0), "component")
			}
		} else {
			err = s.skipValue()
		}
		if err != nil {
			return err
		}
	}
}
