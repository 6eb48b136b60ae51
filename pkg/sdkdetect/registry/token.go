package registry

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Tokens of Docker's token protocol (a Bearer challenge): asked of the
// realm the registry names, per repository, and kept until they expire.

// defaultTokenLife is how long a token without expires_in lasts (Docker's
// token specification).
const defaultTokenLife = 60 * time.Second

// bearerToken is a token and the time it stops being sent.
type bearerToken struct {
	token   string
	expires time.Time
}

// token returns a token for repo's pull scope from c's realm, cached
// until it expires; concurrent requests share one exchange.
func (t *authTransport) token(ctx context.Context, c challenge, repo string, auth authn.Authenticator, insecure bool) (string, error) {
	scope := scopeOf(repo)
	if tok, ok := t.cachedToken(scope); ok {
		return tok, nil
	}
	ch := t.flight.DoChan(scope, func() (any, error) {
		if tok, ok := t.cachedToken(scope); ok {
			return tok, nil
		}
		ctx, cancel := context.WithTimeout(t.base, t.timeout)
		defer cancel()
		scopes := []string{}
		if c.scope != "" && c.scope != scope {
			// As ggcr does: the scope the registry asked for first.
			scopes = append(scopes, c.scope)
		}
		if scope != "" {
			scopes = append(scopes, scope)
		}
		tok, life, err := exchange(ctx, t.reg, auth, t.inner, c, scopes, insecure)
		if err != nil {
			return "", err
		}
		if life <= 0 {
			life = defaultTokenLife
		}
		t.mu.Lock()
		t.tokens.add(scope, bearerToken{token: tok, expires: t.now().Add(life * 9 / 10)})
		t.mu.Unlock()
		return tok, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return "", res.Err
		}
		return res.Val.(string), nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// exchange asks c's realm for a token of scopes for reg with auth's
// credentials (ggcr's exchange: Basic credentials on a GET, or an OAuth2
// POST for an identity token), through rt. insecure allows a plain-HTTP
// realm. life is 0 when the token server did not say.
func exchange(ctx context.Context, reg name.Registry, auth authn.Authenticator, rt http.RoundTripper, c challenge, scopes []string, insecure bool) (tok string, life time.Duration, err error) {
	params := make(map[string]string, 2)
	if c.realm != "" {
		params["realm"] = c.realm
	}
	if c.service != "" {
		params["service"] = c.service
	}
	got, err := transport.Exchange(ctx, reg, auth, rt, scopes, &transport.Challenge{Scheme: "bearer", Parameters: params, Insecure: insecure})
	if err != nil {
		return "", 0, fmt.Errorf("token from %s: %w", redactURL(c.realm), err)
	}
	tok = got.Token
	if tok == "" {
		tok = got.AccessToken
	}
	return tok, time.Duration(got.ExpiresIn) * time.Second, nil
}

func (t *authTransport) cachedToken(scope string) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tok, ok := t.tokens.get(scope); ok && t.now().Before(tok.expires) {
		return tok.token, true
	}
	return "", false
}

// dropToken forgets scope's token if it is still tok: the registry
// refused it.
func (t *authTransport) dropToken(scope, tok string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if cur, ok := t.tokens.get(scope); ok && cur.token == tok {
		t.tokens.remove(scope)
	}
}

// scopeOf is the token scope that pulls repo, "" for none.
func scopeOf(repo string) string {
	if repo == "" {
		return ""
	}
	return "repository:" + repo + ":" + transport.PullScope
}

// redactURL drops a realm's query, which may carry anything.
func redactURL(realm string) string {
	u, err := url.Parse(realm)
	if err != nil {
		return "the token server"
	}
	u.RawQuery, u.User = "", nil
	return u.String()
}
