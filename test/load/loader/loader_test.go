package main

import (
	"os"
	"testing"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		name string
		line string
		want int64
	}{
		{"plain", "4242 (tokenguard) S 1 4242 4242 0 -1 4194560 1311 0 0 0 250 37 0 0 20 0 9 0 1234 0 0", 287},
		{"spaces and parens in comm", "77 (my (odd) proc) R 1 77 77 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 1 0 0", 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat([]byte(tt.line))
			if err != nil || got != tt.want {
				t.Errorf("parseStat = %d, %v; want %d", got, err, tt.want)
			}
		})
	}
	if _, err := parseStat([]byte("1 (x) S 1 2")); err == nil {
		t.Error("short line: want an error")
	}
}

func TestAllowedField(t *testing.T) {
	tests := []struct {
		body           string
		allowed, found bool
	}{
		{`{"response":{"uid":"u","allowed":true}}`, true, true},
		{`{"response":{"uid":"u","allowed": false,"status":{"code":403}}}`, false, true},
		{`{"response":{"uid":"u", "allowed" :  true}}`, true, true},
		{`{"response":{"uid":"u"}}`, false, false},
		{`{"allowed"}`, false, false},
	}
	for _, tt := range tests {
		allowed, found := allowedField([]byte(tt.body))
		if allowed != tt.allowed || found != tt.found {
			t.Errorf("allowedField(%s) = %v, %v; want %v, %v", tt.body, allowed, found, tt.allowed, tt.found)
		}
	}
}

func TestPercentiles(t *testing.T) {
	ns := make([]int64, 1000)
	for i := range ns {
		ns[len(ns)-1-i] = int64(i+1) * 1000 // 1..1000 µs, reversed
	}
	var r runResult
	r.setLatencies(ns)
	if r.P50us != 500 || r.P90us != 900 || r.P99us != 990 || r.P999us != 999 || r.MaxUs != 1000 {
		t.Errorf("got p50 %v p90 %v p99 %v p999 %v max %v", r.P50us, r.P90us, r.P99us, r.P999us, r.MaxUs)
	}
}

func TestParseTarget(t *testing.T) {
	tests := []struct{ in, name, url string }{
		{"floor=https://127.0.0.1:8444/validate", "floor", "https://127.0.0.1:8444/validate"},
		{"https://127.0.0.1:8443/validate/warn", "warn", "https://127.0.0.1:8443/validate/warn"},
		{"https://127.0.0.1:8443/", "127.0.0.1:8443", "https://127.0.0.1:8443/"},
		{"https://127.0.0.1:8443/x?a=b=c", "x", "https://127.0.0.1:8443/x?a=b=c"},
	}
	for _, tt := range tests {
		got, err := parseTarget(tt.in)
		if err != nil || got.Name != tt.name || got.URL != tt.url {
			t.Errorf("parseTarget(%q) = %+v, %v; want %s %s", tt.in, got, err, tt.name, tt.url)
		}
	}
	if _, err := parseTarget("warn=127.0.0.1:8443"); err == nil {
		t.Error("URL without scheme: want an error")
	}
}

func TestParseStatus(t *testing.T) {
	status := "Name:\ttokenguard\nUmask:\t0022\nState:\tS (sleeping)\nVmPeak:\t 1262344 kB\nVmSize:\t 1262344 kB\nVmHWM:\t   21548 kB\nVmRSS:\t   19876 kB\nRssAnon:\t    9120 kB\nThreads:\t9\n"
	m, err := parseStatus([]byte(status))
	if err != nil || m.HWMkB != 21548 || m.RSSkB != 19876 {
		t.Errorf("parseStatus = %+v, %v; want HWM 21548, RSS 19876", m, err)
	}
	for name, bad := range map[string]string{
		"kernel thread (no Vm lines)": "Name:\tkthreadd\nState:\tS (sleeping)\n",
		"no VmRSS":                    "VmHWM:\t 10 kB\n",
		"not kB":                      "VmHWM:\t 10 MB\nVmRSS:\t 9 kB\n",
		"not a number":                "VmHWM:\t ten kB\nVmRSS:\t 9 kB\n",
	} {
		if _, err := parseStatus([]byte(bad)); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
	if m, err := readMemory(os.Getpid()); err != nil || m.RSSkB <= 0 || m.HWMkB < m.RSSkB {
		t.Errorf("readMemory(self) = %+v, %v; want 0 < VmRSS <= VmHWM", m, err)
	}
}
