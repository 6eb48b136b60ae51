package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
)

const (
	// DefaultCAValidity is how long a generated CA is valid: 10 years. The CA
	// is what operators paste into a caBundle, so it should rarely change.
	DefaultCAValidity = 10 * 365 * 24 * time.Hour

	// DefaultServingValidity is how long a generated serving certificate is
	// valid when Generate is given a zero validity: 1 year.
	DefaultServingValidity = 365 * 24 * time.Hour

	// MinServingValidity is the shortest serving-certificate validity
	// `tokenguard certs` accepts: below it a certificate expires before a
	// rollout and the first reload interval are over, and the webhook's
	// TLS fails (or fails closed) soon after it is deployed.
	MinServingValidity = time.Hour

	// maxCommonNameLen is the RFC 5280 upper bound (ub-common-name) for a
	// CommonName; longer first SANs are left out of the subject.
	maxCommonNameLen = 64
)

var (
	// ErrNoSANs is returned when no subject alternative names are given.
	ErrNoSANs = errors.New("certs: no subject alternative names")
	// ErrInvalidSAN is returned for a SAN that is neither an IP address nor a
	// valid (optionally wildcard) lowercase RFC 1123 DNS name.
	ErrInvalidSAN = errors.New("certs: invalid subject alternative name")
	// ErrInvalidValidity is returned for a negative validity.
	ErrInvalidValidity = errors.New("certs: invalid validity")
)

// Bundle holds PEM-encoded material: a CA and a serving certificate signed by
// it. Keys are PKCS #8 ("PRIVATE KEY") ECDSA P-256 keys.
type Bundle struct {
	CACertPEM []byte
	CAKeyPEM  []byte
	CertPEM   []byte
	KeyPEM    []byte
}

// ServiceSANs returns the DNS names by which a Service is reached inside the
// cluster, in this order: name, name.ns, name.ns.svc,
// name.ns.svc.cluster.local. The API server calls webhooks at name.ns.svc.
func ServiceSANs(service, namespace string) []string {
	return []string{
		service,
		service + "." + namespace,
		service + "." + namespace + ".svc",
		service + "." + namespace + ".svc.cluster.local",
	}
}

// Generate makes a CA and a serving certificate signed by it, both with
// ECDSA P-256 keys and random 128-bit serial numbers.
//
// Each SAN that net.ParseIP accepts becomes an IP address SAN; every other
// SAN must be a lowercase RFC 1123 subdomain or a "*." wildcard of one and
// becomes a DNS SAN. Duplicates are dropped. The first SAN is also the
// subject CommonName, unless it is longer than 64 bytes.
//
// The serving certificate is valid from now (to the second) for validity
// (DefaultServingValidity if zero); it is for ServerAuth only. The CA is valid
// from now for DefaultCAValidity, or longer if the serving certificate
// outlives that. Callers that want tolerance for clock skew pass an earlier
// now.
func Generate(sans []string, now time.Time, validity time.Duration) (*Bundle, error) {
	b, _, err := generate(sans, now, validity)
	return b, err
}

// SelfSigned makes an in-memory CA and a serving certificate for sans, valid
// from now for DefaultServingValidity. It returns the serving certificate
// (with Leaf set) and the CA certificate in PEM form, for a caBundle.
func SelfSigned(sans []string, now time.Time) (*tls.Certificate, []byte, error) {
	b, leaf, err := generate(sans, now, DefaultServingValidity)
	if err != nil {
		return nil, nil, err
	}
	cert, err := tls.X509KeyPair(b.CertPEM, b.KeyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: loading generated key pair: %w", err)
	}
	cert.Leaf = leaf
	return &cert, b.CACertPEM, nil
}

type parsedSANs struct {
	dns []string
	ips []net.IP
}

func parseSANs(sans []string) (parsedSANs, error) {
	var p parsedSANs
	if len(sans) == 0 {
		return p, ErrNoSANs
	}
	seen := make(map[string]bool, len(sans))
	for _, s := range sans {
		if seen[s] {
			continue
		}
		seen[s] = true
		if ip := net.ParseIP(s); ip != nil {
			p.ips = append(p.ips, ip)
			continue
		}
		if s == "" {
			return p, fmt.Errorf("%w: empty name", ErrInvalidSAN)
		}
		var msgs []string
		if strings.HasPrefix(s, "*.") {
			msgs = validation.IsWildcardDNS1123Subdomain(s)
		} else {
			msgs = validation.IsDNS1123Subdomain(s)
		}
		if len(msgs) > 0 {
			return p, fmt.Errorf("%w %q: %s", ErrInvalidSAN, s, strings.Join(msgs, "; "))
		}
		p.dns = append(p.dns, s)
	}
	return p, nil
}

func generate(sans []string, now time.Time, validity time.Duration) (*Bundle, *x509.Certificate, error) {
	p, err := parseSANs(sans)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case validity < 0:
		return nil, nil, fmt.Errorf("%w: %s is negative", ErrInvalidValidity, validity)
	case validity == 0:
		validity = DefaultServingValidity
	}

	notBefore := now.UTC().Truncate(time.Second)
	leafNotAfter := notBefore.Add(validity)
	caNotAfter := notBefore.Add(DefaultCAValidity)
	if leafNotAfter.After(caNotAfter) {
		caNotAfter = leafNotAfter
	}

	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: generating CA key: %w", err)
	}
	caSerial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	caSKID, err := subjectKeyID(&caKey.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          caSerial,
		Subject:               pkix.Name{CommonName: fmt.Sprintf("tokenguard-ca@%d", notBefore.Unix())},
		NotBefore:             notBefore,
		NotAfter:              caNotAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		SubjectKeyId:          caSKID,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: signing CA certificate: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: parsing CA certificate: %w", err)
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: generating serving key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	skid, err := subjectKeyID(&key.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	var subject pkix.Name
	if len(sans[0]) <= maxCommonNameLen {
		subject.CommonName = sans[0]
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		NotBefore:             notBefore,
		NotAfter:              leafNotAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              p.dns,
		IPAddresses:           p.ips,
		SubjectKeyId:          skid,
		AuthorityKeyId:        caCert.SubjectKeyId,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: signing serving certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: parsing serving certificate: %w", err)
	}

	caKeyPEM, err := encodeKey(caKey)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	return &Bundle{
		CACertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		CAKeyPEM:  caKeyPEM,
		CertPEM:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:    keyPEM,
	}, leaf, nil
}

// randomSerial returns a random serial number in [1, 2^128).
func randomSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, fmt.Errorf("certs: generating serial number: %w", err)
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}

// subjectKeyID follows RFC 7093 section 2 method 1: the leftmost 160 bits of
// the SHA-256 hash of the subjectPublicKey bit string (the uncompressed point).
func subjectKeyID(pub *ecdsa.PublicKey) ([]byte, error) {
	k, err := pub.ECDH()
	if err != nil {
		return nil, fmt.Errorf("certs: encoding public key: %w", err)
	}
	sum := sha256.Sum256(k.Bytes())
	return sum[:20], nil
}

func encodeKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("certs: encoding private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
