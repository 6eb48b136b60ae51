package sdkdetect

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// Errors ParseSBOM wraps, to be told apart with errors.Is.
var (
	// ErrInvalidSBOM is wrapped by errors about malformed or truncated
	// documents; a truncated one also wraps io.ErrUnexpectedEOF.
	ErrInvalidSBOM = errors.New("invalid SBOM")
	// ErrUnknownFormat is wrapped when the document is not JSON, or is JSON
	// of no supported shape (or of more than one).
	ErrUnknownFormat = errors.New("unknown SBOM format")
	// ErrNotSBOM is wrapped when the document is an attestation of
	// something else (SLSA provenance, a vulnerability scan, a plain
	// signature): callers skip it and look at the next one.
	ErrNotSBOM = errors.New("not an SBOM")
	// ErrTooLarge is wrapped when the document is longer than the limit.
	ErrTooLarge = errors.New("SBOM exceeds the size limit")
	// ErrUnsupportedFormat is wrapped (with ErrUnknownFormat) when the
	// document is an SBOM in a format ParseSBOM does not read: SPDX
	// tag-value, CycloneDX XML, SPDX RDF/XML, or compressed or UTF-16
	// text. The message names the format.
	ErrUnsupportedFormat error = &subError{"unsupported SBOM format", ErrUnknownFormat}
)

// subError is a sentinel error that is also a kind of another one.
type subError struct {
	msg    string
	parent error
}

func (e *subError) Error() string { return e.msg }
func (e *subError) Unwrap() error { return e.parent }

// DefaultSBOMMaxBytes is the size limit ParseSBOM applies when given none.
const DefaultSBOMMaxBytes = 64 << 20

// SBOM formats, as in SBOM.Format.
const (
	SBOMFormatSPDX      = "spdx"
	SBOMFormatSPDX3     = "spdx3"
	SBOMFormatCycloneDX = "cyclonedx"
	SBOMFormatSyft      = "syft"
)

// SBOM is what ParseSBOM found in one document.
type SBOM struct {
	// Format is the SBOM's format: "spdx" (SPDX 2.x JSON), "spdx3" (SPDX 3
	// JSON-LD), "cyclonedx" (CycloneDX JSON) or "syft" (syft's own JSON).
	Format string
	// Envelope names the wrappers around the SBOM, outermost first:
	// "" (a bare SBOM), "in-toto", "dsse/in-toto",
	// "sigstore-bundle/dsse/in-toto"; "dsse" alone when a DSSE payload is
	// a bare SBOM; "sbom" for GitHub's export API answer {"sbom": {...}}.
	Envelope string
	// PredicateType is the in-toto predicate type, when in an in-toto
	// statement ("https://spdx.dev/Document").
	PredicateType string
	// Packages are the packages kept by the filter, once each (by type,
	// namespace, name and version), in document order (a CycloneDX
	// component comes after the components nested in it). Source and
	// Platform are left empty for the caller to set.
	Packages []policy.Package
	// InvalidPURLs counts package URLs that did not parse; their packages
	// are skipped.
	InvalidPURLs int
	// Entries counts the package entries read (SPDX packages, CycloneDX
	// components, syft artifacts), kept or not, and PURLs the package URLs
	// they had, valid or not. An SBOM with entries and no package URL
	// cannot show that an SDK is absent: callers should not take it as
	// evidence.
	Entries, PURLs int
}

// ParseSBOM reads one SBOM document from r and returns its packages that
// have a package URL for which keep returns true (every one with a purl when
// keep is nil).
//
// Supported are SPDX 2.x JSON, SPDX 3 JSON-LD, CycloneDX JSON (1.2 to
// 1.6) and syft JSON, bare or as the predicate of an in-toto statement
// (v0.1 or v1, as BuildKit, cosign and syft attach them), itself bare,
// inside a DSSE envelope or inside a sigstore bundle (v0.1 to v0.3), and
// GitHub's SBOM export answer ({"sbom": <SPDX>}). The content decides the
// format; mediaType is only a hint quoted in format errors (cosign labels
// an SPDX JSON file not named *.json "text/spdx", and a CycloneDX one
// "application/vnd.cyclonedx+xml"). SBOMs in formats that are not read
// (SPDX tag-value, CycloneDX XML, SPDX RDF/XML) fail with
// ErrUnsupportedFormat naming the format, also when they are the string
// predicate of an in-toto statement (cosign attest --type spdx).
//
// What counts as a package:
//   - SPDX 2: packages[] with an externalRefs[] entry of referenceType
//     "purl" (any referenceCategory: PACKAGE_MANAGER and PACKAGE-MANAGER
//     are both in use). Packages without a purl are skipped: a name and
//     versionInfo alone do not say which ecosystem they are from.
//   - SPDX 3: elements of @graph (or a top-level "elements") whose type is
//     software_Package, with software_packageUrl or an externalIdentifier
//     of type packageUrl.
//   - CycloneDX: components[] with a purl, nested components at any depth
//     up to 64, and metadata.component with its nested components. Pedigree
//     (ancestors, variants) and metadata.tools are not image contents and
//     are skipped.
//   - syft JSON: artifacts[] with a purl.
//
// The version is the purl's; when the purl has none, the package's own
// version field (SPDX versionInfo, software_packageVersion, CycloneDX or
// syft version; a JSON number is taken as its text), unless NOASSERTION
// or NONE.
//
// The document is streamed: memory stays bounded whatever its size, and
// at most maxBytes bytes are read (DefaultSBOMMaxBytes when maxBytes <= 0);
// a longer one fails with ErrTooLarge. A DSSE payload is base64-decoded as
// it is read. Errors name what was expected and where:
// `spdx: packages[12].externalRefs: expected an array, found an object (at
// byte 5120)`. In-toto statements of other predicate types, DSSE envelopes
// of other payload types and sigstore bundles holding a message signature
// fail with ErrNotSBOM.
func ParseSBOM(r io.Reader, mediaType string, maxBytes int64, keep func(PURL) bool) (*SBOM, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultSBOMMaxBytes
	}
	p := &sbomParser{s: newScanner(r, maxBytes), keep: keep, mediaType: mediaType}
	err := p.s.skipBOM()
	var res docResult
	if err == nil {
		res, err = p.document(kindsAll)
	}
	if err == nil {
		err = p.s.expectEnd()
	}
	if err != nil {
		return nil, err
	}
	return &SBOM{
		Format:        res.format,
		Envelope:      res.envelope,
		PredicateType: res.predicateType,
		Packages:      p.pkgs,
		InvalidPURLs:  p.invalid,
		Entries:       p.entries,
		PURLs:         p.purls,
	}, nil
}

// notJSON returns the error for a document that does not start like JSON:
// ErrUnsupportedFormat when its first bytes show an SBOM format that is not
// read (or an encoding that hides one), ErrUnknownFormat otherwise.
func (p *sbomParser) notJSON(c byte) error {
	head := p.s.lookahead(512)
	what := ""
	switch {
	case bytes.HasPrefix(head, []byte{0x1F, 0x8B}):
		what = "gzip-compressed data"
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		what = "UTF-16 text"
	case c == '<' && (bytes.Contains(head, []byte("cyclonedx")) || bytes.Contains(head, []byte("<bom"))):
		what = "CycloneDX XML"
	case c == '<' && (bytes.Contains(head, []byte("spdx")) || bytes.Contains(head, []byte("rdf:RDF"))):
		what = "SPDX RDF/XML"
	case c == '<':
		what = "XML"
	case bytes.Contains(head, []byte("SPDXVersion:")), bytes.HasPrefix(head, []byte("##")) && bytes.Contains(head, []byte("SPDX")):
		what = "SPDX tag-value"
	}
	mt := ""
	if p.mediaType != "" {
		mt = fmt.Sprintf(" (media type %q)", p.mediaType)
	}
	if what == "" {
		return fmt.Errorf("%w: the document is not JSON (it starts with %s)%s", ErrUnknownFormat, describeByte(c), mt)
	}
	return fmt.Errorf("%w: the document is %s%s; only SPDX JSON, CycloneDX JSON and syft JSON are read", ErrUnsupportedFormat, what, mt)
}

// sbomKind is a set of document kinds.
type sbomKind uint8

const (
	kindSPDX sbomKind = 1 << iota
	kindSPDX3
	kindCycloneDX
	kindInToto
	kindDSSE
	kindBundle
	kindSyft
	kindWrapper

	kindsSBOM = kindSPDX | kindSPDX3 | kindCycloneDX | kindSyft
	kindsAll  = kindsSBOM | kindInToto | kindDSSE | kindBundle | kindWrapper
)

var kindNames = [...]string{"SPDX 2", "SPDX 3", "CycloneDX", "in-toto statement", "DSSE envelope", "sigstore bundle", "syft JSON", "SBOM export"}

func (k sbomKind) String() string {
	var names []string
	for i, n := range kindNames {
		if k&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	return strings.Join(names, ", ")
}

// keyKind returns the kind of document a top-level key belongs to, and
// whether it decides the kind (skipped keys such as SPDXID or subject do
// not).
func keyKind(key string) (k sbomKind, decides bool) {
	switch key {
	case "spdxVersion", "packages":
		return kindSPDX, true
	case "SPDXID", "dataLicense", "creationInfo", "documentNamespace":
		return kindSPDX, false
	case "@context", "@graph", "elements":
		return kindSPDX3, true
	case "bomFormat", "components", "metadata":
		return kindCycloneDX, true
	case "specVersion", "serialNumber":
		return kindCycloneDX, false
	case "_type", "predicateType", "predicate":
		return kindInToto, true
	case "subject":
		return kindInToto, false
	case "payloadType", "payload":
		return kindDSSE, true
	case "signatures":
		return kindDSSE, false
	case "dsseEnvelope", "messageSignature", "mediaType":
		return kindBundle, true
	case "verificationMaterial":
		return kindBundle, false
	case "artifacts", "artifactRelationships":
		return kindSyft, true
	case "descriptor", "distro":
		return kindSyft, false
	case "sbom":
		return kindWrapper, true
	}
	return 0, false
}

// IsSBOMPredicateType reports whether an in-toto predicate type is an
// SBOM ParseSBOM may read: https://spdx.dev/Document (cosign, BuildKit,
// syft), https://cyclonedx.org/bom (cosign, syft) or https://syft.dev/bom
// (syft attest -o syft-json), with or without a version suffix ("/v2.3",
// "/v1.5"), in any case, over http or https.
func IsSBOMPredicateType(pt string) bool {
	pt = strings.TrimSuffix(strings.TrimSpace(pt), "/")
	rest, ok := cutPrefixFold(pt, "https://")
	if !ok {
		if rest, ok = cutPrefixFold(pt, "http://"); !ok {
			return false
		}
	}
	for _, prefix := range [...]string{"spdx.dev/Document", "cyclonedx.org/bom", "syft.dev/bom"} {
		if v, ok := cutPrefixFold(rest, prefix); ok && (v == "" || v[0] == '/') {
			return true
		}
	}
	return false
}

// cutPrefixFold is strings.CutPrefix with the prefix matched in any case.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// isInTotoPayloadType reports whether a DSSE payload type is one
// ParseSBOM reads: an in-toto statement, or an SBOM media type.
func isInTotoPayloadType(pt string) bool {
	base, _, _ := strings.Cut(pt, ";")
	switch strings.ToLower(strings.TrimSpace(base)) {
	case "application/vnd.in-toto+json", "application/spdx+json", "application/spdx3+json",
		"application/vnd.cyclonedx+json", "application/ld+json", "application/json":
		return true
	}
	return false
}

// docResult is what one (possibly nested) document turned out to be.
type docResult struct {
	format, envelope, predicateType string
}

// sbomParser holds the state of one ParseSBOM call.
type sbomParser struct {
	s         *scanner
	keep      func(PURL) bool
	mediaType string
	pkgs      []policy.Package
	seen      map[policy.Package]struct{}
	invalid   int
	entries   int             // package entries read
	purls     int             // package URLs seen
	cands     []*pkgCandidate // per CycloneDX nesting level
}

// document reads an object and works out from its keys what it is: an SBOM
// whose packages it collects, or an envelope of one (of the kinds in
// allow; keys of other kinds are skipped). A value that is not an object,
// or an object of no (or of mixed) kinds, is consumed whole before
// ErrUnknownFormat is returned.
func (p *sbomParser) document(allow sbomKind) (docResult, error) {
	s := p.s
	var res docResult
	c, err := s.peek()
	if err != nil {
		return res, err
	}
	if c != '{' {
		what := describeByte(c)
		if strings.HasPrefix(what, "'") { // not a JSON value
			return res, p.notJSON(c)
		}
		if err := s.skipValue(); err != nil {
			return res, err
		}
		return res, fmt.Errorf("%w: the document is %s, not an object", ErrUnknownFormat, what)
	}
	if err := s.beginObject(); err != nil {
		return res, err
	}
	var (
		seen sbomKind
		// Envelope fields.
		statementType, predicateType, payloadType string
		havePredicateType, havePayloadType        bool
		hasPredicate, hasPayload, hasEnvelope     bool
		hasMessageSignature                       bool
		inner                                     docResult
		// deferred is an ErrUnknownFormat from a predicate or payload read
		// before its type was known: the type decides whether it matters.
		deferred error
	)
	for first := true; ; first = false {
		key, ok, err := s.objectKey(first)
		if err != nil {
			return res, err
		}
		if !ok {
			break
		}
		k, decides := keyKind(string(key))
		if k&allow == 0 {
			if err := s.skipValue(); err != nil {
				return res, err
			}
			continue
		}
		if decides {
			seen |= k
		}
		switch string(key) {
		case "packages":
			err = inFormat(at(p.spdxPackages(), "packages"), "spdx")
		case "@graph", "elements":
			name := string(key)
			err = inFormat(at(p.spdx3Elements(), name), "spdx3")
		case "components":
			err = inFormat(at(p.cdxComponents(0), "components"), "cyclonedx")
		case "artifacts":
			err = inFormat(at(p.syftArtifacts(), "artifacts"), "syft")
		case "sbom":
			inner, err = p.document(kindsSBOM)
			err = inFormat(at(err, "sbom"), "sbom")
		case "metadata":
			err = inFormat(at(p.cdxMetadata(), "metadata"), "cyclonedx")
		case "_type":
			statementType, err = p.stringField()
			err = inFormat(at(err, "_type"), "in-toto")
		case "predicateType":
			predicateType, err = p.stringField()
			havePredicateType = true
			err = inFormat(at(err, "predicateType"), "in-toto")
		case "predicate":
			hasPredicate = true
			if havePredicateType && !IsSBOMPredicateType(predicateType) {
				err = s.skipValue()
				break
			}
			inner, err = p.nested(kindsSBOM, false, "predicate")
			if errors.Is(err, ErrUnknownFormat) && !havePredicateType {
				deferred, err = err, nil
			}
			err = inFormat(at(err, "predicate"), "in-toto")
		case "payloadType":
			payloadType, err = p.stringField()
			havePayloadType = true
			err = inFormat(at(err, "payloadType"), "dsse")
		case "payload":
			hasPayload = true
			if havePayloadType && !isInTotoPayloadType(payloadType) {
				err = s.skipValue()
				break
			}
			inner, err = p.nested(kindInToto|kindsSBOM, true, "payload")
			if errors.Is(err, ErrUnknownFormat) && !havePayloadType {
				deferred, err = err, nil
			}
			err = inFormat(at(err, "payload"), "dsse")
		case "dsseEnvelope":
			hasEnvelope = true
			inner, err = p.document(kindDSSE)
			err = inFormat(at(err, "dsseEnvelope"), "sigstore-bundle")
		case "messageSignature":
			hasMessageSignature = true
			err = s.skipValue()
		default:
			err = s.skipValue()
		}
		if err != nil {
			return res, err
		}
	}
	switch seen {
	case 0:
		return res, p.unknownFormat(fmt.Sprintf("no %s keys", (kindsAll & allow).orList()))
	case kindSPDX:
		res.format = SBOMFormatSPDX
	case kindSPDX3:
		res.format = SBOMFormatSPDX3
	case kindCycloneDX:
		res.format = SBOMFormatCycloneDX
	case kindSyft:
		res.format = SBOMFormatSyft
	case kindWrapper:
		res = inner
		res.envelope = joinEnvelope("sbom", inner.envelope)
	case kindInToto:
		if statementType != "" && !strings.HasPrefix(statementType, "https://in-toto.io/Statement/") {
			return res, fmt.Errorf("%w: in-toto statement type %q", ErrNotSBOM, statementType)
		}
		if !havePredicateType {
			return res, fmt.Errorf("%w: in-toto statement without predicateType", ErrNotSBOM)
		}
		if !IsSBOMPredicateType(predicateType) {
			return res, fmt.Errorf("%w: in-toto predicate type %q", ErrNotSBOM, predicateType)
		}
		if deferred != nil {
			return res, inFormat(at(deferred, "predicate"), "in-toto")
		}
		if !hasPredicate {
			return res, fmt.Errorf("%w: in-toto: statement of predicate type %q has no predicate", ErrInvalidSBOM, predicateType)
		}
		res = inner
		res.envelope = joinEnvelope("in-toto", inner.envelope)
		res.predicateType = predicateType
	case kindDSSE:
		if !havePayloadType {
			return res, fmt.Errorf("%w: dsse: envelope without payloadType", ErrInvalidSBOM)
		}
		if !isInTotoPayloadType(payloadType) {
			return res, fmt.Errorf("%w: DSSE payload type %q", ErrNotSBOM, payloadType)
		}
		if deferred != nil {
			return res, inFormat(at(deferred, "payload"), "dsse")
		}
		if !hasPayload {
			return res, fmt.Errorf("%w: dsse: envelope has no payload", ErrInvalidSBOM)
		}
		res = inner
		res.envelope = joinEnvelope("dsse", inner.envelope)
	case kindBundle:
		if !hasEnvelope {
			if hasMessageSignature {
				return res, fmt.Errorf("%w: the sigstore bundle holds a message signature, not an attestation", ErrNotSBOM)
			}
			return res, fmt.Errorf("%w: sigstore-bundle: no dsseEnvelope", ErrInvalidSBOM)
		}
		res = inner
		res.envelope = joinEnvelope("sigstore-bundle", inner.envelope)
	default:
		return res, p.unknownFormat("the document has keys of " + seen.String())
	}
	return res, nil
}

func joinEnvelope(outer, inner string) string {
	if inner == "" {
		return outer
	}
	return outer + "/" + inner
}

func (k sbomKind) orList() string {
	s := k.String()
	if i := strings.LastIndex(s, ", "); i >= 0 {
		s = s[:i] + " or " + s[i+2:]
	}
	return s
}

func (p *sbomParser) unknownFormat(detail string) error {
	if p.mediaType != "" {
		return fmt.Errorf("%w: %s (media type %q)", ErrUnknownFormat, detail, p.mediaType)
	}
	return fmt.Errorf("%w: %s", ErrUnknownFormat, detail)
}

// stringField reads a string value (null is "").
func (p *sbomParser) stringField() (string, error) {
	b, _, err := p.s.readOptString()
	return string(b), err
}

// nested reads a nested document of the kinds in allow: an object, or a
// string holding one (base64-encoded when b64, as a DSSE payload is). A
// string is decoded as it is read, by a second scanner reading from the
// first.
func (p *sbomParser) nested(allow sbomKind, b64 bool, what string) (docResult, error) {
	outer := p.s
	c, err := outer.peek()
	if err != nil {
		return docResult{}, err
	}
	if c != '"' {
		if b64 {
			return docResult{}, outer.expected("a base64 string", c)
		}
		return p.document(allow)
	}
	outer.pos++ // the opening quote
	sr := &jsonStringReader{s: outer, b64: b64}
	var r io.Reader = sr
	if b64 {
		r = base64.NewDecoder(base64.RawStdEncoding, sr)
	}
	inner := newScanner(r, 0) // the outer scanner's limit bounds it
	inner.where = "of the decoded " + what
	p.s = inner
	res, err := p.document(allow)
	if err == nil {
		err = inner.expectEnd()
	}
	p.s = outer
	var corrupt base64.CorruptInputError
	switch {
	case errors.As(err, &corrupt):
		err = outer.syntaxError("invalid base64")
	case errors.Is(err, ErrUnknownFormat):
		// Consume the rest of the string, so that the caller may go on.
		if _, derr := io.Copy(io.Discard, sr); derr != nil {
			err = derr
		}
	}
	return res, err
}

// inFormat prefixes a syntax error's path with the name of the format
// being read ("spdx: packages[3]...").
func inFormat(err error, name string) error {
	if err == nil {
		return nil
	}
	var se *sbomSyntaxError
	if errors.As(err, &se) && !se.formatted {
		if se.path == "" {
			se.path = name
		} else {
			se.path = name + ": " + se.path
		}
		se.formatted = true
	}
	return err
}

// jsonStringReader reads the decoded contents of the JSON string being
// scanned by s (its opening quote consumed), up to its closing quote. With
// b64 it also maps the URL-safe base64 alphabet to the standard one and
// drops padding, so that base64.RawStdEncoding reads either (DSSE allows
// both).
type jsonStringReader struct {
	s    *scanner
	b64  bool
	done bool
	pend []byte
	esc  [8]byte
}

func (r *jsonStringReader) Read(b []byte) (int, error) {
	n := 0
	for n < len(b) {
		if len(r.pend) > 0 {
			m := copy(b[n:], r.pend)
			r.pend = r.pend[m:]
			n += m
			continue
		}
		if r.done {
			break
		}
		s := r.s
		if s.pos >= s.end {
			if n > 0 {
				break
			}
			if !s.fill() {
				return 0, s.readErr()
			}
		}
		seg := s.buf[s.pos:s.end]
		plain := seg
		if i := indexQuoteOrBackslash(seg); i >= 0 {
			plain = seg[:i]
		}
		if len(plain) > 0 {
			m := copy(b[n:], plain)
			s.pos += m
			if r.b64 {
				n += toStdBase64(b[n : n+m])
			} else {
				n += m
			}
			continue
		}
		s.pos++
		if seg[0] == '"' {
			r.done = true
			break
		}
		pend, err := s.appendEscape(r.esc[:0])
		if err != nil {
			return n, err
		}
		if r.b64 {
			pend = pend[:toStdBase64(pend)]
		}
		r.pend = pend
	}
	if n == 0 && r.done {
		return 0, io.EOF
	}
	return n, nil
}

// toStdBase64 maps '-' and '_' to '+' and '/' and drops '=' in place,
// returning the new length.
func toStdBase64(b []byte) int {
	w := 0
	for _, c := range b {
		switch c {
		case '=':
			continue
		case '-':
			c = '+'
		case '_':
			c = '/'
		}
		b[w] = c
		w++
	}
	return w
}
