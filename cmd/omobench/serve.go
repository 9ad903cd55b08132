package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// tenantCreated is what `omo tenant create` prints.
type tenantCreated struct {
	TenantID string `json:"tenant_id"`
	APIKey   string `json:"api_key"`
}

// createTenant runs `omo tenant create` and returns its key.
func createTenant(ctx context.Context, bin, dbURL, name string) (tenantCreated, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "tenant", "create", "--db", dbURL, "--name", name)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return tenantCreated{}, fmt.Errorf("omo tenant create: %w: %s", err, strings.TrimSpace(errb.String()))
	}
	var t tenantCreated
	if err := json.Unmarshal(out.Bytes(), &t); err != nil || t.APIKey == "" {
		return t, fmt.Errorf("omo tenant create printed %q: %v", out.String(), err)
	}
	return t, nil
}

// omoProc is a running `omo serve`.
type omoProc struct {
	cmd     *exec.Cmd
	addr    string        // 127.0.0.1:port from the "listening" log line
	ready   time.Duration // process start to the first /readyz 200
	logged  string        // the "startup" the process logged itself
	exited  chan struct{} // closed when the process has been reaped
	waitErr error
}

// startServe starts `omo serve` on a free loopback port, reads the port from
// its "listening" log line and polls /readyz until it answers 200. The
// server's output goes straight to a file (no pipe through the bench, whose
// reading would otherwise be part of what is measured).
func startServe(ctx context.Context, bin, dbURL, logPath string) (*omoProc, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child keeps its own descriptor
	st, err := logFile.Stat()
	if err != nil {
		return nil, err
	}
	tail, err := os.Open(logPath)
	if err != nil {
		return nil, err
	}
	defer tail.Close()
	if _, err := tail.Seek(st.Size(), io.SeekStart); err != nil {
		return nil, err
	}
	args := []string{"serve", "--db", dbURL, "--addr", "127.0.0.1:0"}
	if pp := os.Getenv("OMOBENCH_PPROF_ADDR"); pp != "" {
		args = append(args, "--pprof-addr", pp) // to profile the server under load
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start omo serve: %w", err)
	}
	p := &omoProc{cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	fail := func(err error) (*omoProc, error) {
		p.kill()
		return nil, fmt.Errorf("%w (log: %s)", err, logPath)
	}
	deadline := time.Now().Add(60 * time.Second)
	wait := func() error {
		select {
		case <-p.exited:
			return fmt.Errorf("omo serve exited before ready: %v", p.waitErr)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("omo serve not ready within 60 s")
		}
		return nil
	}
	// The "listening" line gives the port.
	var pending []byte
	buf := make([]byte, 64<<10)
	for p.addr == "" {
		n, _ := tail.Read(buf)
		pending = append(pending, buf[:n]...)
		for {
			i := bytes.IndexByte(pending, '\n')
			if i < 0 {
				break
			}
			var l struct{ Msg, Addr, Startup string }
			if json.Unmarshal(pending[:i], &l) == nil && l.Msg == "listening" {
				p.addr, p.logged = l.Addr, l.Startup
			}
			pending = pending[i+1:]
		}
		if p.addr == "" && n == 0 {
			if err := wait(); err != nil {
				return fail(err)
			}
		}
	}
	host, _, err := net.SplitHostPort(p.addr)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		return fail(fmt.Errorf("omo serve listens on %q, not on loopback", p.addr))
	}
	hc := &http.Client{Timeout: 2 * time.Second}
	defer hc.CloseIdleConnections()
	for {
		resp, err := hc.Get("http://" + p.addr + "/readyz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				p.ready = time.Since(start)
				return p, nil
			}
		}
		if err := wait(); err != nil {
			return fail(err)
		}
	}
}

// stop sends SIGTERM and waits for a clean exit; after timeout it kills.
func (p *omoProc) stop(timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(timeout):
		p.kill()
		return time.Since(start), fmt.Errorf("omo serve did not stop within %s; killed", timeout)
	}
	took := time.Since(start)
	if p.waitErr != nil {
		return took, fmt.Errorf("omo serve: %w", p.waitErr)
	}
	return took, nil
}

// kill ends the process at once (only this process, by its pid).
func (p *omoProc) kill() {
	select {
	case <-p.exited:
	default:
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// rssBytes reads VmRSS (or another Vm* line) from /proc/PID/status.
func procStatus(pid int, field string) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(v)
			if len(f) != 2 || f[1] != "kB" {
				return 0, fmt.Errorf("unexpected %s line %q", field, line)
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// procCPU is a process's user+system CPU time from /proc/PID/stat.
func procCPU(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("bad /proc stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	const clockTicks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// selfCPU is this process's user+system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// goMemory reads the Go runtime's own view of its memory from /metrics, to
// tell the Go heap apart from memory the runtime does not manage (SQLite's
// page cache in modernc's allocator, for one).
func goMemory(ctx context.Context, addr string) (heapInuse, sys float64, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, err
	}
	found := 0
	for _, line := range strings.Split(string(raw), "\n") {
		name, v, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			continue
		}
		switch name {
		case "go_memstats_heap_inuse_bytes":
			heapInuse = f
			found++
		case "go_memstats_sys_bytes":
			sys = f
			found++
		}
	}
	if found != 2 {
		return heapInuse, sys, errors.New("no go_memstats in /metrics")
	}
	return heapInuse, sys, nil
}

// systemCPU is the CPU time all processes on the machine have used since
// boot (every CPU summed), from /proc/stat: the bench reports how much of the
// machine other processes took during a run, since that skews the figures.
func systemCPU() time.Duration {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return 0
	}
	var busy int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 || i >= 8 { // idle, iowait; guest time is already in user
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		busy += n
	}
	const clockTicks = 100
	return time.Duration(busy) * time.Second / clockTicks
}

// backendCPU sums the CPU time of the live PostgreSQL backends serving
// database db (their command line reads "postgres: … USER DB HOST(PORT) …"),
// so that the database server's work for this bench is told apart from its
// work for anyone else's tests. PostgreSQL's shared background processes
// (WAL writer, checkpointer) are not counted.
func backendCPU(db string) time.Duration {
	if db == "" {
		return 0
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var sum time.Duration
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !bytes.HasPrefix(cmdline, []byte("postgres: ")) || !bytes.Contains(cmdline, []byte(" "+db+" ")) {
			continue
		}
		if d, err := procCPU(pid); err == nil {
			sum += d
		}
	}
	return sum
}

// waitQuiet waits, up to limit, for a second in which processes other than
// this one and pid use less than threshold cores, so that a measurement does
// not start in the middle of someone else's build. It returns how long it
// waited and the last reading.
func waitQuiet(ctx context.Context, pid int, threshold float64, limit time.Duration) (time.Duration, float64) {
	start := time.Now()
	var other float64
	probe := cpuProbe{pid: pid}
	for {
		before := probe.read()
		t0 := time.Now()
		select {
		case <-ctx.Done():
			return time.Since(start), other
		case <-time.After(time.Second):
		}
		other = probe.read().since(before, time.Since(t0)).Other
		if other < threshold || time.Since(start) >= limit {
			return time.Since(start), other
		}
	}
}
