package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/ingest"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// upload posts a multipart import and returns the response.
func (s *server) upload(t *testing.T, key, fileName string, file []byte, fields map[string]string) response {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	fw, err := w.CreateFormFile("file", fileName)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(file)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, s.url+"/v1/imports", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := response{Method: "POST", Path: "/v1/imports", Status: res.StatusCode, Header: res.Header, Raw: raw}
	r.JSON = decode[map[string]any](t, r)
	return r
}

// runImport does what the import.run job does, then returns the import.
func (s *server) runImport(t *testing.T, c caller, r response) map[string]any {
	t.Helper()
	if r.Status != http.StatusAccepted {
		t.Fatalf("upload: %s", r)
	}
	iid, err := id.Parse(id.Import, r.JSON["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if err := ingest.Run(context.Background(), s.db, c.TenantID, iid); err != nil {
		t.Fatal(err)
	}
	return s.must(t, http.StatusOK, http.MethodGet, "/v1/imports/"+r.JSON["id"].(string), c.Secret, nil, nil).JSON
}

func counts(im map[string]any) map[string]int {
	out := map[string]int{}
	for k, v := range im["counts"].(map[string]any) {
		out[k] = int(v.(float64))
	}
	return out
}

func TestImports_CustomersWithBOMAndSemicolons(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		c := s.newTenant(t)
		file := "\xEF\xBB\xBFe-mail;mobile;first;birthday;tier\n" +
			"ann@omo-shop.hk;9123 4501;Ann;1990-02-03;gold\n" +
			"not-an-email;;Bob;;silver\n" +
			"cat@omo-shop.hk;9123 4503;Cat;1999-13-01;\n" +
			";;Nobody;;\n" +
			"\"dan@omo-shop.hk\";\"9123 4504\";\"Dan; Jr\";;bronze\n"
		mapping := `{"kind":"customers","delimiter":";","fields":{"email":{"column":"e-mail"},"phone":{"column":"mobile"},
			"traits.first_name":{"column":"first"},"traits.birthday":{"column":"birthday"},"attributes.tier":{"column":"tier"}}}`
		im := s.runImport(t, c.caller(), s.upload(t, c.Secret, "members.csv", []byte(file), map[string]string{"mapping": mapping}))
		if im["status"] != "completed" {
			t.Fatalf("import %v", im)
		}
		if got := counts(im); got["rows_read"] != 5 || got["accepted"] != 2 || got["rejected"] != 3 || got["customers_created"] != 2 {
			t.Errorf("counts %v", got)
		}
		dan := decode[page[customerJSON]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers?email=dan@omo-shop.hk", c.Secret, nil, nil))
		if len(dan.Data) != 1 || dan.Data[0].Traits["first_name"] != "Dan; Jr" {
			t.Errorf("quoted field with the delimiter: %+v", dan.Data)
		}
		rej := s.must(t, http.StatusOK, http.MethodGet, "/v1/imports/"+im["id"].(string)+"/rejections", c.Secret, nil, nil)
		if !strings.HasPrefix(rej.Header.Get("Content-Type"), "text/csv") {
			t.Errorf("content type %q", rej.Header.Get("Content-Type"))
		}
		rows, err := csv.NewReader(bytes.NewReader(rej.Raw)).ReadAll()
		if err != nil || len(rows) != 4 {
			t.Fatalf("rejections %q: %v", rej.Raw, err)
		}
		for i, want := range []struct{ line, reason string }{{"3", "email"}, {"4", "birthday"}, {"5", "no identifier"}} {
			if rows[i+1][0] != want.line || !strings.Contains(rows[i+1][1], want.reason) {
				t.Errorf("rejection %d = %v, want line %s about %s", i, rows[i+1], want.line, want.reason)
			}
		}
	})
}

func TestImports_TransactionsTwiceApplyOnce(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		sh := s.newShop(t)
		file := "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n" +
			"536365,85123A,WHITE HANGING HEART,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom\n" +
			"536366,22633,HAND WARMER,6,2010-12-01 08:28:00,1.85,17850.0,United Kingdom\n" +
			"536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom\n" +
			"536367,84879,ASSORTED BIRD,32,2010-12-01 08:34:00,1.69,,France\n" +
			"C536379,D,Discount,-1,2010-12-01 09:41:00,27.50,14527.0,United Kingdom\n" +
			"536380,22961,JAM JAR,-24,2010-12-01 09:41:00,0,,United Kingdom\n" +
			"536381,PADS,PADS,1,2010-12-01 09:41:00,0.001,15618.0,United Kingdom\n"
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		_, _ = zw.Write([]byte(file))
		_ = zw.Close()
		mapping := strings.ReplaceAll(`{"kind":"transactions","time_format":"2006-01-02 15:04:05","time_zone":"Europe/London",
			"fields":{"receipt_number":{"column":"InvoiceNo"},"sales_channel":{"value":"web"},"occurred_at":{"column":"InvoiceDate"},
			"currency":{"value":"GBP"},"sku":{"column":"StockCode"},"name":{"column":"Description"},"quantity":{"column":"Quantity"},
			"unit_price":{"column":"UnitPrice"},"customer.external.uci":{"column":"CustomerID","as":"integer"},
			"customer.attributes.country":{"column":"Country"}},"returns":{"receipt_prefix":"C"}}`, "\n", "")
		s.must(t, http.StatusOK, http.MethodPut, "/v1/import_mappings/uci", sh.Secret, decode[map[string]any](t, response{Raw: []byte(mapping)}), nil)
		first := s.runImport(t, sh.caller, s.upload(t, sh.Secret, "retail.csv.gz", gz.Bytes(), map[string]string{"mapping_name": "uci"}))
		want := map[string]int{"rows_read": 7, "accepted": 5, "rejected": 2, "duplicates": 0, "transactions_created": 4, "customers_created": 2}
		for k, v := range want {
			if counts(first)[k] != v {
				t.Errorf("first import %s = %d, want %d (%v)", k, counts(first)[k], v, counts(first))
			}
		}
		again := s.runImport(t, sh.caller, s.upload(t, sh.Secret, "retail.csv.gz", gz.Bytes(), map[string]string{"mapping_name": "uci"}))
		if got := counts(again); got["duplicates"] != 5 || got["transactions_created"] != 0 || got["accepted"] != 0 {
			t.Errorf("second import of the same file %v", got)
		}
		found := decode[page[customerJSON]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers?external_type=uci&external_value=17850", sh.Secret, nil, nil))
		if len(found.Data) != 1 {
			t.Fatalf("customer 17850: %+v", found)
		}
		sum := decode[summaryJSON](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+found.Data[0].ID+"/sales_summary", sh.Secret, nil, nil))
		if len(sum.Data) != 1 || sum.Data[0].Purchases != 2 || sum.Data[0].NetSpent.Amount != 6*255+6*339+6*185 {
			t.Errorf("customer 17850 after two imports: %+v", sum)
		}
		list := decode[page[map[string]any]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/imports", sh.Secret, nil, nil))
		if len(list.Data) != 2 || list.Data[0]["id"] != again["id"] {
			t.Errorf("imports list %+v", list.Data)
		}
	})
}

func TestImports_RejectsBadRequests(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		c := s.newTenant(t)
		for _, tc := range []struct {
			name   string
			fields map[string]string
			field  string
		}{
			{"no mapping", nil, "form.mapping"},
			{"unknown saved mapping", map[string]string{"mapping_name": "nope"}, "form.mapping_name"},
			{"mapping not JSON", map[string]string{"mapping": "{"}, "form.mapping"},
			{"unknown kind", map[string]string{"mapping": `{"kind":"orders","fields":{"a":{"column":"a"}}}`}, "form.mapping.kind"},
			{"unknown field", map[string]string{"mapping": `{"kind":"customers","fields":{"email":{"column":"e"},"shoe_size":{"column":"s"}}}`}, "form.mapping.fields.shoe_size"},
			{"transactions without required fields", map[string]string{"mapping": `{"kind":"transactions","fields":{"sku":{"column":"s"}}}`}, "form.mapping.fields.currency"},
			{"bad time zone", map[string]string{"mapping": `{"kind":"customers","time_zone":"Mars/Olympus","fields":{"email":{"column":"e"}}}`}, "form.mapping.time_zone"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := assertProblem(t, s.upload(t, c.Secret, "x.csv", []byte("e\na@b.hk\n"), tc.fields), http.StatusBadRequest)
				found := false
				for _, l := range p.Locations() {
					found = found || l == tc.field
				}
				if !found {
					t.Errorf("fields %v, want %s", p.Locations(), tc.field)
				}
			})
		}
		reader := s.newKey(t, c.TenantID, "imports:read")
		assertProblem(t, s.upload(t, reader.Secret, "x.csv", []byte("e\na@b.hk\n"),
			map[string]string{"mapping": `{"kind":"customers","fields":{"email":{"column":"e"}}}`}), http.StatusForbidden)
		// A file that is not what the mapping says fails the import with the reason; nothing is half-done.
		im := s.runImport(t, c, s.upload(t, c.Secret, "empty.csv", []byte("\n"), map[string]string{"mapping": `{"kind":"customers","fields":{"email":{"column":"e"}}}`}))
		if im["status"] != "failed" || !strings.Contains(im["error"].(string), "header") {
			t.Errorf("import of a file with no header: %v", im)
		}
	})
}

func TestImports_EventsStitchAndApplyOnce(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		sh := s.newShop(t)
		anon, user := fmt.Sprintf("anon-%d", uniq.Add(1)), fmt.Sprintf("user-%d", uniq.Add(1))
		mail := email("clicks")
		file := strings.Join([]string{
			fmt.Sprintf(`{"type":"page","name":"Home","anon":%q,"at":"2026-11-20T10:00:00Z"}`, anon),
			fmt.Sprintf(`{"type":"track","name":"Product Viewed","anon":%q,"at":"2026-11-20T10:01:00Z","props":{"sku":"TEE-M","price":129.9}}`, anon),
			fmt.Sprintf(`{"type":"identify","anon":%q,"user":%q,"at":"2026-11-20T10:05:00Z","traits":{"email":%q,"firstName":"Mei"}}`, anon, user, mail),
			fmt.Sprintf(`{"type":"track","name":"Order Completed","user":%q,"at":"2026-11-20T10:09:00Z","props":{"order_id":"W-%d","currency":"HKD","products":[{"sku":"TEE-M","quantity":1,"price":129.9}]}}`, user, uniq.Add(1)),
			`{"type":"track","name":"Orphan","at":"2026-11-20T10:10:00Z"}`,
			`{"type":"track","name":"Late","anon":"x","at":"yesterday"}`,
		}, "\n") + "\n"
		mapping := `{"kind":"events","format":"jsonl","sales_channel_note":"","fields":{"type":{"column":"type"},"name":{"column":"name"},
			"anonymous_id":{"column":"anon"},"user_id":{"column":"user"},"timestamp":{"column":"at"},"properties":{"column":"props"},
			"traits":{"column":"traits"},"sales_channel":{"value":"web"}}}`
		mapping = strings.ReplaceAll(strings.ReplaceAll(mapping, "\n", ""), `"sales_channel_note":"",`, "")
		first := s.runImport(t, sh.caller, s.upload(t, sh.Secret, "events.jsonl", []byte(file), map[string]string{"mapping": mapping}))
		if got := counts(first); got["rows_read"] != 6 || got["accepted"] != 4 || got["rejected"] != 2 || got["transactions_created"] != 1 {
			rej := s.must(t, http.StatusOK, http.MethodGet, "/v1/imports/"+first["id"].(string)+"/rejections", sh.Secret, nil, nil)
			t.Errorf("first import %v; rejections:\n%s", got, rej.Raw)
		}
		again := s.runImport(t, sh.caller, s.upload(t, sh.Secret, "events.jsonl", []byte(file), map[string]string{"mapping": mapping}))
		if got := counts(again); got["duplicates"] != 4 || got["accepted"] != 0 {
			t.Errorf("the same file again %v", got)
		}
		found := decode[page[customerJSON]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers?email="+mail, sh.Secret, nil, nil))
		if len(found.Data) != 1 {
			t.Fatalf("customer by email: %+v", found)
		}
		evs := decode[page[map[string]any]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+found.Data[0].ID+"/events", sh.Secret, nil, nil))
		if len(evs.Data) != 4 {
			t.Errorf("the known customer has %d events, want the 4 from before and after login", len(evs.Data))
		}
	})
}
