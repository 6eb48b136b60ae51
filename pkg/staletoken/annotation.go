package staletoken

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Audit annotation and user-info keys the API server writes (FACTS.md).
const (
	// AnnotationKey is the audit annotation set on requests made with a
	// bound service-account token older than its warnafter claim.
	AnnotationKey = "authentication.k8s.io/stale-token"
	// FlattenedAnnotationKey is AnnotationKey as CloudWatch Logs shows it
	// when it flattens the event into top-level keys.
	FlattenedAnnotationKey = "annotations." + AnnotationKey
	// PodNameExtraKey is the user.extra key naming the pod a token is bound to.
	PodNameExtraKey = "authentication.kubernetes.io/pod-name"
	// WarnAfterSeconds is how long after issue the API server starts
	// annotating: the token's warnafter claim is its issue time + 3607 s.
	WarnAfterSeconds = 3607

	subjectPrefix = "system:serviceaccount:"
)

// ErrAnnotation is wrapped by every ParseAnnotation error.
var ErrAnnotation = errors.New("malformed stale-token annotation")

// ParseAnnotation parses the value of the stale-token annotation,
//
//	subject: system:serviceaccount:<ns>:<sa>, seconds after warning threshold: <N>
//
// as kube-apiserver writes it, or with the trailing "." the EKS documentation
// shows. Runs of spaces (and tabs) are accepted where the format has one
// space, and around the punctuation; the words match case-insensitively. The
// subject must be a service account (two non-empty names, no spaces or
// colons) and N a non-negative number that fits in an int64: the API server
// writes an integer and only annotates past the threshold, so a negative N
// is not something it writes; a fraction ("4185802.0", "4.185802e+06", as
// log pipelines that turn the field into a number render it) is truncated
// to whole seconds.
func ParseAnnotation(value string) (subject string, seconds int64, err error) {
	v := strings.TrimSpace(value)
	v = strings.TrimSpace(strings.TrimSuffix(v, "."))
	head, tail, ok := strings.Cut(v, ",")
	if !ok {
		return "", 0, fmt.Errorf("%w: %q has no \", seconds after warning threshold:\"", ErrAnnotation, value)
	}
	subject, ok = field(head, "subject")
	if !ok {
		return "", 0, fmt.Errorf("%w: %q does not start with \"subject:\"", ErrAnnotation, value)
	}
	if _, _, ok := SplitSubject(subject); !ok {
		return "", 0, fmt.Errorf("%w: subject %q is not system:serviceaccount:<namespace>:<name>", ErrAnnotation, subject)
	}
	n, ok := field(tail, "seconds after warning threshold")
	if !ok {
		return "", 0, fmt.Errorf("%w: %q lacks \"seconds after warning threshold:\" after the subject", ErrAnnotation, value)
	}
	seconds, ok = parseSeconds(n)
	if !ok {
		return "", 0, fmt.Errorf("%w: seconds after warning threshold %q is not a non-negative number of seconds", ErrAnnotation, n)
	}
	return subject, seconds, nil
}

// field matches "<words>: <value>" where words are compared word by word,
// case-insensitively, whatever the spacing; it returns the trimmed value,
// which must be one token.
func field(s, words string) (string, bool) {
	name, value, ok := strings.Cut(s, ":")
	if !ok {
		return "", false
	}
	if !sameWords(name, words) {
		return "", false
	}
	value = strings.TrimSpace(value)
	if value == "" || strings.ContainsAny(value, " \t\r\n") {
		return "", false
	}
	return value, true
}

// sameWords compares the white-space separated words of got and want,
// case-insensitively, without allocating.
func sameWords(got, want string) bool {
	for {
		var g, w string
		g, got = nextWord(got)
		w, want = nextWord(want)
		if g == "" || w == "" {
			return g == w
		}
		if !strings.EqualFold(g, w) {
			return false
		}
	}
}

func nextWord(s string) (word, rest string) {
	s = strings.TrimLeft(s, " \t\r\n")
	i := strings.IndexAny(s, " \t\r\n")
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

func parseSeconds(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	if strings.ContainsAny(s, ".eE") {
		return parseFractionalSeconds(s)
	}
	if len(s) > 19 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if n > (1<<63-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// SplitSubject splits "system:serviceaccount:<ns>:<sa>" into its namespace
// and service-account name; ok is false for any other form.
func SplitSubject(subject string) (namespace, serviceAccount string, ok bool) {
	rest, found := strings.CutPrefix(subject, subjectPrefix)
	if !found {
		return "", "", false
	}
	namespace, serviceAccount, found = strings.Cut(rest, ":")
	if !found || namespace == "" || serviceAccount == "" ||
		strings.ContainsAny(namespace, ":, \t\r\n") || strings.ContainsAny(serviceAccount, ":, \t\r\n") {
		return "", "", false
	}
	return namespace, serviceAccount, true
}

// parseFractionalSeconds reads a non-negative decimal number with a
// fraction or an exponent ("5.0", "4.185802e+06") and truncates it to whole
// seconds; signs, NaN, infinities and values past int64 are refused.
func parseFractionalSeconds(s string) (int64, bool) {
	if s[0] < '0' || s[0] > '9' || s[len(s)-1] == '.' {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f >= math.MaxInt64 {
		return 0, false
	}
	return int64(f), true
}
