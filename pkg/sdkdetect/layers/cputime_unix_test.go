//go:build unix

package layers

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process has used (all threads: the garbage
// collector's work counts), which a shared machine's load does not
// inflate the way it does wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
