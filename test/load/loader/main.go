// Command loader is the HTTPS load generator of the admission load test. It
// POSTs one AdmissionReview body to one or more named targets and reports,
// per target, throughput, latency percentiles and the server's CPU time per
// request, with ratios against a baseline target (the decode-only floor).
//
// Closed loop (default): -c workers each send the next request as soon as the
// previous one is answered, -n requests per target per round. Open loop
// (-rate N): requests are due on a fixed schedule, N per second for
// -duration; latency is measured from the time a request was due, not from
// when a worker got round to sending it, so a stalled server cannot hide its
// tail (no coordinated omission). -c then caps the requests in flight.
//
// Targets are run round by round, interleaved (A B A B A B), so that noise
// from other jobs on the machine falls on all of them alike; the tables show
// the median over rounds (max: the worst round).
//
// Connections are HTTP/1.1 with keep-alive, TLS ALPN "http/1.1" only: that is
// what kube-apiserver uses towards admission webhooks since Kubernetes 1.16
// (kubernetes/kubernetes#82090: one connection per concurrent call, reused
// when idle, so calls spread over webhook replicas), not HTTP/2.
//
// Every response must be HTTP 200 with a body that contains "allowed" and the
// request's uid; everything else is counted as an error, printed, and makes
// the exit status 1.
//
// Example:
//
//	loader -insecure -body fixtures/pod-3c-allowed.json \
//	  -url floor=https://127.0.0.1:8444/validate,warn=https://127.0.0.1:8443/validate/warn \
//	  -pid floor=1234 -pid warn=1240 -baseline floor -json out.json
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
)

// target is one server endpoint under test.
type target struct {
	Name   string `json:"name"`
	URL    string `json:"url"`
	PID    int    `json:"pid,omitempty"`        // 0: no server CPU figures
	Wrap   bool   `json:"wrap_input,omitempty"` // body sent as {"input": body}
	client *http.Client
	body   []byte // nil: config.body
}

// config is what every run shares.
type config struct {
	body       []byte
	uid        []byte // the request uid, which each response must echo
	c          int
	n          int
	warmup     int
	timeout    time.Duration // per target run, hard bound
	rate       float64       // > 0: open loop
	duration   time.Duration // open loop only
	clkTck     int64
	procStatOK bool
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loader", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var targets []*target
	fs.Func("url", "target `name=url` (repeatable, or a comma list); name defaults to the URL's last path element", func(s string) error {
		for item := range strings.SplitSeq(s, ",") {
			t, err := parseTarget(strings.TrimSpace(item))
			if err != nil {
				return err
			}
			targets = append(targets, t)
		}
		return nil
	})
	pids := map[string]int{}
	fs.Func("pid", "`name=PID` of a target's server process, to read its CPU time and peak RSS from /proc (repeatable, or a comma list)", func(s string) error {
		for item := range strings.SplitSeq(s, ",") {
			name, v, ok := strings.Cut(strings.TrimSpace(item), "=")
			pid, err := strconv.Atoi(v)
			if !ok || err != nil || pid <= 0 {
				return fmt.Errorf("want name=PID, got %q", item)
			}
			pids[name] = pid
		}
		return nil
	})
	wrap := map[string]bool{}
	fs.Func("wrap-input", "target `name` whose body is sent as {\"input\": body}, as OPA's v1 data API wants (repeatable, or a comma list)", func(s string) error {
		for name := range strings.SplitSeq(s, ",") {
			wrap[strings.TrimSpace(name)] = true
		}
		return nil
	})
	bodyFile := fs.String("body", "", "AdmissionReview request body `FILE` (sent byte for byte)")
	c := fs.Int("c", 8, "concurrency: workers (closed loop) or most requests in flight (open loop)")
	n := fs.Int("n", 20000, "closed loop: requests per target per round")
	rounds := fs.Int("rounds", 3, "rounds; each runs every target once, in -url order")
	warmup := fs.Int("warmup", 1000, "requests per target before round 1, not measured (0: none)")
	timeout := fs.Duration("timeout", 2*time.Minute, "hard bound on one target's run in one round; the run stops there")
	reqTimeout := fs.Duration("req-timeout", 10*time.Second, "per-request timeout (kube-apiserver's default webhook timeoutSeconds is 10)")
	rate := fs.Float64("rate", 0, "open loop: requests per second on a fixed schedule (0: closed loop)")
	duration := fs.Duration("duration", 10*time.Second, "open loop: how long each target run sends")
	insecure := fs.Bool("insecure", false, "skip TLS verification (self-signed servers)")
	caFile := fs.String("ca", "", "PEM `FILE` of the CA that signed the servers' certificates")
	baseline := fs.String("baseline", "", "target `name` the ratios are relative to (e.g. floor)")
	jsonFile := fs.String("json", "", "also write machine-readable results to `FILE`")
	allowRemote := fs.Bool("allow-remote", false, "allow targets that are not on a loopback address")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "loader: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() > 0 {
		return fail("unexpected arguments %q", fs.Args())
	}
	if len(targets) == 0 || *bodyFile == "" {
		return fail("need -url and -body (see -h)")
	}
	if *c < 1 || *rounds < 1 || (*rate <= 0 && *n < 1) || *warmup < 0 {
		return fail("-c, -rounds and -n must be positive, -warmup not negative")
	}
	if *rate > 0 && (*duration <= 0 || *timeout < *duration) {
		return fail("open loop: -duration must be positive and at most -timeout (%s)", *timeout)
	}
	seen := map[string]bool{}
	for _, t := range targets {
		if seen[t.Name] {
			return fail("two targets named %q: name them with name=url", t.Name)
		}
		seen[t.Name] = true
		if err := checkLoopback(t.URL); err != nil && !*allowRemote {
			return fail("%s: %v (use -allow-remote to load a remote server)", t.Name, err)
		}
	}
	for name, pid := range pids {
		if !seen[name] {
			return fail("-pid %s=%d: no target of that name", name, pid)
		}
		if _, err := readCPUTicks(pid); err != nil {
			return fail("-pid %s=%d: %v", name, pid, err)
		}
	}
	if *baseline != "" && !seen[*baseline] {
		return fail("-baseline %q: no target of that name", *baseline)
	}

	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		return fail("%v", err)
	}
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil || review.Request == nil || review.Request.UID == "" {
		return fail("%s: not an AdmissionReview with a request uid (%v)", *bodyFile, err)
	}
	tlsConf := &tls.Config{InsecureSkipVerify: *insecure, NextProtos: []string{"http/1.1"}}
	if *caFile != "" {
		pemBytes, err := os.ReadFile(*caFile)
		if err != nil {
			return fail("%v", err)
		}
		tlsConf.RootCAs = x509.NewCertPool()
		if !tlsConf.RootCAs.AppendCertsFromPEM(pemBytes) {
			return fail("%s: no PEM certificate", *caFile)
		}
	}
	for name := range wrap {
		if !seen[name] {
			return fail("-wrap-input %q: no such target", name)
		}
	}
	for _, t := range targets {
		t.PID = pids[t.Name]
		t.client = newClient(tlsConf, *c, *reqTimeout)
		if wrap[t.Name] { // once, at start: the same bytes inside for every target
			t.Wrap = true
			t.body = slices.Concat([]byte(`{"input":`), body, []byte(`}`))
		}
	}

	cfg := &config{
		body: body, uid: []byte(review.Request.UID),
		c: *c, n: *n, warmup: *warmup, timeout: *timeout, rate: *rate, duration: *duration,
		clkTck: clockTicks(),
	}
	_, err = readCPUTicks(os.Getpid())
	cfg.procStatOK = err == nil

	rep := &report{
		Started: time.Now().UTC(), GoVersion: runtime.Version(), NumCPU: runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0), ClockTicks: cfg.clkTck,
		Body: *bodyFile, BodyBytes: len(body), Concurrency: *c, Rounds: *rounds, Baseline: *baseline,
	}
	if *rate > 0 {
		rep.Mode, rep.Rate, rep.Duration = "open", *rate, duration.String()
	} else {
		rep.Mode, rep.Requests = "closed", *n
	}
	for _, t := range targets {
		rep.Targets = append(rep.Targets, &targetReport{Name: t.Name, URL: t.URL, PID: t.PID})
	}

	if *warmup > 0 {
		for _, t := range targets {
			fmt.Fprintf(stderr, "warm-up %s: %d requests\n", t.Name, *warmup)
			r := runOnce(cfg, t, true)
			if r.failed() {
				fmt.Fprintf(stderr, "loader: warm-up of %s failed: %s\n", t.Name, r.problem())
				if strings.Contains(r.FirstError, "x509") {
					fmt.Fprintln(stderr, "loader: for a self-signed server, give its CA with -ca FILE (or use -insecure)")
				}
				return 1
			}
		}
	}
	width := 0
	for _, t := range targets {
		width = max(width, len(t.Name))
	}
	for round := 1; round <= *rounds; round++ {
		for i, t := range targets {
			r := runOnce(cfg, t, false)
			r.Round = round
			rep.Targets[i].Runs = append(rep.Targets[i].Runs, r)
			fmt.Fprintf(stderr, "round %d/%d %-*s %s\n", round, *rounds, width, t.Name, r.oneLine())
		}
	}
	rep.summarise()
	rep.markdown(stdout)
	if *jsonFile != "" {
		out, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(*jsonFile, append(out, '\n'), 0o644); err != nil {
			fmt.Fprintf(stderr, "loader: %v\n", err)
			return 1
		}
	}
	if rep.Failed {
		fmt.Fprintln(stderr, "\n!!! LOAD TEST HAD ERRORS: the figures above are not valid; see the Errors section.")
		return 1
	}
	return 0
}

// parseTarget reads "name=url" or "url".
func parseTarget(s string) (*target, error) {
	name, raw, ok := strings.Cut(s, "=")
	if !ok || strings.Contains(name, "/") {
		name, raw = "", s
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("target %q: want name=https://host:port/path", s)
	}
	if name == "" {
		name = path.Base(u.Path)
		if name == "/" || name == "." {
			name = u.Host
		}
	}
	return &target{Name: name, URL: u.String()}, nil
}

// checkLoopback refuses URLs whose host is not a loopback address: this tool
// must not be pointed at a shared cluster by mistake.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return errors.New("host " + host + " is not a loopback address")
}

// newClient returns a client shaped like kube-apiserver's webhook client:
// HTTP/1.1 only, keep-alive, enough idle connections for every worker, 90 s
// idle timeout, and one timeout per call.
func newClient(tlsConf *tls.Config, c int, reqTimeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: reqTimeout,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:     tlsConf.Clone(),
			TLSHandshakeTimeout: 10 * time.Second,
			ForceAttemptHTTP2:   false,
			MaxIdleConns:        2 * c,
			MaxIdleConnsPerHost: 2 * c,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}

// newRequest builds one POST as kube-apiserver sends it.
func newRequest(ctx context.Context, t *target, body []byte) *http.Request {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, t.URL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, */*")
	return req
}
