package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// runServe measures tokenguard serve itself: it pushes the images, starts
// bin (tokenguard) serve on 127.0.0.1 with registry lookups on against the
// registry in this process, sends one AdmissionReview per digest to
// /validate/warn, twice (the second pass must hit the cache), and reads
// serve's VmRSS and VmHWM from /proc before and after. It kills only the
// serve process it started.
func runServe(bin, fixture string, images, entries, parallel int, purl, jsonFile string) error {
	raw, err := os.ReadFile(fixture)
	if err != nil {
		return err
	}
	srv, reg := startRegistry()
	defer srv.Close()
	refs, err := push(reg, images, parallel, purl)
	if err != nil {
		return err
	}

	dir, err := os.MkdirTemp("", "cachemem")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	conf := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(conf, fmt.Appendf(nil,
		"apiVersion: tokenguard.io/v1alpha1\nkind: TokenGuardConfiguration\nregistry:\n  enabled: true\n  timeout: 5s\n  cacheEntries: %d\n  registries: [%q]\n  insecureRegistries: [%q]\n",
		entries, reg.Host, reg.Host), 0o600); err != nil {
		return err
	}
	port, metrics := freePort(), freePort()
	if port == 0 || metrics == 0 {
		return errors.New("no free port on 127.0.0.1")
	}
	cmd := exec.Command(bin, "serve", "--config", conf,
		"--listen", "127.0.0.1:"+strconv.Itoa(port), "--metrics-listen", "127.0.0.1:"+strconv.Itoa(metrics),
		"--log-level", "error")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	pid := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill() // this PID only: the process started above
		<-exited
	}()
	readyURL := fmt.Sprintf("http://127.0.0.1:%d/readyz", metrics)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(readyURL); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-exited:
			exited <- err // for the deferred wait
			return fmt.Errorf("tokenguard serve exited before it was ready: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			return errors.New("tokenguard serve not ready after 30s")
		}
	}
	idle, err := procMem(pid)
	if err != nil {
		return err
	}

	client := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true}, // serve's self-signed certificate, 127.0.0.1 only
		MaxIdleConnsPerHost: parallel,
	}}
	url := fmt.Sprintf("https://127.0.0.1:%d/validate/warn?timeout=10s", port)
	pass := func() (time.Duration, error) {
		start := time.Now()
		err := each(len(refs), parallel, func(i int) error {
			body, err := reviewFor(raw, refs[i], i)
			if err != nil {
				return err
			}
			resp, err := client.Post(url, "application/json", bytes.NewReader(body))
			if err != nil {
				return err
			}
			out, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !bytes.Contains(out, []byte(`"allowed"`)) {
				return fmt.Errorf("review %d: HTTP %d: %.200s", i, resp.StatusCode, out)
			}
			return nil
		})
		return time.Since(start), err
	}
	cold, err := pass()
	if err != nil {
		return err
	}
	afterCold, err := procMem(pid)
	if err != nil {
		return err
	}
	warm, err := pass()
	if err != nil {
		return err
	}
	after, err := procMem(pid)
	if err != nil {
		return err
	}
	hits, misses, counted := cacheCounts(fmt.Sprintf("http://127.0.0.1:%d/metrics", metrics))
	hitsText, missesText := "?", "?" // no registry cache counters on /metrics
	if counted {
		hitsText, missesText = strconv.FormatFloat(hits, 'f', 0, 64), strconv.FormatFloat(misses, 'f', 0, 64)
	}
	fmt.Printf("tokenguard serve (cacheEntries %d): %d reviews, one digest each: first pass %s, second pass %s; registry cache hits %s, misses %s (metrics)\n",
		entries, len(refs), cold.Round(time.Millisecond), warm.Round(time.Millisecond), hitsText, missesText)
	fmt.Printf("\n| tokenguard serve | VmRSS MB | VmHWM MB |\n|---|--:|--:|\n")
	fmt.Printf("| ready, idle | %.1f | %.1f |\n", kb(idle[1]), kb(idle[0]))
	fmt.Printf("| after %d reviews (%d digests looked up) | %.1f | %.1f |\n", len(refs), len(refs), kb(afterCold[1]), kb(afterCold[0]))
	fmt.Printf("| after a second pass (cache hits) | %.1f | %.1f |\n", kb(after[1]), kb(after[0]))
	if jsonFile == "" {
		return nil
	}
	res := serveResult{
		Mode: "serve", Binary: bin, Fixture: fixture, Images: len(refs), CacheEntries: entries, Parallel: parallel,
		FirstPassSec: cold.Seconds(), SecondPassSec: warm.Seconds(),
		Idle: procFigures(idle), AfterPass1: procFigures(afterCold), AfterPass2: procFigures(after),
	}
	if counted {
		res.CacheHits, res.CacheMisses = &hits, &misses
	}
	return writeJSON(jsonFile, res)
}

// reviewFor is the fixture with a fresh uid and every container's image set
// to ref.
func reviewFor(raw []byte, ref string, i int) ([]byte, error) {
	var review map[string]any
	if err := json.Unmarshal(raw, &review); err != nil {
		return nil, err
	}
	req, _ := review["request"].(map[string]any)
	obj, _ := req["object"].(map[string]any)
	spec, _ := obj["spec"].(map[string]any)
	containers, _ := spec["containers"].([]any)
	if len(containers) == 0 {
		return nil, errors.New("fixture: no request.object.spec.containers")
	}
	for _, c := range containers {
		c.(map[string]any)["image"] = ref
	}
	req["uid"] = fmt.Sprintf("cachemem-%d", i)
	return json.Marshal(review)
}

// procMem returns [VmHWM, VmRSS] of pid in kB.
func procMem(pid int) ([2]int64, error) {
	var m [2]int64
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return m, err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		key, rest, _ := strings.Cut(line, ":")
		f := strings.Fields(rest)
		if len(f) != 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[0], 10, 64)
		switch key {
		case "VmHWM":
			m[0] = v
		case "VmRSS":
			m[1] = v
		}
	}
	return m, nil
}

// cacheCounts sums the registry cache hit and miss counters on /metrics;
// seen is false when there are none.
func cacheCounts(url string) (hits, misses float64, seen bool) {
	resp, err := http.Get(url)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var h, m float64
	for line := range strings.SplitSeq(string(data), "\n") {
		if strings.HasPrefix(line, "#") || !strings.Contains(line, "cache") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			continue
		}
		switch {
		case strings.Contains(f[0], `"hit"`):
			h, seen = h+v, true
		case strings.Contains(f[0], `"miss"`):
			m, seen = m+v, true
		}
	}
	return h, m, seen
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func kb(v int64) float64 { return float64(v) / 1024 }
