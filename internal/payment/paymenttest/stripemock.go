// Package paymenttest runs Stripe's own stripe-mock server for tests of
// code that pays through Stripe. stripe-mock is a Go tool dependency of the
// module (go.mod's tool line), so it needs no download beyond the Go module
// proxy and no install step.
package paymenttest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// startTimeout bounds building (from the Go build cache once built) and
// starting stripe-mock, which loads Stripe's OpenAPI spec at start.
const startTimeout = 3 * time.Minute

var shared struct {
	once sync.Once
	base string
	cmd  *exec.Cmd
	err  error
}

// StripeMock answers the base URL ("http://127.0.0.1:port") of a stripe-mock
// server shared by the whole test binary, starting it on first use on a free
// loopback port. It fails the test when stripe-mock cannot be built or
// started: it never skips. The server ends with the test binary (on Linux
// even when the binary is killed) or at Stop.
//
// stripe-mock checks every request against Stripe's OpenAPI spec and answers
// fixtures: it catches wrong parameters, but its PaymentIntents always come
// back in the fixture's status and it never declines a card.
func StripeMock(t testing.TB) string {
	t.Helper()
	shared.once.Do(func() { shared.base, shared.cmd, shared.err = start() })
	if shared.err != nil {
		t.Fatalf("stripe-mock: %v", shared.err)
	}
	return shared.base
}

// Stop ends the shared stripe-mock, if it was started; call it from TestMain
// after m.Run.
func Stop() {
	if shared.cmd != nil && shared.cmd.Process != nil {
		_ = shared.cmd.Process.Kill()
	}
}

func start() (string, *exec.Cmd, error) {
	bin, err := build()
	if err != nil {
		return "", nil, err
	}
	// -https-addr too: given only an HTTP address, stripe-mock still opens
	// HTTPS on its fixed default port, which parallel test binaries share.
	cmd := exec.Command(bin, "-http-addr", "127.0.0.1:", "-https-addr", "127.0.0.1:")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	cmd.Stderr = cmd.Stdout
	if err := startTied(cmd); err != nil {
		return "", nil, fmt.Errorf("start %s: %w", bin, err)
	}
	addr := make(chan string, 1)
	go scan(out, addr)
	select {
	case a, ok := <-addr:
		if !ok {
			return "", nil, errors.New("stripe-mock exited before it listened")
		}
		return "http://" + a, cmd, nil
	case <-time.After(startTimeout):
		_ = cmd.Process.Kill()
		return "", nil, fmt.Errorf("stripe-mock did not listen within %s", startTimeout)
	}
}

// build compiles stripe-mock into the Go build cache (`go tool -n` builds the
// tool and prints its path without running it), once per machine.
func build() (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	out, err := exec.Command(goBin, "tool", "-n", "stripe-mock").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("go tool -n stripe-mock: %w: %s", err, ee.Stderr)
		}
		return "", fmt.Errorf("go tool -n stripe-mock: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// scan sends the HTTP address stripe-mock announces, then drains its output
// so that it never blocks on a full pipe.
func scan(r io.Reader, addr chan<- string) {
	const prefix = "Listening for HTTP at address: "
	s := bufio.NewScanner(r)
	sent := false
	for s.Scan() {
		if line := s.Text(); !sent && strings.HasPrefix(line, prefix) {
			addr <- strings.TrimSpace(strings.TrimPrefix(line, prefix))
			sent = true
		}
	}
	if !sent {
		close(addr)
	}
}

// startTied starts cmd from an OS thread that stays locked until cmd exits,
// so that the parent-death signal (Linux) fires only when the test binary
// itself dies, never when the Go runtime retires a thread.
func startTied(cmd *exec.Cmd) error {
	setParentDeathSignal(cmd)
	started := make(chan error)
	go func() {
		runtime.LockOSThread()
		err := cmd.Start()
		started <- err
		if err == nil {
			_ = cmd.Wait()
		}
		runtime.UnlockOSThread()
	}()
	return <-started
}
