package scale

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// repoRoot is the checkout this file belongs to.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// buildTokenguard builds bin/tokenguard as `make build` does (static,
// -trimpath) into dir.
func buildTokenguard(dir string) (string, error) {
	bin := filepath.Join(dir, "tokenguard")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/webhook")
	cmd.Dir = repoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/webhook: %v\n%s", err, out)
	}
	return bin, nil
}

// controllerProc is a running `tokenguard controller`: its JSON log lines
// go to a file, and the ones that matter are kept with the time they
// arrived.
type controllerProc struct {
	cmd     *exec.Cmd
	metrics string // host:port of /metrics
	start   time.Time
	logPath string
	done    chan struct{}

	mu      sync.Mutex
	passes  []pass
	firstAt map[string]time.Duration // log message → first seen, since start
	partial []byte
	file    *os.File
}

// pass is one "pass" log line of the leader.
type pass struct {
	at                              time.Duration // since the process started
	Msg                             string
	Workloads, Created, Updated     int
	Unchanged, Deleted, Failed      int
	EvidenceMarked, EvidenceDeleted int
	Took, Error                     string
}

// startController runs bin controller against kubeconfig with config,
// its metrics on metricsAddr, logging to work/name.log.
func startController(bin, kubeconfig, config, metricsAddr, work, name string, extra ...string) (*controllerProc, error) {
	p := &controllerProc{metrics: metricsAddr, logPath: filepath.Join(work, name+".log"), done: make(chan struct{}), firstAt: map[string]time.Duration{}}
	f, err := os.Create(p.logPath)
	if err != nil {
		return nil, err
	}
	p.file = f
	args := append([]string{"controller", "--kubeconfig", kubeconfig, "--config", config, "--lease-namespace", "default", "--identity", name,
		"--metrics-addr", metricsAddr, "--interval", "20s", "--log-format", "json"}, extra...)
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	p.cmd.Env = append(os.Environ(), strings.Fields(os.Getenv(envControllerEnv))...)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		f.Close()
		return nil, err
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Write takes the process's output: whole lines are logged and read.
func (p *controllerProc) Write(b []byte) (int, error) {
	now := time.Since(p.start)
	p.mu.Lock()
	defer p.mu.Unlock()
	_, _ = p.file.Write(b)
	p.partial = append(p.partial, b...)
	for {
		i := bytes.IndexByte(p.partial, '\n')
		if i < 0 {
			break
		}
		line := p.partial[:i]
		var l struct {
			Msg string `json:"msg"`
		}
		if json.Unmarshal(line, &l) == nil {
			if _, ok := p.firstAt[l.Msg]; !ok {
				p.firstAt[l.Msg] = now
			}
			if l.Msg == "pass" || l.Msg == "pass ended with errors" {
				ps := pass{at: now}
				_ = json.Unmarshal(line, &ps)
				p.passes = append(p.passes, ps)
			}
		}
		p.partial = p.partial[i+1:]
	}
	return len(b), nil
}

// seen is when msg was first logged, since start (false: not yet).
func (p *controllerProc) seen(msg string) (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	d, ok := p.firstAt[msg]
	return d, ok
}

// waitPass waits until the leader logged n passes, and returns the n-th.
func (p *controllerProc) waitPass(ctx context.Context, n int) (pass, error) {
	for {
		p.mu.Lock()
		if len(p.passes) >= n {
			ps := p.passes[n-1]
			p.mu.Unlock()
			return ps, nil
		}
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return pass{}, fmt.Errorf("no pass %d: %w\n%s", n, ctx.Err(), p.tail(30))
		case <-p.done:
			return pass{}, fmt.Errorf("the controller exited before pass %d\n%s", n, p.tail(30))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// tail is the last n lines of the log.
func (p *controllerProc) tail(n int) string {
	b, _ := os.ReadFile(p.logPath)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// stop ends the process by PID: SIGTERM, SIGKILL after 15 s.
func (p *controllerProc) stop() {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	p.mu.Lock()
	p.file.Close()
	p.mu.Unlock()
}

// procStatus reads fields of /proc/PID/status in kB (VmHWM, VmRSS).
func procStatus(pid int, fields ...string) (map[string]int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		for _, f := range fields {
			if k == f {
				n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				out[f] = n
			}
		}
	}
	return out, nil
}

// cpuSeconds is the user and system CPU time of PID so far.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command's closing parenthesis; utime and stime
	// are the 14th and 15th of the line.
	rest := string(b[bytes.LastIndexByte(b, ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %q", pid, b)
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / 100, nil // USER_HZ is 100 on Linux
}

// scrape fetches a Prometheus text endpoint; client may be nil.
func scrape(ctx context.Context, client *http.Client, url string) (metricsText, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return metricsText(b), err
}

// metricsText is a Prometheus text exposition.
type metricsText string

// sum adds the samples of metric name whose labels include every one of
// labels (`kind="Report"`); a label given as `verb=~"POST|PUT"` matches
// any of the values.
func (m metricsText) sum(name string, labels ...string) float64 {
	total := 0.0
	for _, line := range strings.Split(string(m), "\n") {
		if !strings.HasPrefix(line, name) || len(line) == len(name) || (line[len(name)] != '{' && line[len(name)] != ' ') {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		series := line[:sp]
		ok := true
		for _, l := range labels {
			if k, vs, alt := strings.Cut(l, "=~"); alt {
				any := false
				for _, v := range strings.Split(strings.Trim(vs, `"`), "|") {
					any = any || strings.Contains(series, k+`="`+v+`"`)
				}
				ok = ok && any
			} else {
				ok = ok && strings.Contains(series, l)
			}
		}
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if err == nil {
			total += v
		}
	}
	return total
}
