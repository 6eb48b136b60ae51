package reports

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestName(t *testing.T) {
	long := strings.Repeat("a", 253)
	for _, tc := range []struct {
		name, kind, workload string
		want                 string // "" when hashed
	}{
		{name: "deployment", kind: "Deployment", workload: "api", want: "tokenguard-deployment-api"},
		{name: "dotted name", kind: "StatefulSet", workload: "db.v2", want: "tokenguard-statefulset-db.v2"},
		{name: "pod", kind: "Pod", workload: "web-7d9f8-abcde", want: "tokenguard-pod-web-7d9f8-abcde"},
		{name: "longest name still fits", kind: "Pod", workload: strings.Repeat("b", 253-len("tokenguard-pod-")),
			want: "tokenguard-pod-" + strings.Repeat("b", 253-len("tokenguard-pod-"))},
		{name: "one byte too long", kind: "Pod", workload: strings.Repeat("b", 254-len("tokenguard-pod-"))},
		{name: "253-byte workload name", kind: "Deployment", workload: long},
		{name: "cut before a dot", kind: "Deployment", workload: strings.Repeat("a", 230) + "." + strings.Repeat("b", 30)},
		{name: "empty name", kind: "Deployment", workload: ""},
		{name: "invalid characters", kind: "Deployment", workload: "Api_Server"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Name(tc.kind, tc.workload)
			if errs := validation.IsDNS1123Subdomain(got); len(errs) > 0 {
				t.Fatalf("Name(%q, %q) = %q: %v", tc.kind, tc.workload, got, errs)
			}
			if tc.want != "" && got != tc.want {
				t.Errorf("Name = %q, want %q", got, tc.want)
			}
			if tc.want == "" {
				prefix := "tokenguard-" + strings.ToLower(tc.kind) + "-"
				if !strings.HasPrefix(got, prefix) || len(got) < len(prefix)+hashLen {
					t.Errorf("Name = %q: want %q, part of the name and a hash", got, prefix)
				}
			}
			if again := Name(tc.kind, tc.workload); again != got {
				t.Errorf("not deterministic: %q then %q", got, again)
			}
		})
	}
	// Long names that differ only past the cut differ by their hash; the
	// same name of another kind differs too.
	a, b := Name("Deployment", long), Name("Deployment", long[:252]+"b")
	if a == b {
		t.Errorf("two long names share report name %q", a)
	}
	if Name("Deployment", "api") == Name("StatefulSet", "api") || Name("Deployment", long) == Name("StatefulSet", long) {
		t.Error("a Deployment and a StatefulSet of the same name share a report name")
	}
	// "Api_Server" is no workload name, but must not collide with
	// "api-server", which is.
	if Name("Deployment", "Api_Server") == Name("Deployment", "api-server") {
		t.Error("a sanitized name collides with a real one")
	}
}

func TestLabelValue(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{name: "kind", in: "Deployment", want: "Deployment"},
		{name: "dotted", in: "db.v2", want: "db.v2"},
		{name: "63 bytes", in: strings.Repeat("x", 63), want: strings.Repeat("x", 63)},
		{name: "64 bytes", in: strings.Repeat("x", 64)},
		{name: "253-byte name with dots", in: strings.Repeat("ab.", 84) + "c"},
		{name: "cut at a separator", in: strings.Repeat("a", 51) + "-." + strings.Repeat("b", 20)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := LabelValue(tc.in)
			if errs := validation.IsValidLabelValue(got); len(errs) > 0 {
				t.Fatalf("LabelValue(%q) = %q: %v", tc.in, got, errs)
			}
			if tc.want != "" && got != tc.want {
				t.Errorf("LabelValue = %q, want %q", got, tc.want)
			}
			if tc.want == "" && (len(got) < validation.LabelValueMaxLength-2 || !strings.HasPrefix(got, tc.in[:40])) {
				t.Errorf("LabelValue = %q (%d bytes): want the value cut to about 63 bytes with a hash", got, len(got))
			}
		})
	}
	if LabelValue(strings.Repeat("x", 64)) == LabelValue(strings.Repeat("x", 65)) {
		t.Error("two long values share a label value")
	}
}

// FuzzName: whatever the kind and name, the report name is a DNS
// subdomain and the label values are label values.
func FuzzName(f *testing.F) {
	for _, s := range [][2]string{{"Deployment", "api"}, {"Pod", strings.Repeat("a.", 130)}, {"", ""},
		{"Job", "-.-"}, {"CronJob", "a_b-.c"}, {"Dé", "ünï"}, {"X", strings.Repeat("-", 300)}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, kind, name string) {
		if got := Name(kind, name); len(validation.IsDNS1123Subdomain(got)) > 0 {
			t.Errorf("Name(%q, %q) = %q: not a DNS subdomain", kind, name, got)
		}
		for _, v := range []string{kind, name} {
			if got := LabelValue(v); len(validation.IsValidLabelValue(got)) > 0 {
				t.Errorf("LabelValue(%q) = %q: not a label value", v, got)
			}
		}
	})
}
