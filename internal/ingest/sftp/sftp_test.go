package sftp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	sftplib "github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/omo-platform/omo/internal/catalog"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/ingest"
	"github.com/omo-platform/omo/internal/ingest/sftp"
	"github.com/omo-platform/omo/internal/location"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
	"github.com/omo-platform/omo/internal/tenant"
)

// fixture is a running sFTP server over a test database with one tenant.
type fixture struct {
	db     *sqldb.DB
	tenant tenant.Tenant
	addr   string
	port   string
}

func start(t testing.TB, db *sqldb.DB) fixture {
	t.Helper()
	ctx := context.Background()
	srv, err := sftp.New(ctx, db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	a, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve() }()
	t.Cleanup(func() { _ = srv.Close() })
	tn := sqldbtest.Tenant(t, db)
	if _, err := db.CreateSalesChannel(ctx, location.SalesChannel{TenantID: tn.ID, Code: "online", Type: location.ChannelWeb,
		Names: map[string]string{"en": "Web"}, Active: true}); err != nil {
		t.Fatal(err)
	}
	_, port, _ := strings.Cut(a.String(), ":")
	return fixture{db: db, tenant: tn, addr: a.String(), port: port}
}

func (f fixture) user() string { return id.Format(id.Tenant, f.tenant.ID) }

// sshKey makes an ed25519 key pair with ssh-keygen and authorises it.
func (f fixture) sshKey(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", keyPath).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	pubRaw, err := os.ReadFile(keyPath + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(pubRaw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.CreateSFTPKey(context.Background(), sqldb.SFTPKey{TenantID: f.tenant.ID, Name: "test",
		Fingerprint: ssh.FingerprintSHA256(pub), PublicKey: string(pubRaw)}); err != nil {
		t.Fatal(err)
	}
	return keyPath
}

// openssh runs the real OpenSSH sftp client in batch mode; it reports the
// output and whether every command succeeded.
func (f fixture) openssh(t *testing.T, key string, commands ...string) (string, bool) {
	t.Helper()
	if _, err := exec.LookPath("sftp"); err != nil {
		t.Skip("the OpenSSH sftp client is not installed (apt-get install openssh-client)")
	}
	batch := filepath.Join(t.TempDir(), "batch")
	if err := os.WriteFile(batch, []byte(strings.Join(commands, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sftp", "-b", batch, "-i", key, "-P", f.port, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", f.user()+"@127.0.0.1")
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

const retailCSV = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n" +
	"536365,85123A,WHITE HANGING HEART,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n" +
	"536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom\n" +
	"536380,22961,JAM JAR,-24,2010-12-01 09:41:00,0,,United Kingdom\n"

func TestSFTP_OpenSSHDropImportAndResults(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		f := start(t, db)
		key := f.sshKey(t)
		dir := t.TempDir()
		mapping, err := os.ReadFile("../../../docs/examples/online-retail.mapping.json")
		if err != nil {
			t.Fatal(err)
		}
		local := func(name, content string) string {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}
		// Without a mapping the drop is refused, and nothing is taken.
		if out, ok := f.openssh(t, key, "put "+local("early.csv", retailCSV)+" /inbox/transactions/early.csv"); ok {
			t.Fatalf("a drop without a mapping succeeded:\n%s", out)
		}
		out, ok := f.openssh(t, key,
			"put "+local(".mapping.json", string(mapping))+" /inbox/transactions/.mapping.json",
			"put "+local("sales.csv", retailCSV)+" /inbox/transactions/sales.csv",
			"ls -1 /archive", "ls -1 /inbox/transactions")
		if !ok || !strings.Contains(out, "sales.csv") || !strings.Contains(out, ".mapping.json") {
			t.Fatalf("drop:\n%s", out)
		}
		ims, err := db.FindImports(context.Background(), sqldb.ImportFilter{TenantID: f.tenant.ID, Limit: 10})
		if err != nil || len(ims) != 1 || ims[0].Origin != "sftp" || ims[0].FileName != "sales.csv" {
			t.Fatalf("imports %+v %v", ims, err)
		}
		if err := ingest.Run(context.Background(), db, f.tenant.ID, ims[0].ID); err != nil {
			t.Fatal(err)
		}
		name := id.Format(id.Import, ims[0].ID) + "_sales.csv"
		out, ok = f.openssh(t, key, "get /outbox/"+name+".result.json "+dir+"/result.json",
			"get /outbox/"+name+".rejections.csv "+dir+"/rejections.csv", "get /archive/"+name+" "+dir+"/archived.csv")
		if !ok {
			t.Fatalf("results:\n%s", out)
		}
		var res struct {
			Status string           `json:"status"`
			Counts map[string]int64 `json:"counts"`
		}
		raw, _ := os.ReadFile(filepath.Join(dir, "result.json"))
		if err := json.Unmarshal(raw, &res); err != nil || res.Status != "completed" || res.Counts["accepted"] != 2 || res.Counts["rejected"] != 1 {
			t.Errorf("result.json %s", raw)
		}
		rej, _ := os.ReadFile(filepath.Join(dir, "rejections.csv"))
		if !strings.Contains(string(rej), "536380") || !strings.Contains(string(rej), "negative") {
			t.Errorf("rejections.csv %s", rej)
		}
		if archived, _ := os.ReadFile(filepath.Join(dir, "archived.csv")); string(archived) != retailCSV {
			t.Errorf("archived file differs: %q", archived)
		}
		// Nothing outside the inbox can be written, and nothing removed.
		if out, ok := f.openssh(t, key, "put "+local("x.csv", "a\n")+" /archive/x.csv"); ok {
			t.Errorf("a write to /archive succeeded:\n%s", out)
		}
		if out, ok := f.openssh(t, key, "rm /archive/"+name); ok {
			t.Errorf("a remove succeeded:\n%s", out)
		}
		// A mapping that is not valid is refused with the reason.
		if out, ok := f.openssh(t, key, "put "+local("bad.json", `{"kind":"transactions","fields":{"sku":{"column":"s"}}}`)+" /inbox/transactions/.mapping.json"); ok {
			t.Errorf("an invalid mapping was taken:\n%s", out)
		}
	})
}

func TestSFTP_PasswordIsAnImportKey(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		f := start(t, db)
		ctx := context.Background()
		_, importKey, err := db.CreateKey(ctx, sqldb.KeyParams{TenantID: f.tenant.ID, Kind: "sk", Scopes: []string{"imports:write"}})
		if err != nil {
			t.Fatal(err)
		}
		_, readKey, _ := db.CreateKey(ctx, sqldb.KeyParams{TenantID: f.tenant.ID, Kind: "sk", Scopes: []string{"customers:read"}})
		other := sqldbtest.Tenant(t, db)
		dial := func(user, password string) (*sftplib.Client, error) {
			c, err := ssh.Dial("tcp", f.addr, &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{ssh.Password(password)},
				HostKeyCallback: ssh.InsecureIgnoreHostKey()})
			if err != nil {
				return nil, err
			}
			t.Cleanup(func() { c.Close() })
			return sftplib.NewClient(c)
		}
		for _, tc := range []struct{ name, user, password string }{
			{"a key without imports:write", f.user(), readKey},
			{"another tenant's name", id.Format(id.Tenant, other.ID), importKey},
			{"not a key", f.user(), "hunter2"},
			{"no tenant id", "admin", importKey},
		} {
			if _, err := dial(tc.user, tc.password); err == nil {
				t.Errorf("%s: logged in", tc.name)
			}
		}
		c, err := dial(f.user(), importKey)
		if err != nil {
			t.Fatal(err)
		}
		entries, err := c.ReadDir("/inbox")
		if err != nil || len(entries) != 5 {
			t.Fatalf("/inbox: %v %v", entries, err)
		}
		w, err := c.Create("/inbox/customers/.mapping.json")
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprint(w, `{"fields":{"email":{"column":"email"}}}`)
		if err := w.Close(); err != nil {
			t.Fatalf("mapping upload: %v", err)
		}
		w, _ = c.Create("/inbox/customers/members.csv")
		fmt.Fprint(w, "email\nann@omo-shop.hk\n")
		if err := w.Close(); err != nil {
			t.Fatalf("upload: %v", err)
		}
		ims, _ := db.FindImports(ctx, sqldb.ImportFilter{TenantID: f.tenant.ID, Limit: 10})
		if len(ims) != 1 || ims[0].Kind != "customers" || ims[0].MappingName != "sftp-customers" {
			t.Fatalf("imports %+v", ims)
		}
		// Another tenant sees none of it.
		otherKey := func() string {
			_, k, _ := db.CreateKey(ctx, sqldb.KeyParams{TenantID: other.ID, Kind: "sk", Scopes: []string{"*"}})
			return k
		}()
		oc, err := dial(id.Format(id.Tenant, other.ID), otherKey)
		if err != nil {
			t.Fatal(err)
		}
		if archive, err := oc.ReadDir("/archive"); err != nil || len(archive) != 0 {
			t.Errorf("another tenant's /archive: %v %v", archive, err)
		}
	})
}

// BenchmarkSFTPUpload50MB drops a 50 MB file with the OpenSSH sftp client
// and reports the seconds until the client's put returns, which is when the
// file is stored in the database and its import queued.
// Run: go test ./internal/ingest/sftp -run X -bench Upload50MB -benchtime 3x
func BenchmarkSFTPUpload50MB(b *testing.B) {
	if _, err := exec.LookPath("sftp"); err != nil {
		b.Skip("the OpenSSH sftp client is not installed")
	}
	for _, e := range sqldbtest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			db := sqldbtest.Open(b, e)
			f := start(b, db)
			key := f.sshKey(b)
			if err := db.SaveImportMapping(context.Background(), f.tenant.ID, sftp.FolderMapping("customers"),
				`{"kind":"customers","fields":{"email":{"column":"email"}}}`); err != nil {
				b.Fatal(err)
			}
			file := filepath.Join(b.TempDir(), "big.csv")
			var sb strings.Builder
			sb.WriteString("email\n")
			for i := 0; sb.Len() < 50<<20; i++ {
				fmt.Fprintf(&sb, "customer-%09d@bench.omo-shop.hk\n", i)
			}
			if err := os.WriteFile(file, []byte(sb.String()), 0o600); err != nil {
				b.Fatal(err)
			}
			batch := filepath.Join(b.TempDir(), "batch")
			_ = os.WriteFile(batch, []byte("put "+file+" /inbox/customers/big.csv\n"), 0o600)
			b.SetBytes(int64(sb.Len()))
			for b.Loop() {
				cmd := exec.Command("sftp", "-b", batch, "-i", key, "-P", f.port, "-o", "StrictHostKeyChecking=no",
					"-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", f.user()+"@127.0.0.1")
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("sftp: %v %s", err, out)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/upload")
		})
	}
}

// TestSFTP_CatalogDrop: products and prices dropped in their inbox folders
// are imported like the other kinds.
func TestSFTP_CatalogDrop(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		ctx := context.Background()
		f := start(t, db)
		key := f.sshKey(t)
		if _, err := db.CreatePriceList(ctx, catalog.PriceList{TenantID: f.tenant.ID, Code: "base-hkd", Name: "Base", Currency: "HKD"}); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		local := func(name, content string) string {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}
		products := "style,sku,name,size\nTEE,TEE-S,Tee,S\nTEE,TEE-M,,M\nTEE,TEE-M,,L\n"
		prices := "sku,price\nTEE-S,129.00\nTEE-X,1.00\n"
		out, ok := f.openssh(t, key,
			"put "+local("p.json", `{"kind":"products","fields":{"product":{"column":"style"},"sku":{"column":"sku"},"name.en":{"column":"name"},"option.size":{"column":"size"}}}`)+" /inbox/products/.mapping.json",
			"put "+local("products.csv", products)+" /inbox/products/products.csv",
			"put "+local("q.json", `{"kind":"prices","fields":{"price_list":{"value":"base-hkd"},"sku":{"column":"sku"},"amount":{"column":"price"}}}`)+" /inbox/prices/.mapping.json",
			"put "+local("prices.csv", prices)+" /inbox/prices/prices.csv")
		if !ok {
			t.Fatalf("drop:\n%s", out)
		}
		ims, err := db.FindImports(ctx, sqldb.ImportFilter{TenantID: f.tenant.ID, Limit: 10})
		if err != nil || len(ims) != 2 {
			t.Fatalf("imports %+v %v", ims, err)
		}
		slices.Reverse(ims) // oldest (products) first
		want := []struct {
			kind               string
			accepted, rejected int64
		}{{"products", 2, 1}, {"prices", 1, 1}}
		for i, im := range ims {
			if err := ingest.Run(ctx, db, f.tenant.ID, im.ID); err != nil {
				t.Fatal(err)
			}
			got, _ := db.FindImportByID(ctx, f.tenant.ID, im.ID)
			if got.Kind != want[i].kind || got.Origin != "sftp" || got.Accepted != want[i].accepted || got.Rejected != want[i].rejected {
				t.Errorf("import %d: %+v", i, got)
			}
		}
		p, err := db.PriceSKUs(ctx, db.Read(), sqldb.PriceQuery{TenantID: f.tenant.ID, Currency: "HKD", SKUs: []string{"TEE-S"}})
		if err != nil || p["TEE-S"].Amount != 12900 || p["TEE-S"].Name != "Tee" {
			t.Fatalf("price: %+v %v", p, err)
		}
	})
}
