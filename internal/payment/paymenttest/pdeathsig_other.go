//go:build !linux

package paymenttest

import "os/exec"

// setParentDeathSignal has no portable equivalent off Linux: there Stop, from
// TestMain, ends stripe-mock.
func setParentDeathSignal(*exec.Cmd) {}
