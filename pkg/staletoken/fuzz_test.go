package staletoken

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func FuzzParseAnnotation(f *testing.F) {
	for _, s := range []string{
		"subject: system:serviceaccount:payments:api, seconds after warning threshold: 2592000",
		"subject: system:serviceaccount:kube-system:aws-node, seconds after warning threshold: 56.",
		"  subject:   system:serviceaccount:a:b ,  seconds  after warning threshold :  7 .  ",
		"subject: system:serviceaccount:a:b, seconds after warning threshold: 9223372036854775808",
		"subject: system:serviceaccount:a:b, seconds after warning threshold: -5",
		"subject: kubernetes-admin, seconds after warning threshold: 5",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		subject, seconds, err := ParseAnnotation(value)
		if err != nil {
			if !errors.Is(err, ErrAnnotation) || subject != "" || seconds != 0 {
				t.Fatalf("error %v with %q, %d", err, subject, seconds)
			}
			return
		}
		ns, sa, ok := SplitSubject(subject)
		if !ok || seconds < 0 {
			t.Fatalf("accepted %q as %q, %d", value, subject, seconds)
		}
		// The canonical form parses to the same values.
		canon := fmt.Sprintf("subject: system:serviceaccount:%s:%s, seconds after warning threshold: %d", ns, sa, seconds)
		s2, n2, err := ParseAnnotation(canon)
		if err != nil || s2 != subject || n2 != seconds {
			t.Fatalf("%q parsed to %q, %d; its canonical form %q to %q, %d, %v", value, subject, seconds, canon, s2, n2, err)
		}
	})
}

func FuzzReadLines(f *testing.F) {
	ts := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	ev := eventLine("ns", "sa", 100, ts, "pod")
	f.Add([]byte(ev + "\n" + ev + "\n"))
	f.Add([]byte("{\"kind\":\"EventList\",\"items\":[" + ev + "]}\n"))
	f.Add([]byte("[\n" + ev + "\n]"))
	f.Add([]byte("{\n\"items\": [\n" + ev + ",\n{\"kind\":"))
	f.Add([]byte("2024-06-01T00:00:00Z " + ev + "\n"))
	f.Add([]byte("{\"@timestamp\":\"2024-06-01 00:00:00.000\",\"@message\":" + quote(ev) + "}\n"))
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write([]byte(ev + "\n"))
	zw.Close()
	f.Add(z.Bytes())
	f.Add([]byte("{\"events\":[{\"timestamp\":1717200000000,\"message\":" + quote(ev) + "}],\"searchedLogStreams\":[]}\n"))
	f.Add([]byte("{\n\"results\": [[{\"field\":\"subject\",\"value\":\"system:serviceaccount:a:b\"},{\"field\":\"elapsedtime\",\"value\":\" 5.\"},{\"field\":\"@timestamp\",\"value\":\"2024-06-01 00:00:00.000\"}]]}"))
	f.Add([]byte("@timestamp,subject,elapsedtime\r\n2024-06-01 00:00:00.000,system:serviceaccount:a:b, 5\r\n\"x"))
	f.Add([]byte("EVENTS\t1\t1717200000000\tkube-apiserver-audit-x\t" + ev + "\t1717200000000\nSEARCHEDLOGSTREAMS\tx\tTrue\n"))
	f.Add([]byte("2024-06-01T00:00:00.000000+00:00 kube-apiserver-audit-x " + ev + "\n"))
	f.Add([]byte("2024-06-01T00:00:00Z AUDIT: id=\"x\" stage=\"ResponseComplete\"\n"))
	f.Add([]byte("{\"date\":1717200000.5,\"log\":\"subject: system:serviceaccount:a:b, seconds after warning threshold: 5\"}\n"))
	f.Add([]byte("{\"kind\": \"EventList\",\n\"items\": [" + ev + "," + ev + "]}"))
	names, _ := filepath.Glob("testdata/*")
	more, _ := filepath.Glob("testdata/realworld/*")
	names = append(names, more...)
	for _, name := range names {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a := &Aggregator{MaxLineBytes: 4096}
		st, _ := a.Read("fuzz", bytes.NewReader(data))
		if st.StaleEvents > st.Events || int64(len(st.MalformedLines)) > st.Malformed ||
			len(st.MalformedLines) > MaxMalformedLines || len(st.MalformedLines) != len(st.Problems) {
			t.Fatalf("inconsistent stats %+v", st)
		}
		lines := int64(bytes.Count(data, []byte("\n")) + 1)
		plain := !bytes.HasPrefix(data, []byte{0x1f, 0x8b})
		if plain && st.Lines > lines {
			t.Fatalf("%d lines counted in %d", st.Lines, lines)
		}
		for _, l := range st.MalformedLines {
			if l < 1 || (plain && l > lines) {
				t.Fatalf("malformed line %d out of 1..%d", l, lines)
			}
		}
		var events int64
		for _, s := range a.Result(Policy{}) {
			events += s.Events
			if len(s.Pods) > DefaultMaxPods || s.MorePods < 0 {
				t.Fatalf("pods %v + %d", s.Pods, s.MorePods)
			}
		}
		if events != st.StaleEvents {
			t.Fatalf("%d events in subjects, %d stale events", events, st.StaleEvents)
		}
	})
}
