package config

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Duration is a time.Duration written as a Go duration string ("2s",
// "500ms"). A value that does not parse is kept, not rejected, so that
// Validate can report it with its field path.
type Duration struct {
	time.Duration
	// invalid is the value as written when it did not parse.
	invalid string
}

// NewDuration returns d as a Duration.
func NewDuration(d time.Duration) Duration { return Duration{Duration: d} }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	*d = Duration{}
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		d.invalid = string(b)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		d.invalid = s
		if d.invalid == "" {
			d.invalid = `""`
		}
		return nil
	}
	d.Duration = v
	return nil
}

// MarshalJSON writes a duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	if d.invalid != "" {
		return json.Marshal(d.invalid)
	}
	return json.Marshal(d.Duration.String())
}

// parseError returns the value as written and why it is not a duration, or
// "", "" when it parsed.
func (d Duration) parseError() (value, detail string) {
	if d.invalid == "" {
		return "", ""
	}
	return d.invalid, "a duration with a unit, such as 2s or 500ms"
}

// ByteSize is a size in bytes, written as an integer (65536) or as a
// Kubernetes quantity ("64Mi", "1Gi", "500M"). A value that does not parse
// is kept, not rejected, so that Validate can report it with its field path.
type ByteSize struct {
	// Bytes is the size.
	Bytes int64
	// invalid is the value as written when it did not parse.
	invalid string
}

// NewByteSize returns n bytes as a ByteSize.
func NewByteSize(n int64) ByteSize { return ByteSize{Bytes: n} }

// UnmarshalJSON reads an integer or a quantity string.
func (s *ByteSize) UnmarshalJSON(b []byte) error {
	*s = ByteSize{}
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	text := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &text); err != nil {
			s.invalid = string(b)
			return nil
		}
	}
	if n, err := strconv.ParseInt(text, 10, 64); err == nil {
		s.Bytes = n
		return nil
	}
	q, err := resource.ParseQuantity(text)
	if err != nil {
		s.invalid = text
		if s.invalid == "" {
			s.invalid = `""`
		}
		return nil
	}
	n, ok := q.AsInt64()
	if !ok {
		// "0.5Ki" is 512 bytes but not an int64 quantity as written.
		n = q.Value()
		if q.Cmp(*resource.NewQuantity(n, resource.BinarySI)) != 0 {
			s.invalid = text
			return nil
		}
	}
	s.Bytes = n
	return nil
}

// MarshalJSON writes the size as a quantity string ("64Mi").
func (s ByteSize) MarshalJSON() ([]byte, error) {
	if s.invalid != "" {
		return json.Marshal(s.invalid)
	}
	return json.Marshal(s.String())
}

// String returns the size as a quantity ("64Mi", "1500").
func (s ByteSize) String() string {
	return resource.NewQuantity(s.Bytes, resource.BinarySI).String()
}

func (s ByteSize) parseError() (value, detail string) {
	if s.invalid == "" {
		return "", ""
	}
	return s.invalid, "a whole number of bytes, as an integer or a quantity such as 64Mi or 1Gi"
}
