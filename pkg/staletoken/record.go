package staletoken

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// record holds the few fields read from one JSON object, whichever shape it
// has: an audit.k8s.io/v1 Event, an EventList (items), a CloudWatch Logs
// record (@message holding the event as a string, @timestamp), or a
// CloudWatch record with the event flattened into top-level keys. Every
// other field is skipped by the decoder.
type record struct {
	Kind        string `json:"kind"`
	APIVersion  string `json:"apiVersion"`
	AuditID     string `json:"auditID"`
	Stage       string `json:"stage"`
	Annotations struct {
		StaleToken *string `json:"authentication.k8s.io/stale-token"`
	} `json:"annotations"`
	User struct {
		Extra struct {
			PodName stringOrList `json:"authentication.kubernetes.io/pod-name"`
		} `json:"extra"`
	} `json:"user"`
	StageTimestamp           stamp `json:"stageTimestamp"`
	RequestReceivedTimestamp stamp `json:"requestReceivedTimestamp"`

	// EventList.
	Items json.RawMessage `json:"items"`

	// CloudWatch Logs.
	Message   *string `json:"@message"`
	Timestamp stamp   `json:"@timestamp"`
	LogStream string  `json:"@logStream"`
	// CloudWatch, flattened event.
	FlatStaleToken *string      `json:"annotations.authentication.k8s.io/stale-token"`
	FlatUsername   string       `json:"user.username"`
	FlatPodName    stringOrList `json:"user.extra.authentication.kubernetes.io/pod-name"`
	FlatPodName0   string       `json:"user.extra.authentication.kubernetes.io/pod-name.0"`
}

// staleToken is the annotation value, nested or flattened; nil if absent.
func (r *record) staleToken() *string {
	if r.Annotations.StaleToken != nil {
		return r.Annotations.StaleToken
	}
	return r.FlatStaleToken
}

// time is the event's time: stageTimestamp, else requestReceivedTimestamp,
// else CloudWatch's @timestamp.
func (r *record) time() (time.Time, bool) {
	for _, s := range []stamp{r.StageTimestamp, r.RequestReceivedTimestamp, r.Timestamp} {
		if s.ok {
			return s.t, true
		}
	}
	return time.Time{}, false
}

func (r *record) pods() []string {
	switch {
	case len(r.User.Extra.PodName) > 0:
		return r.User.Extra.PodName
	case len(r.FlatPodName) > 0:
		return r.FlatPodName
	case r.FlatPodName0 != "":
		return []string{r.FlatPodName0}
	}
	return nil
}

// looksLikeEvent reports whether an object that is neither an EventList nor
// a CloudWatch @message record is an audit event (nested or flattened).
func (r *record) looksLikeEvent() bool {
	return r.Kind == "Event" || strings.HasPrefix(r.APIVersion, "audit.k8s.io/") ||
		r.AuditID != "" || r.Stage != "" || r.staleToken() != nil ||
		r.StageTimestamp.ok || r.RequestReceivedTimestamp.ok ||
		r.Timestamp.ok || r.LogStream != "" || r.FlatUsername != ""
}

func (r *record) isEventList() bool {
	return r.Items != nil && (r.Kind == "" || r.Kind == "EventList")
}

// stamp is a timestamp that never fails to decode: an RFC 3339 string (as
// audit events carry), CloudWatch's "2006-01-02 15:04:05.000" (UTC), or a
// number of milliseconds since the epoch. ok is false for anything else.
type stamp struct {
	t  time.Time
	ok bool
}

var stampLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"}

func (s *stamp) UnmarshalJSON(b []byte) error {
	*s = stamp{}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '"' {
		if ms, err := strconv.ParseInt(string(b), 10, 64); err == nil && ms > 0 {
			s.t, s.ok = time.UnixMilli(ms).UTC(), true
		}
		return nil
	}
	var str string
	if json.Unmarshal(b, &str) != nil {
		return nil
	}
	s.t, s.ok = parseStamp(str)
	return nil
}

func parseStamp(str string) (time.Time, bool) {
	for _, layout := range stampLayouts {
		if t, err := time.Parse(layout, str); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// stringOrList decodes a JSON string or list of strings (user.extra values
// are lists; a flattened export may hold a single string). Other types
// decode to nothing rather than failing the whole event.
type stringOrList []string

func (l *stringOrList) UnmarshalJSON(b []byte) error {
	*l = nil
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case '"':
		var s string
		if json.Unmarshal(b, &s) == nil && s != "" {
			*l = stringOrList{s}
		}
	case '[':
		var ss []string
		if json.Unmarshal(b, &ss) == nil {
			*l = ss
			return nil
		}
		var v []any
		if json.Unmarshal(b, &v) == nil {
			for _, e := range v {
				if s, ok := e.(string); ok && s != "" {
					*l = append(*l, s)
				}
			}
		}
	}
	return nil
}
