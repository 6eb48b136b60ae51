package sdkdetect

import "bytes"

// spdxPackages reads SPDX 2 packages[].
func (p *sbomParser) spdxPackages() error {
	c := p.cand(0)
	return p.s.forArray(func(int) error { return p.spdxPackage(c) })
}

// spdxPackage reads one SPDX 2 package: its purl external references and
// versionInfo; everything else is skipped.
func (p *sbomParser) spdxPackage(c *pkgCandidate) error {
	s := p.s
	c.reset()
	err := s.forObject(func(key []byte) error {
		switch string(key) {
		case "externalRefs":
			return at(s.forArray(func(int) error { return p.spdxExternalRef(c) }), "externalRefs")
		case "versionInfo":
			v, _, err := s.readOptVersion()
			if err == nil {
				c.setVersion(v)
			}
			return at(err, "versionInfo")
		}
		return s.skipValue()
	})
	if err != nil {
		return err
	}
	p.emit(c)
	return nil
}

// spdxExternalRef reads one externalRefs[] entry, adding its locator to c
// when its referenceType is purl. The category is not checked: it is
// spelled PACKAGE_MANAGER (SPDX 2.3) or PACKAGE-MANAGER (2.2), and some
// tools write OTHER. The type may also be written as the IRI of SPDX's
// RDF vocabulary, "http://spdx.org/rdf/references/purl" (documents
// converted from RDF by the SPDX tools).
func (p *sbomParser) spdxExternalRef(c *pkgCandidate) error {
	return p.typedLocator(c, "referenceType", "referenceLocator", "purl", "/#")
}

// typedLocator reads an object naming a reference by a type key and a value
// key (SPDX 2 externalRefs[], SPDX 3 externalIdentifier[]) and adds the
// value to c as a package URL when the type, after its last separator
// (seps: IRIs and prefixed names), is want in any case.
func (p *sbomParser) typedLocator(c *pkgCandidate, typeKey, valueKey, want, seps string) error {
	s := p.s
	isPURL, hasValue := false, false
	err := s.forObject(func(key []byte) error {
		switch string(key) {
		case typeKey:
			v, _, err := s.readOptString()
			if i := bytes.LastIndexAny(v, seps); i >= 0 {
				v = v[i+1:]
			}
			isPURL = bytes.EqualFold(v, []byte(want))
			return at(err, typeKey)
		case valueKey:
			v, ok, err := s.readOptString()
			hasValue = ok
			c.tmp = append(c.tmp[:0], v...)
			return at(err, valueKey)
		}
		return s.skipValue()
	})
	if err == nil && isPURL && hasValue {
		c.addPURL(c.tmp)
	}
	return err
}

// spdx3Elements reads SPDX 3 @graph[] (or elements[]): objects, some of
// them packages. Other values (IRIs) are skipped.
func (p *sbomParser) spdx3Elements() error {
	s := p.s
	c := p.cand(0)
	return s.forArray(func(int) error {
		if b, err := s.peek(); err != nil || b != '{' {
			if err != nil {
				return err
			}
			return s.skipValue()
		}
		return p.spdx3Element(c)
	})
}

// spdx3Element reads one SPDX 3 element, emitting it if it is a package.
func (p *sbomParser) spdx3Element(c *pkgCandidate) error {
	s := p.s
	c.reset()
	err := s.forObject(func(key []byte) error {
		switch string(spdx3Property(key)) {
		case "type", "@type":
			name := string(key)
			return at(p.spdx3Type(c), name)
		case "packageUrl":
			name := string(key)
			v, _, err := s.readOptString()
			if err == nil {
				c.addPURL(v)
			}
			return at(err, name)
		case "packageVersion":
			name := string(key)
			v, _, err := s.readOptVersion()
			if err == nil {
				c.setVersion(v)
			}
			return at(err, name)
		case "externalIdentifier":
			return at(s.forArray(func(int) error { return p.spdx3ExternalIdentifier(c) }), "externalIdentifier")
		}
		return s.skipValue()
	})
	if err != nil {
		return err
	}
	if c.isPackage {
		p.emit(c)
	}
	return nil
}

// spdx3Property returns the property name of an SPDX 3 key: the key itself
// for the compacted names of the SPDX context ("software_packageUrl" is
// "packageUrl"), or the part after the profile for keys written as
// prefixed names or IRIs ("spdx:Software/packageUrl",
// "https://spdx.org/rdf/3.0.1/terms/Software/packageUrl").
func spdx3Property(key []byte) []byte {
	if i := bytes.LastIndexAny(key, "_/:"); i >= 0 && !bytes.HasPrefix(key, []byte("@")) {
		key = key[i+1:]
	}
	return key
}

// spdx3Type reads an element's type: a string or an array of them.
func (p *sbomParser) spdx3Type(c *pkgCandidate) error {
	s := p.s
	b, err := s.peek()
	if err != nil {
		return err
	}
	if b != '[' {
		v, _, err := s.readOptString()
		if isSPDX3PackageType(v) {
			c.isPackage = true
		}
		return err
	}
	return s.forArray(func(int) error {
		v, _, err := s.readOptString()
		if isSPDX3PackageType(v) {
			c.isPackage = true
		}
		return err
	})
}

// isSPDX3PackageType reports whether an SPDX 3 type names a software
// package: "software_Package" compacted, "Package", or the full IRI
// https://spdx.org/rdf/3.0.1/terms/Software/Package.
func isSPDX3PackageType(t []byte) bool {
	if !bytes.HasSuffix(t, []byte("Package")) {
		return false
	}
	rest := t[:len(t)-len("Package")]
	if len(rest) == 0 {
		return true
	}
	switch rest[len(rest)-1] {
	case '_', '/', ':':
		return true
	}
	return false
}

// spdx3ExternalIdentifier reads one externalIdentifier[] entry, adding its
// identifier to c when its type is packageUrl.
func (p *sbomParser) spdx3ExternalIdentifier(c *pkgCandidate) error {
	// "packageUrl", or an IRI or prefixed name ending in it.
	return p.typedLocator(c, "externalIdentifierType", "identifier", "packageUrl", "/_#")
}
