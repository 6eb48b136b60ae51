//go:build !linux

package cluster

import "os/exec"

// setDeathSignal: only Linux can tie a child's life to its parent's; call
// Stop (t.Cleanup) elsewhere.
func setDeathSignal(cmd *exec.Cmd) {}
