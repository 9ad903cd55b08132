package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// Online Retail, imported with docs/examples/online-retail.mapping.json: the
// counts docs/imports.md documents.
const (
	retailRows         = 541909
	retailAccepted     = 540567
	retailRejected     = 1342
	retailTransactions = 24562
	retailCustomers    = 4372
)

// TestServe_KillMidImport imports the Online Retail file through the real
// binary, kills the process with SIGKILL three times while the import runs,
// restarts it each time, and checks that the import finishes with exactly
// the rows, receipts and customers of an uninterrupted one: none lost, none
// applied twice.
func TestServe_KillMidImport(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and imports 541,909 rows")
	}
	data, err := os.ReadFile(sharedData("online_retail.csv.gz"))
	if os.IsNotExist(err) {
		t.Skip("../shared/data/online_retail.csv.gz is absent (see ../shared/data/README.md)")
	}
	if err != nil {
		t.Fatal(err)
	}
	mapping, err := os.ReadFile("../../docs/examples/online-retail.mapping.json")
	if err != nil {
		t.Fatal(err)
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
	raw, err := exec.Command(bin, "tenant", "create", "--db", dbURL, "--name", "Retail").Output()
	if err != nil || json.Unmarshal(raw, &tenant) != nil {
		t.Fatalf("tenant create: %v %s", err, raw)
	}
	base, cmd := startBinary(t, bin, dbURL)
	c := client{t: t, base: base, key: tenant.APIKey}
	c.mustDo("POST", "/v1/sales_channels", 201, map[string]any{"code": "online", "type": "web", "names": map[string]string{"en": "Web shop"}})
	importID := uploadImport(t, base, tenant.APIKey, data, string(mapping))
	for i, after := range []time.Duration{1500 * time.Millisecond, 2 * time.Second, 2500 * time.Millisecond} {
		time.Sleep(after)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		c.base = ""
		base, cmd = startBinary(t, bin, dbURL)
		c.base = base
		_, im := c.do("GET", "/v1/imports/"+importID, nil)
		t.Logf("after kill %d: %v rows committed, status %v", i+1, im["counts"].(map[string]any)["rows_read"], im["status"])
	}
	var im map[string]any
	deadline := time.Now().Add(5 * time.Minute)
	for {
		_, im = c.do("GET", "/v1/imports/"+importID, nil)
		if im["status"] == "completed" || im["status"] == "failed" || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	counts := im["counts"].(map[string]any)
	for k, want := range map[string]float64{"rows_read": retailRows, "accepted": retailAccepted, "rejected": retailRejected,
		"duplicates": 0, "transactions_created": retailTransactions, "customers_created": retailCustomers} {
		if counts[k] != want {
			t.Errorf("%s = %v, want %v", k, counts[k], want)
		}
	}
	if im["status"] != "completed" {
		t.Fatalf("import %v", im)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
	db, err := sqldb.Open(context.Background(), dbURL, sqldb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for query, want := range map[string]int64{
		"SELECT COUNT(*) FROM transactions":                                retailTransactions,
		"SELECT COUNT(*) FROM transaction_lines":                           retailAccepted,
		"SELECT COUNT(*) FROM import_rejections":                           retailRejected,
		"SELECT COUNT(*) FROM customers":                                   retailCustomers,
		"SELECT COUNT(DISTINCT customer_id) FROM customer_sales":           retailCustomers,
		"SELECT COALESCE(SUM(purchases + returns), 0) FROM customer_sales": retailTransactions - guestReceipts(t, db),
	} {
		var got int64
		if err := db.Read().QueryRow(context.Background(), query).Scan(&got); err != nil || got != want {
			t.Errorf("%s = %d (%v), want %d", query, got, err, want)
		}
	}
}

func guestReceipts(t *testing.T, db *sqldb.DB) int64 {
	var n int64
	if err := db.Read().QueryRow(context.Background(), "SELECT COUNT(*) FROM transactions WHERE customer_id IS NULL").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// uploadImport posts a file with a mapping and returns the import id.
func uploadImport(t *testing.T, base, key string, file []byte, mapping string) string {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("mapping", mapping)
	fw, _ := w.CreateFormFile("file", "online_retail.csv.gz")
	_, _ = fw.Write(file)
	_ = w.Close()
	req, _ := http.NewRequest("POST", base+"/v1/imports", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out struct{ ID string }
	if res.StatusCode != 202 || json.Unmarshal(raw, &out) != nil {
		t.Fatalf("upload: %d %s", res.StatusCode, raw)
	}
	return out.ID
}

// sharedData is the path of a file of the shared data sets: beside the
// checkout (../shared/data), or where OMO_SHARED_DATA points.
func sharedData(name string) string {
	if dir := os.Getenv("OMO_SHARED_DATA"); dir != "" {
		return filepath.Join(dir, name)
	}
	return filepath.Join("..", "..", "..", "shared", "data", name)
}
