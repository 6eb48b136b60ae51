package registry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Failure reasons, as given to Metrics.LookupDone.
const (
	ReasonAuth        = "auth"            // 401
	ReasonDenied      = "denied"          // 403
	ReasonNotFound    = "not-found"       // the image (not an attachment) is missing
	ReasonRateLimited = "rate-limited"    // 429
	ReasonServerError = "server-error"    // 5xx
	ReasonStatus      = "status"          // another unexpected HTTP status
	ReasonTimeout     = "timeout"         // the background lookup ran out of time
	ReasonNetwork     = "network"         // DNS, connection, TLS
	ReasonTooLarge    = "too-large"       // a manifest or blob above the size caps
	ReasonInvalid     = "invalid"         // a malformed manifest or config
	ReasonRedirects   = "redirects"       // a redirect loop
	ReasonCanceled    = "canceled"        // the Source was closed
	ReasonRefused     = "refused-address" // a private, loopback or metadata address of an unlisted host
	ReasonBusy        = "busy"            // not started: the registry had MaxLookupsPerRegistry under way
	ReasonOther       = "other"           // anything else
)

// Errors the guarding transport and the manifest readers return.
var (
	errTooLarge     = errors.New("response exceeds the size limit")
	errRedirectLoop = errors.New("too many redirects")
	errBadManifest  = errors.New("invalid manifest")
	errBadConfig    = errors.New("invalid image config")
)

// failure is a lookup error explained: a sentence for operators (it becomes
// Evidence.Unavailable) and a reason label for metrics.
type failure struct {
	msg, reason string
}

// explain turns a lookup error into a failure. host is the registry, ref
// the image reference as the user wrote it.
func explain(host, ref string, err error) failure {
	var terr *transport.Error
	if errors.As(err, &terr) {
		return explainStatus(host, ref, terr)
	}
	var rerr *refusedError
	if errors.As(err, &rerr) {
		return explainRefused(host, rerr)
	}
	var cerr *tls.CertificateVerificationError
	var uerr x509.UnknownAuthorityError
	var herr x509.HostnameError
	var derr *net.DNSError
	var oerr *net.OpError
	switch {
	case errors.Is(err, errTooLarge):
		return failure{fmt.Sprintf("registry %s sent a response larger than the size limit for %s", host, ref), ReasonTooLarge}
	case errors.Is(err, errRedirectLoop), strings.Contains(err.Error(), "stopped after 10 redirects"):
		return failure{fmt.Sprintf("registry %s redirected more than %d times", host, maxRedirects), ReasonRedirects}
	case errors.Is(err, errBadManifest), errors.Is(err, errBadConfig):
		return failure{fmt.Sprintf("registry %s returned an unreadable manifest for %s: %v", host, ref, err), ReasonInvalid}
	case errors.Is(err, context.Canceled):
		return failure{fmt.Sprintf("the lookup of %s in registry %s was cancelled", ref, host), ReasonCanceled}
	case errors.Is(err, context.DeadlineExceeded):
		return failure{fmt.Sprintf("registry %s did not answer in time for %s", host, ref), ReasonTimeout}
	case errors.As(err, &cerr), errors.As(err, &uerr), errors.As(err, &herr):
		return failure{fmt.Sprintf("registry %s presented a TLS certificate that is not trusted", host), ReasonNetwork}
	case errors.As(err, &derr):
		return failure{fmt.Sprintf("registry %s could not be resolved (DNS)", host), ReasonNetwork}
	case errors.As(err, &oerr):
		return failure{fmt.Sprintf("registry %s could not be reached: %v", host, oerr.Err), ReasonNetwork}
	}
	var nerr net.Error
	if errors.As(err, &nerr) && nerr.Timeout() {
		return failure{fmt.Sprintf("registry %s did not answer in time for %s", host, ref), ReasonTimeout}
	}
	return failure{fmt.Sprintf("registry %s could not be read for %s: %v", host, ref, err), ReasonOther}
}

// explainRefused says which address the guard refused and how to allow
// it: the registry's own, or that of a host it sent tokenguard to (a
// redirect, its token server).
func explainRefused(host string, e *refusedError) failure {
	at := ""
	if e.host != e.ip.String() {
		at = " (" + e.ip.String() + ")"
	}
	if sameHost(host, e.addr) {
		return failure{fmt.Sprintf("registry %s resolves to a %s address%s; list it in registry.registries to look it up", host, e.class, at), ReasonRefused}
	}
	return failure{fmt.Sprintf("registry %s sent tokenguard to %s (a redirect or its token server), which resolves to a %s address%s; list %s in registry.registries to allow it", host, e.addr, e.class, at, e.addr), ReasonRefused}
}

func explainStatus(host, ref string, e *transport.Error) failure {
	code := e.StatusCode
	for _, d := range e.Errors {
		switch d.Code {
		case transport.TooManyRequestsErrorCode:
			code = http.StatusTooManyRequests
		case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode:
			if code == 0 {
				code = http.StatusNotFound
			}
		}
	}
	said := registrySaid(e)
	switch {
	case code == http.StatusUnauthorized:
		return failure{fmt.Sprintf("registry %s refused the credentials (401)%s: tokenguard needs pull access to it (the pod's image pull secret with registry.pullSecrets, or a Docker config or credential helper where tokenguard runs)", host, said), ReasonAuth}
	case code == http.StatusForbidden:
		return failure{fmt.Sprintf("registry %s denied access to %s (403)%s: the credentials tokenguard used cannot pull it (an expired ECR token, a repository policy?)", host, ref, said), ReasonDenied}
	case code == http.StatusNotFound:
		return failure{fmt.Sprintf("image %s not found in its registry", ref), ReasonNotFound}
	case code == http.StatusTooManyRequests:
		return failure{fmt.Sprintf("registry %s is rate-limiting (429)%s: give tokenguard credentials for it (Docker Hub limits anonymous pulls) or a mirror; the lookup is tried again later", host, said), ReasonRateLimited}
	case code >= 500:
		return failure{fmt.Sprintf("registry %s returned %d%s; the lookup is tried again later", host, code, said), ReasonServerError}
	}
	return failure{fmt.Sprintf("registry %s returned %d for %s%s", host, code, ref, said), ReasonStatus}
}

// registrySaid is the registry's own first error message, quoted for an
// operator (ECR's "Your authorization token has expired", GCR's
// permission names), or "" when it said nothing useful.
func registrySaid(e *transport.Error) string {
	for _, d := range e.Errors {
		m := strings.Join(strings.Fields(d.Message), " ")
		if m == "" {
			continue
		}
		if len(m) > 200 {
			m = m[:200] + "…"
		}
		return fmt.Sprintf(", saying %q", m)
	}
	return ""
}

// isNotFound reports whether err says the thing asked for does not exist:
// an attachment that is absent, which is not a failure.
func isNotFound(err error) bool {
	var terr *transport.Error
	if !errors.As(err, &terr) {
		return false
	}
	if terr.StatusCode == http.StatusNotFound {
		return true
	}
	for _, d := range terr.Errors {
		if d.Code == transport.ManifestUnknownErrorCode || d.Code == transport.NameUnknownErrorCode || d.Code == transport.BlobUnknownErrorCode {
			return true
		}
	}
	return false
}

// isAuthError reports whether err is a 401 or 403, after which the
// registry's cached credentials are dropped.
func isAuthError(err error) bool {
	var terr *transport.Error
	return errors.As(err, &terr) && (terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden)
}

// fmtDuration prints a budget the way an operator wrote it: "2s", "1.5s",
// "300ms".
func fmtDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(time.Millisecond).String()
	}
	return d.String()
}
