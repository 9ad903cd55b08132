package main

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
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listenAddr = regexp.MustCompile(`"msg":"listening","addr":"([^"]+)"`)

func noEnv(string) string { return "" }

// runCLI runs one omo command in-process and returns its stdout.
func runCLI(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), args, noEnv, &out, &errOut); err != nil {
		t.Fatalf("omo %v: %v\n%s", args, err, errOut.String())
	}
	return out.String()
}

// startServe runs `omo serve` in-process on a free port and returns its base
// URL and a stop function that shuts it down gracefully.
func startServe(t *testing.T, dbURL string) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--db", dbURL, "--addr", "127.0.0.1:0"}, noEnv, io.Discard, logs)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := listenAddr.FindStringSubmatch(logs.String()); m != nil {
			base := "http://" + m[1]
			var once sync.Once
			var err error
			stop := func() error { once.Do(func() { cancel(); err = <-done }); return err }
			t.Cleanup(func() { _ = stop() })
			return base, stop
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited: %v\n%s", err, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	t.Fatalf("serve did not start:\n%s", logs.String())
	return "", nil
}

type client struct {
	t    *testing.T
	base string
	key  string
}

// mustDo sends a request and fails the test unless it gets status.
func (c client) mustDo(method, path string, status int, body any) map[string]any {
	c.t.Helper()
	got, out := c.do(method, path, body)
	if got != status {
		c.t.Fatalf("%s %s: want %d, got %d %v", method, path, status, got, out)
	}
	return out
}

func (c client) do(method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		r = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, c.base+path, r)
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestServe_NewcomerWalkthrough(t *testing.T) {
	t.Parallel()
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			dbURL := sqldbtest.URL(t, e)
			var tenant struct{ TenantID, APIKey string }
			out := runCLI(t, "tenant", "create", "--db", dbURL, "--name", "Demo Brand")
			if err := json.Unmarshal([]byte(strings.ReplaceAll(strings.ReplaceAll(out, "tenant_id", "TenantID"), "api_key", "APIKey")), &tenant); err != nil || !strings.HasPrefix(tenant.APIKey, "sk_") {
				t.Fatalf("tenant create printed %q: %v", out, err)
			}
			base, stop := startServe(t, dbURL)
			c := client{t: t, base: base, key: tenant.APIKey}

			status, pos := c.do("POST", "/v1/customers", map[string]any{"source": "pos",
				"identifiers": map[string]any{"phone": "9123 4567", "external": []map[string]string{{"type": "pos", "value": "C-1029"}}},
				"traits":      map[string]any{"first_name": "Mei"}})
			if status != 201 {
				t.Fatalf("first identify: %d %v", status, pos)
			}
			status, web := c.do("POST", "/v1/customers", map[string]any{"source": "web",
				"identifiers": map[string]any{"email": "Mei.Chan@example.hk", "phone": "+852 9123 4567"},
				"traits":      map[string]any{"last_name": "Chan"}})
			if status != 200 || web["id"] != pos["id"] {
				t.Fatalf("second identify should find the same customer: %d %v", status, web)
			}
			status, found := c.do("GET", "/v1/customers?email=mei.chan@example.hk", nil)
			if data, _ := found["data"].([]any); status != 200 || len(data) != 1 {
				t.Fatalf("lookup: %d %v", status, found)
			}
			var keyOut struct {
				APIKey string `json:"api_key"`
			}
			_ = json.Unmarshal([]byte(runCLI(t, "key", "create", "--db", dbURL, "--tenant", tenant.TenantID, "--scopes", "customers:read")), &keyOut)
			reader := client{t: t, base: base, key: keyOut.APIKey}
			if status, _ := reader.do("GET", "/v1/customers/"+pos["id"].(string), nil); status != 200 {
				t.Fatalf("read key GET: %d", status)
			}
			if status, _ := reader.do("POST", "/v1/customers", map[string]any{"identifiers": map[string]any{"email": "x@shop.hk"}}); status != 403 {
				t.Fatalf("read key POST: want 403, got %d", status)
			}
			// A sale at a store, by the same customer's phone, lands on her
			// profile.
			c.mustDo("POST", "/v1/locations", 201, map[string]any{"code": "CWB", "type": "store",
				"names": map[string]string{"en": "Causeway Bay"}, "time_zone": "Asia/Hong_Kong", "currency": "HKD"})
			c.mustDo("POST", "/v1/sales_channels", 201, map[string]any{"code": "pos", "type": "pos", "names": map[string]string{"en": "POS"}})
			sale := c.mustDo("POST", "/v1/transactions", 201, map[string]any{"kind": "purchase", "sales_channel": "pos", "location": "CWB",
				"register": "1", "receipt_number": "A-0001", "occurred_at": "2026-11-20T15:00:00+08:00",
				"customer": map[string]any{"identifiers": map[string]any{"phone": "91234567"}},
				"lines":    []map[string]any{{"sku": "TEE", "quantity": 1, "unit_price": 12900}}})
			if sale["customer_id"] != pos["id"] {
				t.Fatalf("the sale went to %v, want %v", sale["customer_id"], pos["id"])
			}
			c.mustDo("POST", "/v1/transactions", 200, map[string]any{"kind": "purchase", "sales_channel": "pos", "location": "CWB",
				"register": "1", "receipt_number": "A-0001", "occurred_at": "2026-11-20T15:00:00+08:00",
				"customer": map[string]any{"identifiers": map[string]any{"phone": "91234567"}},
				"lines":    []map[string]any{{"sku": "TEE", "quantity": 1, "unit_price": 12900}}})
			// Erasing a customer queues customer.erased with the erasure; the
			// job runs on the worker.
			gone := c.mustDo("POST", "/v1/customers", 201, map[string]any{"identifiers": map[string]any{"email": "gone@shop.hk"}})
			c.mustDo("DELETE", "/v1/customers/"+gone["id"].(string), 200, nil)
			metrics := waitForMetric(t, base, `omo_jobs_total{kind="customer.erased",state="completed"} 1`)
			for _, want := range []string{`omo_http_requests_total{method="POST",route="POST /v1/customers",status="201"} 2`,
				`omo_http_requests_total{method="POST",route="POST /v1/transactions",status="200"} 1`,
				`omo_jobs_total{kind="customer.erased",state="completed"} 1`,
				"omo_http_request_duration_seconds_bucket", "omo_db_connections_open", "omo_db_group_commits_total", "go_goroutines"} {
				if !strings.Contains(string(metrics), want) {
					t.Errorf("/metrics lacks %s", want)
				}
			}
			if err := stop(); err != nil {
				t.Fatalf("graceful shutdown: %v", err)
			}
		})
	}
}

func TestRun_UsageErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{}, {"nope"}, {"serve", "--role", "boss"}, {"tenant", "create"}, {"key", "create", "--scopes", "bogus:scope"}} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), args, noEnv, &out, &errOut); exitCode(err) != 2 {
			t.Errorf("omo %v: want usage error (exit 2), got %v", args, err)
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"serve", "--help"}, noEnv, &out, &out); err != nil || !strings.Contains(out.String(), "--role") {
		t.Errorf("serve --help: %v %q", err, out.String())
	}
}

// TestServe_KillMidWrite starts the real binary, kills it with SIGKILL while
// clients are writing, restarts it, and checks that every write that was
// acknowledged (2xx) is there, exactly once.
func TestServe_KillMidWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "omo")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dbURL := sqldbtest.URL(t, sqldb.SQLite)
	var tenant struct {
		APIKey string `json:"api_key"`
	}
	raw, err := exec.Command(bin, "tenant", "create", "--db", dbURL, "--name", "Crash Brand").Output()
	if err != nil || json.Unmarshal(raw, &tenant) != nil {
		t.Fatalf("tenant create: %v %s", err, raw)
	}
	base, cmd := startBinary(t, bin, dbURL)
	acked := writeUntilKilled(t, base, tenant.APIKey, cmd)
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged before the kill")
	}
	base, server := startBinary(t, bin, dbURL)
	checkSpareProc(t, base)
	checkCommitThreads(t, server.Process.Pid)
	c := client{t: t, base: base, key: tenant.APIKey}
	for email, id := range acked {
		status, out := c.do("GET", "/v1/customers?email="+email, nil)
		data, _ := out["data"].([]any)
		if status != 200 || len(data) != 1 || data[0].(map[string]any)["id"] != id {
			t.Fatalf("acknowledged customer %s (%s) after restart: %d %v", email, id, status, out)
		}
	}
	t.Logf("%d acknowledged writes survived SIGKILL", len(acked))
}

func startBinary(t *testing.T, bin, dbURL string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--db", dbURL, "--addr", "127.0.0.1:0")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if m := listenAddr.FindStringSubmatch(sc.Text()); m != nil {
			go func() { _, _ = io.Copy(io.Discard, stderr) }()
			return "http://" + m[1], cmd
		}
	}
	t.Fatal("binary did not start")
	return "", nil
}

// writeUntilKilled runs 8 writers; after 150 acknowledged writes it kills the
// server. It returns email → customer id of every acknowledged write.
func writeUntilKilled(t *testing.T, base, key string, cmd *exec.Cmd) map[string]string {
	var mu sync.Mutex
	acked := map[string]string{}
	var wg sync.WaitGroup
	var once sync.Once
	hc := &http.Client{Timeout: 5 * time.Second}
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				email := fmt.Sprintf("crash%d-%d@shop.hk", w, i)
				body := fmt.Sprintf(`{"identifiers":{"email":%q}}`, email)
				req, _ := http.NewRequest("POST", base+"/v1/customers", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				resp, err := hc.Do(req)
				if err != nil {
					return // the server is gone
				}
				var out struct{ ID string }
				_ = json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				if resp.StatusCode/100 == 2 {
					mu.Lock()
					acked[email] = out.ID
					n := len(acked)
					mu.Unlock()
					if n >= 150 {
						once.Do(func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
					}
				}
			}
		}(w)
	}
	wg.Wait()
	_ = cmd.Wait()
	if _, err := os.Stat("/proc/" + fmt.Sprint(cmd.Process.Pid)); err == nil {
		t.Log("process still present after kill")
	}
	return acked
}

// TestServe_Roles starts an API-only and a worker-only process on one
// database: the API process answers /v1, the worker only health and metrics.
func TestServe_Roles(t *testing.T) {
	t.Parallel()
	dbURL := sqldbtest.URL(t, sqldb.SQLite)
	var tenant struct {
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal([]byte(runCLI(t, "tenant", "create", "--db", dbURL, "--name", "Roles")), &tenant); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		role     string
		v1Status int
	}{{"api", 201}, {"worker", 404}} {
		ctx, cancel := context.WithCancel(context.Background())
		logs := &syncBuffer{}
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"serve", "--db", dbURL, "--addr", "127.0.0.1:0", "--role", tc.role}, noEnv, io.Discard, logs)
		}()
		var base string
		for i := 0; i < 500 && base == ""; i++ {
			if m := listenAddr.FindStringSubmatch(logs.String()); m != nil {
				base = "http://" + m[1]
			}
			time.Sleep(10 * time.Millisecond)
		}
		if base == "" {
			cancel()
			t.Fatalf("role %s did not start: %s", tc.role, logs.String())
		}
		c := client{t: t, base: base, key: tenant.APIKey}
		if status, _ := c.do("GET", "/readyz", nil); status != 200 {
			t.Errorf("role %s: readyz %d", tc.role, status)
		}
		if status, _ := c.do("POST", "/v1/customers", map[string]any{"identifiers": map[string]any{"email": tc.role + "@shop.hk"}}); status != tc.v1Status {
			t.Errorf("role %s: POST /v1/customers = %d, want %d", tc.role, status, tc.v1Status)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("role %s: shutdown: %v", tc.role, err)
		}
	}
}

// waitForMetric polls /metrics until it contains want (a job finishes on
// the worker a moment after the request that enqueued it), and returns it.
func waitForMetric(t *testing.T, base, want string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), want) || time.Now().After(deadline) {
			return string(body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkCommitThreads checks that the binary serving SQLite runs its writer
// and WAL syncer on two threads at nice -10 (ADR 12), which needs root or
// CAP_SYS_NICE; without them it runs on at normal priority.
func checkCommitThreads(t *testing.T, pid int) {
	t.Helper()
	want := 2
	if os.Geteuid() != 0 {
		want = 0 // no right to raise a priority: logged, and nothing changes
	}
	if got := sqldbtest.ThreadNices(t, pid)[defaultCommitNice]; got != want {
		t.Fatalf("%d threads of omo serve at nice %d, want %d", got, defaultCommitNice, want)
	}
}

// checkSpareProc checks that the binary serving SQLite at base runs one P more
// than the cores (ADR 11), or the GOMAXPROCS its environment (inherited from
// the test's) sets.
func checkSpareProc(t *testing.T, base string) {
	t.Helper()
	want := strconv.Itoa(defaultProcs + 1)
	if env := os.Getenv("GOMAXPROCS"); env != "" {
		want = env
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^go_sched_gomaxprocs_threads (\d+)$`).FindSubmatch(raw)
	if m == nil || string(m[1]) != want {
		t.Fatalf("GOMAXPROCS of omo serve on SQLite: got %q, want %s", m, want)
	}
}
