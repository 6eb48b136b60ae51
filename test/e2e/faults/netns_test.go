package faults

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/tokenguard/tokenguard/test/e2e"
	"github.com/tokenguard/tokenguard/test/e2e/cluster"
)

// The scenarios need replicas on addresses an EndpointSlice may hold, and
// Kubernetes refuses loopback ones. So the test runs itself again in a new
// network namespace of its own (CLONE_NEWNET: it disappears with its last
// process), where it brings lo up and gives it the replicas' addresses.
// Nothing outside that namespace is touched.
const (
	envInside    = "TOKENGUARD_FAULTS_INSIDE"
	envTokenBin  = "TOKENGUARD_FAULTS_TOKENGUARD"
	envFigures   = "TOKENGUARD_FAULTS_FIGURES"
	envRate      = "TOKENGUARD_FAULTS_RATE"
	envSeconds   = "TOKENGUARD_FAULTS_SECONDS"
	addressRange = "10.250.0."
)

// inNamespace runs the named test of this binary in a new network
// namespace and reports its outcome as t's. It returns false when this
// process is already the inner one (the caller then runs the test body).
func inNamespace(t *testing.T, name string) bool {
	t.Helper()
	if os.Getenv(envInside) != "" {
		return false
	}
	binDir, err := cluster.BinDir(testLog{t})
	if err != nil {
		t.Fatalf("control-plane binaries: %v", err)
	}
	work := t.TempDir()
	bin, err := e2e.BuildTokenguard(work)
	if err != nil {
		t.Fatal(err)
	}
	// The same -run pattern when it selects scenarios (Name/scenario).
	run := "^" + name + "$"
	if f := flag.Lookup("test.run"); f != nil && strings.Contains(f.Value.String(), "/") {
		run = f.Value.String()
	}
	args := []string{"-test.run", run, "-test.v", "-test.timeout", "30m"}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), envInside+"=1", cluster.EnvBinDir+"="+binDir, envTokenBin+"="+bin)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		if errors.Is(err, syscall.EPERM) {
			t.Skipf("a new network namespace needs CAP_SYS_ADMIN (run as root): %v", err)
		}
		t.Fatalf("starting the test in a new network namespace: %v", err)
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var failed []string
	for sc.Scan() {
		line := sc.Text()
		t.Log(line)
		if strings.Contains(line, "--- FAIL") || strings.HasPrefix(line, "panic:") {
			failed = append(failed, line)
		}
	}
	if err := cmd.Wait(); err != nil || len(failed) > 0 {
		t.Fatalf("in its network namespace the test failed (%v): %s", err, strings.Join(failed, "; "))
	}
	return true
}

// prepareNamespace brings lo up and gives it the addresses of n replicas
// (10.250.0.1, .2, …), /32 each so no route leaves the namespace.
func prepareNamespace(n int) ([]string, error) {
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ip link set lo up: %v: %s", err, out)
	}
	var ips []string
	for i := 1; i <= n; i++ {
		ip := fmt.Sprintf("%s%d", addressRange, i)
		if out, err := exec.Command("ip", "addr", "add", ip+"/32", "dev", "lo").CombinedOutput(); err != nil {
			return nil, fmt.Errorf("ip addr add %s/32 dev lo: %v: %s", ip, err, out)
		}
		ips = append(ips, ip)
	}
	return ips, nil
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
