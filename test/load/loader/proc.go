package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// readCPUTicks returns utime+stime of process pid (all its threads) in clock
// ticks, from /proc/PID/stat.
func readCPUTicks(pid int) (int64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return parseStat(data)
}

// parseStat reads fields 14 (utime) and 15 (stime) of a /proc/PID/stat line.
// Field 2, the command name, is in parentheses and may hold spaces and
// parentheses itself, so counting starts after the last ')'.
func parseStat(data []byte) (int64, error) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, errors.New("/proc stat: no command field")
	}
	f := strings.Fields(string(data[i+1:])) // f[0] is field 3, state
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc stat: %d fields after the command", len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc stat: %w", err)
	}
	return utime + stime, nil
}

// clockTicks is the kernel's USER_HZ (ticks per second in /proc), from
// getconf CLK_TCK once; 100, its value on every Linux architecture Go
// supports, when getconf is missing.
func clockTicks() int64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if v, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil && v > 0 {
			return v
		}
	}
	return 100
}

// memory is a process's resident set from /proc/PID/status, in kB: VmHWM
// (the peak since it started) and VmRSS (now).
type memory struct {
	HWMkB, RSSkB int64
}

// readMemory reads VmHWM and VmRSS of process pid.
func readMemory(pid int) (memory, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return memory{}, err
	}
	return parseStatus(data)
}

// parseStatus finds the "VmHWM:" and "VmRSS:" lines ("VmRSS:\t  12345 kB")
// of a /proc/PID/status file; both must be there, in kB.
func parseStatus(data []byte) (memory, error) {
	var m memory
	var seenHWM, seenRSS bool
	for line := range strings.SplitSeq(string(data), "\n") {
		key, rest, ok := strings.Cut(line, ":")
		if !ok || (key != "VmHWM" && key != "VmRSS") {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return memory{}, fmt.Errorf("/proc status: %s: %q is not \"N kB\"", key, strings.TrimSpace(rest))
		}
		v, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || v < 0 {
			return memory{}, fmt.Errorf("/proc status: %s: %q is not a number", key, f[0])
		}
		if key == "VmHWM" {
			m.HWMkB, seenHWM = v, true
		} else {
			m.RSSkB, seenRSS = v, true
		}
	}
	if !seenHWM || !seenRSS {
		return memory{}, errors.New("/proc status: no VmHWM or VmRSS line (a kernel thread, or not Linux)")
	}
	return m, nil
}
