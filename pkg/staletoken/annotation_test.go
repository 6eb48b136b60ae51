package staletoken

import (
	"errors"
	"testing"
)

func TestParseAnnotation(t *testing.T) {
	tests := []struct {
		name    string
		value   string
		subject string
		seconds int64
		wantErr bool
	}{
		{"kube-apiserver form", "subject: system:serviceaccount:payments:api, seconds after warning threshold: 2592000", "system:serviceaccount:payments:api", 2592000, false},
		{"EKS trailing dot", "subject: system:serviceaccount:kube-system:aws-node, seconds after warning threshold: 56.", "system:serviceaccount:kube-system:aws-node", 56, false},
		{"zero", "subject: system:serviceaccount:a:b, seconds after warning threshold: 0", "system:serviceaccount:a:b", 0, false},
		{"extra spaces", "  subject:   system:serviceaccount:a:b ,  seconds  after warning\tthreshold :  7 .  ", "system:serviceaccount:a:b", 7, false},
		{"no spaces after colons", "subject:system:serviceaccount:a:b,seconds after warning threshold:7", "system:serviceaccount:a:b", 7, false},
		{"words in another case", "Subject: system:serviceaccount:a:b, Seconds After Warning Threshold: 7", "system:serviceaccount:a:b", 7, false},
		{"dotted service account", "subject: system:serviceaccount:ns:my.sa, seconds after warning threshold: 1", "system:serviceaccount:ns:my.sa", 1, false},
		{"largest int64", "subject: system:serviceaccount:a:b, seconds after warning threshold: 9223372036854775807", "system:serviceaccount:a:b", 9223372036854775807, false},
		{"leading zeros", "subject: system:serviceaccount:a:b, seconds after warning threshold: 007", "system:serviceaccount:a:b", 7, false},

		{"overflows int64", "subject: system:serviceaccount:a:b, seconds after warning threshold: 9223372036854775808", "", 0, true},
		{"huge", "subject: system:serviceaccount:a:b, seconds after warning threshold: 99999999999999999999999", "", 0, true},
		{"negative", "subject: system:serviceaccount:a:b, seconds after warning threshold: -5", "", 0, true},
		{"plus sign", "subject: system:serviceaccount:a:b, seconds after warning threshold: +5", "", 0, true},
		{"decimals, as a numeric log field renders it", "subject: system:serviceaccount:a:b, seconds after warning threshold: 4185802.0", "system:serviceaccount:a:b", 4185802, false},
		{"fraction truncated", "subject: system:serviceaccount:a:b, seconds after warning threshold: 5.5", "system:serviceaccount:a:b", 5, false},
		{"decimals and the EKS dot", "subject: system:serviceaccount:a:b, seconds after warning threshold: 5.0.", "system:serviceaccount:a:b", 5, false},
		{"exponent", "subject: system:serviceaccount:a:b, seconds after warning threshold: 4.185802e+06", "system:serviceaccount:a:b", 4185802, false},
		{"negative fraction", "subject: system:serviceaccount:a:b, seconds after warning threshold: -5.5", "", 0, true},
		{"fraction past int64", "subject: system:serviceaccount:a:b, seconds after warning threshold: 1e19", "", 0, true},
		{"NaN", "subject: system:serviceaccount:a:b, seconds after warning threshold: NaN", "", 0, true},
		{"dot first", "subject: system:serviceaccount:a:b, seconds after warning threshold: .5", "", 0, true},
		{"two dots", "subject: system:serviceaccount:a:b, seconds after warning threshold: 5..", "", 0, true},
		{"not a number", "subject: system:serviceaccount:a:b, seconds after warning threshold: soon", "", 0, true},
		{"no number", "subject: system:serviceaccount:a:b, seconds after warning threshold:", "", 0, true},
		{"number and junk", "subject: system:serviceaccount:a:b, seconds after warning threshold: 5 s", "", 0, true},
		{"user, not service account", "subject: kubernetes-admin, seconds after warning threshold: 5", "", 0, true},
		{"no service-account name", "subject: system:serviceaccount:payments, seconds after warning threshold: 5", "", 0, true},
		{"empty namespace", "subject: system:serviceaccount::api, seconds after warning threshold: 5", "", 0, true},
		{"empty name", "subject: system:serviceaccount:ns:, seconds after warning threshold: 5", "", 0, true},
		{"too many parts", "subject: system:serviceaccount:ns:sa:x, seconds after warning threshold: 5", "", 0, true},
		{"other prefix", "subject: system:node:ip-10-0-0-1, seconds after warning threshold: 5", "", 0, true},
		{"space in subject", "subject: system:serviceaccount:ns:s a, seconds after warning threshold: 5", "", 0, true},
		{"no subject key", "system:serviceaccount:a:b, seconds after warning threshold: 5", "", 0, true},
		{"other wording", "subject: system:serviceaccount:a:b, seconds after threshold: 5", "", 0, true},
		{"no comma", "subject: system:serviceaccount:a:b seconds after warning threshold: 5", "", 0, true},
		{"empty", "", "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			subject, seconds, err := ParseAnnotation(tt.value)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseAnnotation(%q) = %q, %d; want an error", tt.value, subject, seconds)
				}
				if !errors.Is(err, ErrAnnotation) {
					t.Errorf("error %v does not wrap ErrAnnotation", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAnnotation(%q): %v", tt.value, err)
			}
			if subject != tt.subject || seconds != tt.seconds {
				t.Errorf("ParseAnnotation(%q) = %q, %d; want %q, %d", tt.value, subject, seconds, tt.subject, tt.seconds)
			}
		})
	}
}

func TestSplitSubject(t *testing.T) {
	ns, sa, ok := SplitSubject("system:serviceaccount:kube-system:aws-node")
	if !ok || ns != "kube-system" || sa != "aws-node" {
		t.Errorf("SplitSubject = %q, %q, %v", ns, sa, ok)
	}
	if _, _, ok := SplitSubject("system:serviceaccounts:kube-system"); ok {
		t.Error("a group is not a service account")
	}
}
