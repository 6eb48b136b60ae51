package staletoken

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// record holds the few fields read from one JSON object, whichever shape it
// has: an audit.k8s.io/v1 Event, an EventList (items), a log record holding
// the event as a JSON string (CloudWatch Logs Insights "@message", the
// CloudWatch API's "message", Fluent Bit's "log"), a CloudWatch record with
// the event flattened into top-level keys, a page of the CloudWatch API
// (events) or of Logs Insights results (results), or a Logs Insights row of
// the EKS documentation's query (subject, elapsedtime). Every other field is
// skipped by the decoder.
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

	// Log records carrying the event as a string.
	Message      *string `json:"@message"`
	PlainMessage *string `json:"message"` // CloudWatch API (filter-log-events, get-log-events)
	Log          *string `json:"log"`     // Fluent Bit / Fluentd without a JSON parser
	Timestamp    stamp   `json:"@timestamp"`
	APITimestamp stamp   `json:"timestamp"` // CloudWatch API: milliseconds since the epoch
	Date         stamp   `json:"date"`      // Fluent Bit: seconds since the epoch
	LogStream    string  `json:"@logStream"`
	// CloudWatch, flattened event.
	FlatStaleToken *string      `json:"annotations.authentication.k8s.io/stale-token"`
	FlatUsername   string       `json:"user.username"`
	FlatPodName    stringOrList `json:"user.extra.authentication.kubernetes.io/pod-name"`
	FlatPodName0   string       `json:"user.extra.authentication.kubernetes.io/pod-name.0"`
	// Logs Insights, the EKS query: parse @message "subject: *, seconds
	// after warning threshold:*\"" as subject, elapsedtime.
	Subject     *string         `json:"subject"`
	ElapsedTime json.RawMessage `json:"elapsedtime"`

	// Pages: the CloudWatch API's events, Logs Insights' results.
	Events  json.RawMessage `json:"events"`
	Results json.RawMessage `json:"results"`
}

// wrapped is the event text of a log record that carries the event as a
// string, and whether there is one. "message" and "log" count only when
// they hold a JSON object or mention the annotation: many logs have a plain
// "message".
func (r *record) wrapped() (string, bool) {
	if r.Message != nil {
		return *r.Message, true
	}
	for _, m := range []*string{r.PlainMessage, r.Log} {
		if m == nil {
			continue
		}
		t := strings.TrimSpace(*m)
		if strings.HasPrefix(t, "{") || strings.Contains(t, staleMarker) || strings.Contains(t, AnnotationKey) {
			return *m, true
		}
	}
	return "", false
}

// staleToken is the annotation value, nested, flattened or rebuilt from the
// EKS query's subject and elapsedtime; ok is false if absent.
func (r *record) staleToken() (string, bool) {
	switch {
	case r.Annotations.StaleToken != nil:
		return *r.Annotations.StaleToken, true
	case r.FlatStaleToken != nil:
		return *r.FlatStaleToken, true
	case r.Subject != nil && len(r.ElapsedTime) > 0 && string(r.ElapsedTime) != "null":
		elapsed := string(r.ElapsedTime)
		var s string
		if json.Unmarshal(r.ElapsedTime, &s) == nil {
			elapsed = s
		}
		return "subject: " + *r.Subject + ", seconds after warning threshold: " + strings.TrimSpace(elapsed), true
	}
	return "", false
}

// time is the event's time: stageTimestamp, else requestReceivedTimestamp,
// else the log record's time (@timestamp, timestamp, date).
func (r *record) time() (time.Time, bool) {
	for _, s := range []stamp{r.StageTimestamp, r.RequestReceivedTimestamp, r.recordTime()} {
		if s.ok {
			return s.t, true
		}
	}
	return time.Time{}, false
}

// recordTime is the time a log pipeline gave the record.
func (r *record) recordTime() stamp {
	for _, s := range []stamp{r.Timestamp, r.APITimestamp, r.Date} {
		if s.ok {
			return s
		}
	}
	return stamp{}
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

// looksLikeEvent reports whether an object that is neither a list nor a
// wrapped record is an audit event (nested or flattened) or an Insights row.
func (r *record) looksLikeEvent() bool {
	_, stale := r.staleToken()
	return r.Kind == "Event" || strings.HasPrefix(r.APIVersion, "audit.k8s.io/") ||
		r.AuditID != "" || r.Stage != "" || stale ||
		r.StageTimestamp.ok || r.RequestReceivedTimestamp.ok ||
		r.Timestamp.ok || r.LogStream != "" || r.FlatUsername != ""
}

func (r *record) isEventList() bool {
	return r.Items != nil && (r.Kind == "" || r.Kind == "EventList")
}

// stamp is a timestamp that never fails to decode: an RFC 3339 string (as
// audit events carry), CloudWatch's "2006-01-02 15:04:05.000" (UTC), or a
// number since the epoch: milliseconds (CloudWatch) or, below 1e11 or with
// a fraction, seconds (Fluent Bit's date). ok is false for anything else.
type stamp struct {
	t  time.Time
	ok bool
}

var stampLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"}

func (s *stamp) UnmarshalJSON(b []byte) error {
	*s = stamp{}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '"' {
		s.t, s.ok = epochStamp(string(b))
		return nil
	}
	var str string
	if json.Unmarshal(b, &str) != nil {
		return nil
	}
	s.t, s.ok = parseStamp(str)
	return nil
}

// epochStamp reads a number since the epoch: milliseconds, or seconds when
// it is below 1e11 (year 5138 in seconds, 1973 in milliseconds) or has a
// fraction.
func epochStamp(str string) (time.Time, bool) {
	if ms, err := strconv.ParseInt(str, 10, 64); err == nil {
		switch {
		case ms >= 1e11 && ms < 1e14:
			return time.UnixMilli(ms).UTC(), true
		case ms > 0 && ms < 1e11:
			return time.Unix(ms, 0).UTC(), true
		}
		return time.Time{}, false
	}
	f, err := strconv.ParseFloat(str, 64)
	if err != nil || !(f > 0 && f < 1e11) {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC(), true
}

func parseStamp(str string) (time.Time, bool) {
	if str != "" && isDigit(str[0]) && !strings.ContainsAny(str, "-:") {
		return epochStamp(str)
	}
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
