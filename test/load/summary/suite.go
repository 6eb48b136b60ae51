package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"
)

// setting is one KEY=VALUE of the suite's settings.
type setting struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// suiteRecord is OUT_DIR/suite.json, written by summary -init when the suite
// starts.
type suiteRecord struct {
	Started  time.Time `json:"started"`
	Script   string    `json:"script"`
	Given    []setting `json:"given"`    // set in the environment: the command line
	Settings []setting `json:"settings"` // every effective setting
	Machine  machine   `json:"machine"`
}

// machine is what the figures were measured on.
type machine struct {
	GoVersion     string `json:"go_version"`
	GOOS          string `json:"goos"`
	GOARCH        string `json:"goarch"`
	NumCPU        int    `json:"num_cpu"`    // CPUs usable by this process (nproc)
	GOMAXPROCS    int    `json:"gomaxprocs"` // what a Go server started alongside gets
	GOMAXPROCSEnv string `json:"gomaxprocs_env,omitempty"`
	CPUModel      string `json:"cpu_model"`
	CPUs          int    `json:"cpuinfo_processors"` // processors in /proc/cpuinfo
	Kernel        string `json:"kernel"`
}

func readMachine() machine {
	m := machine{
		GoVersion: runtime.Version(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
		NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GOMAXPROCSEnv: os.Getenv("GOMAXPROCS"),
		CPUModel: "unknown", Kernel: "unknown",
	}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			key, val, ok := strings.Cut(sc.Text(), ":")
			key = strings.TrimSpace(key)
			if !ok {
				continue
			}
			switch key {
			case "processor":
				m.CPUs++
			case "model name", "Model", "cpu model": // x86; arm64; others
				if m.CPUModel == "unknown" {
					m.CPUModel = strings.Join(strings.Fields(val), " ")
				}
			}
		}
		f.Close()
	}
	if out, err := exec.Command("uname", "-srm").Output(); err == nil {
		m.Kernel = strings.TrimSpace(string(out))
	} else if rel, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(rel))
	}
	return m
}

func writeSuite(dir string, rec *suiteRecord) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	out, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "suite.json"), append(out, '\n'), 0o644)
}

// readSuite reads OUT_DIR/suite.json; nil when there is none.
func readSuite(dir string) (*suiteRecord, error) {
	data, err := os.ReadFile(filepath.Join(dir, "suite.json"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var rec suiteRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("suite.json: malformed: %v", err)
	}
	return &rec, nil
}

// setting returns the value of key, "" when it was not recorded.
func (r *suiteRecord) setting(key string) string {
	if r == nil {
		return ""
	}
	for _, s := range r.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}

// command is the shell command that reproduces the suite: the given
// settings, then the script.
func (r *suiteRecord) command() string {
	var b strings.Builder
	for _, s := range r.Given {
		b.WriteString(s.Key + "=" + shellQuote(s.Value) + " ")
	}
	script := r.Script
	if !strings.HasPrefix(script, "/") && !strings.HasPrefix(script, ".") {
		script = "./" + script
	}
	return b.String() + script
}

var (
	shellPlain  = regexp.MustCompile(`^[A-Za-z0-9_./:,=@%+-]+$`)
	shellDouble = regexp.MustCompile("^[^$`\"\\\\!]*$")
)

// shellQuote quotes v for a POSIX shell: bare when it can be, else in double
// quotes when nothing in it is special there, else in single quotes.
func shellQuote(v string) string {
	switch {
	case shellPlain.MatchString(v):
		return v
	case shellDouble.MatchString(v):
		return `"` + v + `"`
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}
