package paymenttest

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal kills stripe-mock when the test binary dies, even by
// SIGKILL (a test timeout), so no server outlives its tests.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
