package registry

import "strings"

// challenge is how a registry asks for credentials, from the
// WWW-Authenticate header of a 401: "basic", or "bearer" with the token
// server's realm and service (Docker's token protocol).
type challenge struct {
	scheme         string // "basic" or "bearer"
	realm, service string
	// scope is the scope the registry asked for ("repository:acme/api:pull"),
	// if it said.
	scope string
}

// withoutScope is c without the scope of the request it answered.
func (c challenge) withoutScope() challenge {
	c.scope = ""
	return c
}

// maxChallenges bounds the challenges read from one response: a registry
// writes the header.
const maxChallenges = 16

// parseChallenge returns the first Basic or Bearer challenge of the
// WWW-Authenticate header values (RFC 7235: a scheme, then comma-separated
// name=value or name="quoted value" parameters; several challenges may
// share one value). ok is false when there is none.
func parseChallenge(values []string) (c challenge, ok bool) {
	n := 0
	for _, v := range values {
		s := v
		for n < maxChallenges {
			var scheme string
			// Challenges are separated by commas, like parameters.
			if scheme, s = readToken(strings.TrimLeft(s, " \t,")); scheme == "" {
				break
			}
			n++
			var params map[string]string
			params, s = readParams(s)
			switch strings.ToLower(scheme) {
			case "basic":
				return challenge{scheme: "basic", realm: params["realm"]}, true
			case "bearer":
				return challenge{scheme: "bearer", realm: params["realm"], service: params["service"], scope: params["scope"]}, true
			}
		}
	}
	return challenge{}, false
}

// readParams reads the parameters after a challenge's scheme, up to the
// next challenge's scheme, and returns the rest of s.
func readParams(s string) (map[string]string, string) {
	params := make(map[string]string)
	for {
		s = skipSpace(s)
		key, rest := readToken(s)
		rest = skipSpace(rest)
		if key == "" || !strings.HasPrefix(rest, "=") {
			// The next challenge's scheme, or the end.
			return params, s
		}
		rest = skipSpace(rest[1:])
		var val string
		if strings.HasPrefix(rest, `"`) {
			val, rest = readQuoted(rest)
		} else {
			val, rest = readToken(rest)
		}
		if _, dup := params[strings.ToLower(key)]; !dup {
			params[strings.ToLower(key)] = val
		}
		s = skipSpace(rest)
		if !strings.HasPrefix(s, ",") {
			return params, s
		}
		s = s[1:]
	}
}

func skipSpace(s string) string {
	return strings.TrimLeft(s, " \t")
}

// readToken reads an RFC 7230 token.
func readToken(s string) (token, rest string) {
	i := 0
	for i < len(s) && isTokenChar(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// readQuoted reads a quoted string starting at s[0] == '"', undoing
// backslash escapes; an unterminated one runs to the end.
func readQuoted(s string) (val, rest string) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '"':
			return b.String(), s[i+1:]
		case '\\':
			if i+1 < len(s) {
				i++
			}
		}
		b.WriteByte(s[i])
	}
	return b.String(), ""
}
