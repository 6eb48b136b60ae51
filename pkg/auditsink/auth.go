package auditsink

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// authenticator accepts a request with a client certificate the listener
// verified or with one of its bearer tokens.
type authenticator struct {
	// tokens are the SHA-256 sums of the accepted tokens: comparing sums
	// in constant time does not reveal a token's length either.
	tokens [][sha256.Size]byte
}

func newAuthenticator(tokens []string) authenticator {
	var a authenticator
	for _, t := range tokens {
		a.tokens = append(a.tokens, sha256.Sum256([]byte(t)))
	}
	return a
}

func (a authenticator) allowed(r *http.Request) bool {
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		return true
	}
	token, ok := bearerToken(r.Header.Get("Authorization"))
	if !ok || len(a.tokens) == 0 {
		return false
	}
	sum := sha256.Sum256([]byte(token))
	match := 0
	for i := range a.tokens {
		match |= subtle.ConstantTimeCompare(sum[:], a.tokens[i][:])
	}
	return match == 1
}

// bearerToken reads "Bearer <token>" (the scheme case-insensitively).
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// ClientAuthTLS returns a clone of base (nil: TLS 1.2 or later, nothing
// else) that asks for a client certificate and, when one is presented,
// verifies it against clientCAs; a connection without one still completes
// and must then carry a bearer token. With clientCAs nil the clone asks for
// no certificate: a nil pool would make crypto/tls verify against the
// system roots.
//
// Use a CA that signs only the API server's audit client certificate: any
// certificate clientCAs verifies may post audit events.
func ClientAuthTLS(base *tls.Config, clientCAs *x509.CertPool) *tls.Config {
	var cfg *tls.Config
	if base == nil {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		cfg = base.Clone()
	}
	if clientCAs == nil {
		cfg.ClientAuth, cfg.ClientCAs = tls.NoClientCert, nil
		return cfg
	}
	cfg.ClientAuth, cfg.ClientCAs = tls.VerifyClientCertIfGiven, clientCAs
	return cfg
}

// LoadClientCAs reads a PEM bundle of the CAs that sign the audit clients'
// certificates.
func LoadClientCAs(file string) (*x509.CertPool, error) {
	pemBytes, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading the audit client CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("audit client CA file %s holds no PEM certificate", file)
	}
	return pool, nil
}

// LoadTokens reads the accepted bearer tokens, one a line; blank lines and
// lines starting with # are skipped, surrounding spaces trimmed. A file
// without a token, or a token with spaces or control characters inside
// (no HTTP header can carry it), is an error.
func LoadTokens(file string) ([]string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading the audit token file: %w", err)
	}
	var tokens []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.ContainsFunc(line, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return nil, fmt.Errorf("audit token file %s, line %d: a token has no spaces or control characters inside", file, n)
		}
		tokens = append(tokens, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("audit token file %s: %w", file, err)
	}
	if len(tokens) == 0 {
		return nil, errors.New("audit token file " + file + " holds no token (one a line; blank lines and # comments are skipped)")
	}
	return tokens, nil
}
