package sdkdetect

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// keepClientGo keeps only k8s.io/client-go, as a catalog filter would.
func keepClientGo(p PURL) bool {
	return p.Type == "golang" && p.Namespace == "k8s.io" && p.Name == "client-go"
}

// keepCatalog keeps the client SDKs of a small catalog, matched by Key.
func keepCatalog(p PURL) bool {
	switch p.Key() {
	case "golang/k8s.io/client-go", "npm/@kubernetes/client-node", "pypi/kubernetes", "maven/io.kubernetes/client-java":
		return true
	}
	return false
}

func pkg(typ, ns, name, version string) policy.Package {
	return policy.Package{Type: typ, Namespace: ns, Name: name, Version: version}
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "sbom", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseSBOMFixtures(t *testing.T) {
	clientGo28 := pkg("golang", "k8s.io", "client-go", "v0.28.4")
	clientGo11 := pkg("golang", "k8s.io", "client-go", "v11.0.0+incompatible")
	tests := []struct {
		name, file, mediaType string
		keep                  func(PURL) bool
		format, envelope      string
		predicateType         string
		want                  []policy.Package
		invalid               int
	}{
		{
			name: "spdx 2.3 syft, all", file: "spdx23-syft.json", mediaType: "application/spdx+json",
			format: "spdx",
			want: []policy.Package{
				clientGo28, // category PACKAGE-MANAGER
				clientGo11, // category PACKAGE_MANAGER, %2B in the purl
				pkg("npm", "@kubernetes", "client-node", "0.20.0"), // %40 scope
				pkg("pypi", "", "kubernetes", "29.0.0"),            // purl without version: versionInfo
				pkg("deb", "debian", "libc6", "2.36-9+deb12u4"),
			},
			invalid: 1,
		},
		{
			name: "spdx 2.3 syft, client-go only", file: "spdx23-syft.json", keep: keepClientGo,
			format: "spdx", want: []policy.Package{clientGo28, clientGo11}, invalid: 1,
		},
		{
			name: "spdx 2.3 syft, catalog", file: "spdx23-syft.json", keep: keepCatalog,
			format: "spdx",
			want: []policy.Package{
				clientGo28, clientGo11,
				pkg("npm", "@kubernetes", "client-node", "0.20.0"),
				pkg("pypi", "", "kubernetes", "29.0.0"),
			},
			invalid: 1,
		},
		{
			name: "spdx 3", file: "spdx3.json", mediaType: "application/spdx3+json", keep: keepCatalog,
			format: "spdx3",
			want: []policy.Package{
				pkg("golang", "k8s.io", "client-go", "v0.29.1"),
				pkg("maven", "io.kubernetes", "client-java", "19.0.0"), // type after the identifiers
			},
		},
		{
			name: "spdx 3, all: files are not packages", file: "spdx3.json", mediaType: "application/ld+json",
			format: "spdx3",
			want: []policy.Package{
				pkg("golang", "k8s.io", "client-go", "v0.29.1"),
				pkg("maven", "io.kubernetes", "client-java", "19.0.0"),
			},
		},
		{
			name: "cyclonedx 1.5 trivy, all", file: "cyclonedx15-trivy.json", mediaType: "application/vnd.cyclonedx+json",
			format: "cyclonedx",
			want: []policy.Package{
				pkg("golang", "k8s.io", "client-go", "v0.27.3"), // metadata.component.components
				pkg("oci", "", "operator", "sha256:8f4c1a"),     // metadata.component
				pkg("golang", "k8s.io", "apimachinery", "v0.29.2"),
				pkg("golang", "k8s.io", "client-go", "v0.29.2"),
				pkg("golang", "github.com/Azure", "go-autorest", "v14.2.0+incompatible"),
				pkg("npm", "@kubernetes", "client-node", "0.18.1"),
				pkg("pypi", "", "kubernetes", "28.1.0"),
			},
		},
		{
			name: "cyclonedx 1.5 trivy, client-go: no tools, no pedigree", file: "cyclonedx15-trivy.json", keep: keepClientGo,
			format: "cyclonedx",
			want: []policy.Package{
				pkg("golang", "k8s.io", "client-go", "v0.27.3"),
				pkg("golang", "k8s.io", "client-go", "v0.29.2"),
			},
		},
		{
			name: "in-toto v0.1 spdx (cosign attest)", file: "intoto-v01-spdx.json", mediaType: "application/vnd.in-toto+json",
			keep: keepClientGo, format: "spdx", envelope: "in-toto", predicateType: "https://spdx.dev/Document",
			want: []policy.Package{clientGo28, clientGo11},
		},
		{
			name: "in-toto v1 cyclonedx", file: "intoto-v1-cyclonedx.json", keep: keepCatalog,
			format: "cyclonedx", envelope: "in-toto", predicateType: "https://cyclonedx.org/bom/v1.5",
			want: []policy.Package{
				pkg("golang", "k8s.io", "client-go", "v0.26.1"),
				pkg("maven", "io.kubernetes", "client-java", "18.0.0"),
			},
		},
		{
			name: "buildkit attestation layer", file: "buildkit-spdx.json", mediaType: "application/vnd.in-toto+json",
			format: "spdx", envelope: "in-toto", predicateType: "https://spdx.dev/Document",
			want: []policy.Package{clientGo28, pkg("golang", "golang.org/x", "net", "v0.19.0")},
		},
		{
			name: "dsse envelope (cosign .att layer)", file: "dsse-intoto-spdx.json", mediaType: "application/vnd.dsse.envelope.v1+json",
			keep: keepClientGo, format: "spdx", envelope: "dsse/in-toto", predicateType: "https://spdx.dev/Document",
			want: []policy.Package{clientGo28, clientGo11},
		},
		{
			name: "sigstore bundle v0.3", file: "sigstore-bundle-v03.json", mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
			keep: keepClientGo, format: "cyclonedx", envelope: "sigstore-bundle/dsse/in-toto", predicateType: "https://cyclonedx.org/bom/v1.5",
			want: []policy.Package{pkg("golang", "k8s.io", "client-go", "v0.26.1")},
		},
		{
			name: "media type is only a hint", file: "cyclonedx15-trivy.json", mediaType: "application/spdx+json", keep: keepClientGo,
			format: "cyclonedx",
			want: []policy.Package{
				pkg("golang", "k8s.io", "client-go", "v0.27.3"),
				pkg("golang", "k8s.io", "client-go", "v0.29.2"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := readFixture(t, tt.file)
			// One byte at a time exercises every buffer boundary.
			for _, r := range []io.Reader{bytes.NewReader(data), iotest.OneByteReader(bytes.NewReader(data))} {
				got, err := ParseSBOM(r, tt.mediaType, 0, tt.keep)
				if err != nil {
					t.Fatalf("ParseSBOM: %v", err)
				}
				if got.Format != tt.format || got.Envelope != tt.envelope || got.PredicateType != tt.predicateType {
					t.Errorf("format, envelope, predicate type = %q, %q, %q; want %q, %q, %q",
						got.Format, got.Envelope, got.PredicateType, tt.format, tt.envelope, tt.predicateType)
				}
				if !reflect.DeepEqual(got.Packages, tt.want) {
					t.Errorf("packages:\n got %v\nwant %v", got.Packages, tt.want)
				}
				if got.InvalidPURLs != tt.invalid {
					t.Errorf("InvalidPURLs = %d, want %d", got.InvalidPURLs, tt.invalid)
				}
			}
		})
	}
}

// b64 is the standard base64 of s.
func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

const miniSPDX = `{"spdxVersion":"SPDX-2.3","packages":[{"name":"k8s.io/client-go","versionInfo":"v0.30.0",` +
	`"externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:golang/k8s.io/client-go@v0.30.0"}]}]}`

func TestParseSBOMShapes(t *testing.T) {
	clientGo30 := []policy.Package{pkg("golang", "k8s.io", "client-go", "v0.30.0")}
	statement := `{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"https://spdx.dev/Document/v2.3","predicate":` + miniSPDX + `}`
	tests := []struct {
		name, doc        string
		format, envelope string
		want             []policy.Package
	}{
		{"predicate before predicateType", `{"predicate":` + miniSPDX + `,"predicateType":"https://spdx.dev/Document","_type":"https://in-toto.io/Statement/v0.1"}`,
			"spdx", "in-toto", clientGo30},
		{"predicate as a JSON string", `{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://spdx.dev/Document","predicate":` +
			strings.ReplaceAll(`"`+strings.ReplaceAll(miniSPDX, `"`, `\"`)+`"`, "/", `\/`) + `}`,
			"spdx", "in-toto", clientGo30},
		{"dsse, payload after signatures and type", `{"signatures":[{"sig":"x"}],"payloadType":"application/vnd.in-toto+json","payload":"` + b64(statement) + `"}`,
			"spdx", "dsse/in-toto", clientGo30},
		{"dsse, payload before type", `{"payload":"` + b64(statement) + `","payloadType":"application/vnd.in-toto+json"}`,
			"spdx", "dsse/in-toto", clientGo30},
		{"dsse, url-safe unpadded base64 with escapes", `{"payloadType":"application/vnd.in-toto+json","payload":"` +
			strings.ReplaceAll(base64.RawURLEncoding.EncodeToString([]byte(statement+"  ")), "_", `\u005f`) + `"}`,
			"spdx", "dsse/in-toto", clientGo30},
		{"dsse, bare sbom payload", `{"payloadType":"application/spdx+json","payload":"` + b64(miniSPDX) + `"}`,
			"spdx", "dsse", clientGo30},
		{"sigstore bundle v0.1", `{"mediaType":"application/vnd.dev.sigstore.bundle+json;version=0.1","verificationMaterial":{},` +
			`"dsseEnvelope":{"payload":"` + b64(statement) + `","payloadType":"application/vnd.in-toto+json","signatures":[]}}`,
			"spdx", "sigstore-bundle/dsse/in-toto", clientGo30},
		{"spdx without spdxVersion", `{"packages":[]}`, "spdx", "", nil},
		{"spdx nulls", `{"spdxVersion":"SPDX-2.2","packages":[{"externalRefs":null,"versionInfo":null},` +
			`{"externalRefs":[{"referenceType":"purl","referenceLocator":null}]}]}`, "spdx", "", nil},
		{"spdx purl type in other case", `{"spdxVersion":"SPDX-2.3","packages":[{"externalRefs":[{"referenceType":"PURL","referenceCategory":"OTHER",` +
			`"referenceLocator":" pkg:golang/k8s.io/client-go@v0.30.0 "}]}]}`, "spdx", "", clientGo30},
		{"spdx duplicates kept once", `{"spdxVersion":"SPDX-2.3","packages":[` + strings.Repeat(`{"externalRefs":[{"referenceType":"purl",`+
			`"referenceLocator":"pkg:golang/k8s.io/client-go@v0.30.0"}]},`, 40) + `{}]}`, "spdx", "", clientGo30},
		{"spdx versionInfo NOASSERTION", `{"spdxVersion":"SPDX-2.3","packages":[{"versionInfo":"NOASSERTION","externalRefs":[` +
			`{"referenceType":"purl","referenceLocator":"pkg:golang/k8s.io/client-go"}]}]}`, "spdx", "", []policy.Package{pkg("golang", "k8s.io", "client-go", "")}},
		{"spdx 3 top-level elements, @type array, IRI full", `{"elements":["https://x/1",{"@type":["Element","https://spdx.org/rdf/3.0.1/terms/Software/Package"],` +
			`"packageUrl":"pkg:golang/k8s.io/client-go","packageVersion":"v0.30.0"}]}`, "spdx3", "", clientGo30},
		{"cyclonedx 1.2, no bomFormat first", `{"specVersion":"1.2","components":[{"purl":"pkg:golang/k8s.io/client-go@v0.30.0"}],"bomFormat":"CycloneDX"}`,
			"cyclonedx", "", clientGo30},
		{"cyclonedx null metadata and component", `{"bomFormat":"CycloneDX","metadata":null,"components":null}`, "cyclonedx", "", nil},
		{"cyclonedx metadata without component", `{"bomFormat":"CycloneDX","metadata":{"component":null,"timestamp":"x"}}`, "cyclonedx", "", nil},
		{"huge numbers and strings", `{"bomFormat":"CycloneDX","version":1e999999,"x":-0.5E+3,"big":12345678901234567890123456789,` +
			`"s":"` + strings.Repeat(`ab\"\\\u00e9`, 50000) + `","components":[{"purl":"pkg:golang/k8s.io/client-go@v0.30.0"}]}`, "cyclonedx", "", clientGo30},
		{"unicode escapes and surrogates in purl", `{"bomFormat":"CycloneDX","components":[{"purl":"pkg:golang/k8s.io/client\u002dgo@v0.30.0"},` +
			`{"purl":"pkg:npm/x\ud83d\ude00y@1"},{"purl":"pkg:npm/lone\ud800@1"},{"purl":"pkg:npm/lone2\udc00\n@1"}]}`, "cyclonedx", "",
			append(append([]policy.Package(nil), clientGo30...), pkg("npm", "", "x\U0001F600y", "1"), pkg("npm", "", "lone\uFFFD", "1"), pkg("npm", "", "lone2\uFFFD\n", "1"))},
		{"utf-8 byte order mark", "\xEF\xBB\xBF" + miniSPDX, "spdx", "", clientGo30},
		{"whitespace everywhere", " \n\t{ \"bomFormat\" : \"CycloneDX\" , \"components\" : [ { \"purl\" : \"pkg:golang/k8s.io/client-go@v0.30.0\" } ] } \r\n",
			"cyclonedx", "", clientGo30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(tt.doc), iotest.OneByteReader(strings.NewReader(tt.doc))} {
				got, err := ParseSBOM(r, "", 0, nil)
				if err != nil {
					t.Fatalf("ParseSBOM: %v", err)
				}
				if got.Format != tt.format || got.Envelope != tt.envelope {
					t.Errorf("format, envelope = %q, %q; want %q, %q", got.Format, got.Envelope, tt.format, tt.envelope)
				}
				if !reflect.DeepEqual(got.Packages, tt.want) {
					t.Errorf("packages:\n got %#v\nwant %#v", got.Packages, tt.want)
				}
			}
		})
	}
}

func TestParseSBOMErrors(t *testing.T) {
	slsa := string(readFixture(t, "slsa-provenance.json"))
	spdx := string(readFixture(t, "spdx23-syft.json"))
	deep := strings.Repeat(`{"components":[`, 70)
	tests := []struct {
		name, doc, mediaType string
		maxBytes             int64
		is                   []error
		msg                  string // a substring of the message
	}{
		{"empty", "", "", 0, []error{ErrInvalidSBOM, io.ErrUnexpectedEOF}, "unexpected end of input (at byte 0)"},
		{"truncated spdx", spdx[:len(spdx)/2], "", 0, []error{ErrInvalidSBOM, io.ErrUnexpectedEOF}, "spdx: packages[3]"},
		{"truncated after value", `{"spdxVersion":"SPDX-2.3"`, "", 0, []error{ErrInvalidSBOM, io.ErrUnexpectedEOF}, "unexpected end of input"},
		{"externalRefs not an array", `{"spdxVersion":"SPDX-2.3","packages":[{},{"externalRefs":{"a":1}}]}`, "", 0,
			[]error{ErrInvalidSBOM}, "spdx: packages[1].externalRefs: expected an array, found an object (at byte 57)"},
		{"referenceLocator not a string", `{"packages":[{"externalRefs":[{},{"referenceLocator":7}]}]}`, "", 0,
			[]error{ErrInvalidSBOM}, "spdx: packages[0].externalRefs[1].referenceLocator: expected a string, found a number"},
		{"components not an array", `{"bomFormat":"CycloneDX","components":[{"components":"x"}]}`, "", 0,
			[]error{ErrInvalidSBOM}, "cyclonedx: components[0].components: expected an array, found a string"},
		{"components too deep", `{"bomFormat":"CycloneDX","components":[` + deep, "", 0,
			[]error{ErrInvalidSBOM}, "components nested deeper than 64"},
		{"json too deep", `{"bomFormat":"CycloneDX","x":` + strings.Repeat("[", 600), "", 0,
			[]error{ErrInvalidSBOM}, "nesting deeper than 512"},
		{"missing comma", `{"bomFormat":"CycloneDX" "components":[]}`, "", 0, []error{ErrInvalidSBOM}, "expected ',' or '}', found a string"},
		{"trailing comma", `{"bomFormat":"CycloneDX","x":[1,]}`, "", 0, []error{ErrInvalidSBOM}, "expected a value, found ']'"},
		{"bad literal", `{"bomFormat":"CycloneDX","x":nul}`, "", 0, []error{ErrInvalidSBOM}, `invalid literal, expected "null"`},
		{"bad number", `{"bomFormat":"CycloneDX","x":01}`, "", 0, []error{ErrInvalidSBOM}, "expected ',' or '}', found a number"},
		{"bad number 2", `{"bomFormat":"CycloneDX","x":1.e5}`, "", 0, []error{ErrInvalidSBOM}, "invalid number"},
		{"bad escape", `{"bomFormat":"CycloneDX","components":[{"purl":"a\x"}]}`, "", 0, []error{ErrInvalidSBOM}, `invalid escape "\\x"`},
		{"bad escape in a skipped string", `{"bomFormat":"CycloneDX","description":"a\qb"}`, "", 0, []error{ErrInvalidSBOM}, `invalid escape "\\q"`},
		{"bad unicode escape", `{"bomFormat":"CycloneDX","components":[{"purl":"\u12G4"}]}`, "", 0, []error{ErrInvalidSBOM}, `invalid \u escape`},
		{"data after the document", `{"bomFormat":"CycloneDX"} {}`, "", 0, []error{ErrInvalidSBOM}, "unexpected an object after the top-level value"},
		{"not json", `hello`, "", 0, []error{ErrUnknownFormat}, "not JSON (it starts with 'h')"},
		{"cyclonedx xml", `<?xml version="1.0"?><bom/>`, "", 0, []error{ErrUnknownFormat, ErrUnsupportedFormat}, "the document is CycloneDX XML"},
		{"cyclonedx xml, media type quoted", "\n <?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<bom xmlns=\"http://cyclonedx.org/schema/bom/1.5\">",
			"application/vnd.cyclonedx+xml", 0, []error{ErrUnsupportedFormat}, `CycloneDX XML (media type "application/vnd.cyclonedx+xml")`},
		{"xml media type, unknown json", `{}`, "application/vnd.cyclonedx+xml", 0, []error{ErrUnknownFormat}, `no SPDX 2`},
		{"tag-value", "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\n", "text/spdx", 0, []error{ErrUnsupportedFormat}, "SPDX tag-value"},
		{"tag-value with a comment first", "## Document Information\n\nSPDXVersion: SPDX-2.2\n", "", 0, []error{ErrUnsupportedFormat}, "SPDX tag-value"},
		{"rdf/xml", `<rdf:RDF xmlns:spdx="http://spdx.org/rdf/terms#">`, "", 0, []error{ErrUnsupportedFormat}, "SPDX RDF/XML"},
		{"gzip", "\x1f\x8b\x08\x00", "", 0, []error{ErrUnsupportedFormat}, "gzip-compressed"},
		{"utf-16", "\xff\xfe{\x00", "", 0, []error{ErrUnsupportedFormat}, "UTF-16"},
		{"tag-value as an in-toto predicate (cosign attest --type spdx)", `{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://spdx.dev/Document",` +
			`"predicate":"SPDXVersion: SPDX-2.2\nDataLicense: CC0-1.0\n"}`, "", 0, []error{ErrUnsupportedFormat}, "unsupported SBOM format: the document is SPDX tag-value"},
		{"tag-value predicate in dsse", `{"payloadType":"application/vnd.in-toto+json","payload":"` +
			b64(`{"predicateType":"https://spdx.dev/Document","predicate":"SPDXVersion: SPDX-2.2\n"}`) + `"}`, "", 0, []error{ErrUnsupportedFormat}, "SPDX tag-value"},
		{"xml predicate", `{"predicateType":"https://cyclonedx.org/bom","predicate":"<?xml version=\"1.0\"?>\n<bom xmlns=\"http://cyclonedx.org/schema/bom/1.4\"/>"}`,
			"", 0, []error{ErrUnsupportedFormat}, "CycloneDX XML"},
		{"array", `[{"spdxVersion":"SPDX-2.3"}]`, "", 0, []error{ErrUnknownFormat}, "the document is an array"},
		{"unknown object", `{"name":"x","version":"1"}`, "application/json", 0, []error{ErrUnknownFormat}, `media type "application/json"`},
		{"mixed", `{"spdxVersion":"SPDX-2.3","bomFormat":"CycloneDX"}`, "", 0, []error{ErrUnknownFormat}, "keys of SPDX 2, CycloneDX"},
		{"slsa provenance", slsa, "", 0, []error{ErrNotSBOM}, `in-toto predicate type "https://slsa.dev/provenance/v1"`},
		{"slsa provenance, predicate first", `{"predicate":{"buildDefinition":{}},"predicateType":"https://slsa.dev/provenance/v0.2"}`, "", 0,
			[]error{ErrNotSBOM}, "slsa.dev"},
		{"slsa provenance in dsse", `{"payloadType":"application/vnd.in-toto+json","payload":"` + b64(slsa) + `"}`, "", 0,
			[]error{ErrNotSBOM}, "slsa.dev"},
		{"slsa provenance in a bundle", `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","dsseEnvelope":` +
			`{"payloadType":"application/vnd.in-toto+json","payload":"` + b64(slsa) + `"}}`, "", 0, []error{ErrNotSBOM}, "slsa.dev"},
		{"vuln predicate", `{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://cosign.sigstore.dev/attestation/vuln/v1","predicate":{"scanner":{}}}`,
			"", 0, []error{ErrNotSBOM}, "vuln"},
		{"no predicateType", `{"_type":"https://in-toto.io/Statement/v1","predicate":{}}`, "", 0, []error{ErrNotSBOM}, "without predicateType"},
		{"no predicate", `{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://spdx.dev/Document"}`, "", 0, []error{ErrInvalidSBOM}, "has no predicate"},
		{"sbom predicate of unknown shape", `{"predicateType":"https://spdx.dev/Document","predicate":{"x":1}}`, "", 0, []error{ErrUnknownFormat}, "no SPDX 2, SPDX 3, CycloneDX or syft JSON keys"},
		{"sbom predicate of unknown shape, type after", `{"predicate":{"x":1},"predicateType":"https://spdx.dev/Document"}`, "", 0, []error{ErrUnknownFormat}, "no SPDX 2"},
		{"dsse of another payload type", `{"payloadType":"text/plain","payload":"aGVsbG8="}`, "", 0, []error{ErrNotSBOM}, `"text/plain"`},
		{"dsse of another payload type, after", `{"payload":"aGVsbG8=","payloadType":"text/plain"}`, "", 0, []error{ErrNotSBOM}, `"text/plain"`},
		{"dsse bad base64", `{"payloadType":"application/vnd.in-toto+json","payload":"e30*"}`, "", 0, []error{ErrInvalidSBOM}, "dsse: payload: invalid base64"},
		{"dsse payload not a string", `{"payloadType":"application/vnd.in-toto+json","payload":{}}`, "", 0, []error{ErrInvalidSBOM}, "dsse: payload: expected a base64 string"},
		{"dsse truncated payload", `{"payloadType":"application/vnd.in-toto+json","payload":"` + b64(miniSPDX)[:40], "", 0,
			[]error{ErrInvalidSBOM, io.ErrUnexpectedEOF}, "unexpected end of input"},
		{"dsse malformed payload", `{"payloadType":"application/vnd.in-toto+json","payload":"` + b64(`{"predicateType":"https://spdx.dev/Document","predicate":{"packages":{}}}`) + `"}`,
			"", 0, []error{ErrInvalidSBOM}, "dsse: payload: in-toto: predicate: spdx: packages: expected an array, found an object (at byte 69 of the decoded payload)"},
		{"bundle with message signature", `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","messageSignature":{"signature":"x"}}`, "", 0,
			[]error{ErrNotSBOM}, "message signature"},
		{"too large", spdx, "", 1000, []error{ErrTooLarge}, "more than 1000 bytes"},
		{"too large by trailing space", miniSPDX + strings.Repeat(" ", 100), "", int64(len(miniSPDX) + 10), []error{ErrTooLarge}, "size limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSBOM(strings.NewReader(tt.doc), tt.mediaType, tt.maxBytes, nil)
			if err == nil {
				t.Fatalf("ParseSBOM = %+v, want an error", got)
			}
			if got != nil {
				t.Errorf("ParseSBOM returned %+v with its error", got)
			}
			for _, target := range tt.is {
				if !errors.Is(err, target) {
					t.Errorf("error %q does not wrap %q", err, target)
				}
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
		})
	}
}

// TestParseSBOMTruncations cuts a document at every byte: each prefix is
// an error, never a panic or a result.
func TestParseSBOMTruncations(t *testing.T) {
	for _, file := range []string{"spdx3.json", "cyclonedx15-trivy.json", "sigstore-bundle-v03.json"} {
		data := readFixture(t, file)
		data = bytes.TrimSpace(data)
		for n := range len(data) {
			if _, err := ParseSBOM(bytes.NewReader(data[:n]), "", 0, nil); err == nil {
				t.Fatalf("%s cut at %d: no error", file, n)
			}
		}
	}
}

func TestParseSBOMReadError(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader(`{"bomFormat":"CycloneDX",`), iotest.ErrReader(boom))
	if _, err := ParseSBOM(r, "", 0, nil); !errors.Is(err, boom) {
		t.Fatalf("error %v does not wrap the read error", err)
	}
}

// TestParseSBOMBufferBoundaries puts every interesting token across the
// scanner's buffer boundary.
func TestParseSBOMBufferBoundaries(t *testing.T) {
	purl := `"pkg:golang/k8s.io/client-go@v0.30.0"`
	doc := `{"bomFormat":"CycloneDX","components":[{"description":"` + strings.Repeat(`\\`, 10) + `\"q\"\u00e9","purl":` + purl + `}]}`
	for pad := scanBufSize - len(doc) - 10; pad < scanBufSize+10; pad++ {
		// Trailing space fills the next buffer whole, overwriting the last.
		full := strings.Replace(doc, `"bomFormat"`, strings.Repeat(" ", pad)+`"bomFormat"`, 1) + strings.Repeat(" ", 2*scanBufSize)
		got, err := ParseSBOM(strings.NewReader(full), "", 0, nil)
		if err != nil {
			t.Fatalf("pad %d: %v", pad, err)
		}
		if len(got.Packages) != 1 || got.Packages[0].Version != "v0.30.0" {
			t.Fatalf("pad %d: packages %v", pad, got.Packages)
		}
	}
}
