package api_test

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/sqldb/sqldbtest"
)

// idRoute is how the isolation test calls one /v1 operation that takes an id.
type idRoute struct {
	object string // which of tenant A's objects goes in {id} (or {name}): "customer", "key", …
	body   any    // a valid body, for operations that take one
	// status is what tenant B gets (404 when zero). Names are per tenant:
	// B saving a mapping under A's mapping's name makes its own.
	status int
}

var consentBody = map[string]any{"consents": []map[string]any{{"message_channel": "email", "purpose": "marketing", "status": "granted"}}}

// idRoutes lists every /v1 operation with a path parameter. A new one must be
// added here, or TestIsolation_OtherTenantsObjectsAreNotFound fails.
var idRoutes = map[string]idRoute{
	"GET /v1/customers/{id}":               {object: "customer"},
	"PATCH /v1/customers/{id}":             {object: "customer", body: map[string]any{"traits": map[string]any{"first_name": "Mallory"}}},
	"DELETE /v1/customers/{id}":            {object: "customer"},
	"GET /v1/customers/{id}/audit":         {object: "customer"},
	"GET /v1/customers/{id}/merges":        {object: "customer"},
	"GET /v1/customers/{id}/export":        {object: "customer"},
	"GET /v1/customers/{id}/consents":      {object: "customer"},
	"POST /v1/customers/{id}/consents":     {object: "customer", body: consentBody},
	"POST /v1/customers/{id}/unmerge":      {object: "customer", body: map[string]any{}},
	"GET /v1/customers/{id}/transactions":  {object: "customer"},
	"GET /v1/customers/{id}/sales_summary": {object: "customer"},
	"GET /v1/customers/{id}/timeline":      {object: "customer"},
	"GET /v1/customers/{id}/events":        {object: "customer"},
	"GET /v1/locations/{id}":               {object: "location"},
	"PATCH /v1/locations/{id}":             {object: "location", body: map[string]any{"status": "closed"}},
	"GET /v1/sales_channels/{id}":          {object: "sales_channel"},
	"PATCH /v1/sales_channels/{id}":        {object: "sales_channel", body: map[string]any{"active": false}},
	"GET /v1/transactions/{id}":            {object: "transaction"},
	"GET /v1/imports/{id}":                 {object: "import"},
	"GET /v1/imports/{id}/rejections":      {object: "import"},
	"GET /v1/import_mappings/{name}":       {object: "mapping"},
	"PUT /v1/import_mappings/{name}": {object: "mapping-put", status: http.StatusOK,
		body: map[string]any{"kind": "customers", "fields": map[string]any{"email": map[string]string{"column": "e"}}}},
	"DELETE /v1/sftp_keys/{id}":                   {object: "sftp_key"},
	"GET /v1/customers/{id}/loyalty":              {object: "customer"},
	"GET /v1/customers/{id}/loyalty/entries":      {object: "customer"},
	"POST /v1/customers/{id}/loyalty/adjustments": {object: "customer", body: map[string]any{"points": 100, "reason": "isolation"}},
	"PUT /v1/loyalty/tiers/{id}": {object: "tier",
		body: map[string]any{"code": "member", "name": "Member", "rank": 0, "threshold": 0, "multiplier": 1000}},
	"GET /v1/loyalty/rules/{id}":                         {object: "rule"},
	"GET /v1/loyalty/holds/{id}":                         {object: "hold"},
	"POST /v1/customers/{id}/loyalty/referral_code":      {object: "customer"},
	"GET /v1/customers/{id}/loyalty/referrals":           {object: "customer"},
	"POST /v1/loyalty/holds/{id}/capture":                {object: "hold"},
	"POST /v1/loyalty/holds/{id}/release":                {object: "hold"},
	"GET /v1/loyalty/rules/{id}/versions":                {object: "rule"},
	"PATCH /v1/loyalty/rules/{id}":                       {object: "rule", body: map[string]any{"status": "paused"}},
	"GET /v1/loyalty/rewards/{id}":                       {object: "reward"},
	"PATCH /v1/loyalty/rewards/{id}":                     {object: "reward", body: map[string]any{"status": "paused"}},
	"GET /v1/loyalty/redemptions/{id}":                   {object: "redemption"},
	"POST /v1/loyalty/redemptions/{id}/cancel":           {object: "redemption", body: map[string]any{}},
	"GET /v1/customers/{id}/loyalty/redemptions":         {object: "customer"},
	"GET /v1/coupons/{code}":                             {object: "coupon"},
	"POST /v1/coupons/{code}/redeem":                     {object: "coupon", body: map[string]any{"sales_channel": "pos"}},
	"GET /v1/coupons/{code}/qr.png":                      {object: "coupon"},
	"GET /v1/coupons/{code}/barcode.png":                 {object: "coupon"},
	"GET /v1/coupons/batches/{id}/codes.csv":             {object: "coupon_batch"},
	"GET /v1/keys/{id}":                                  {object: "key"},
	"GET /v1/locations/{id}/capacity":                    {object: "location"},
	"PUT /v1/locations/{id}/capacity":                    {object: "location", body: map[string]any{"daily_capacity": 5}},
	"GET /v1/routing/rules/versions/{version}":           {object: "routing_version"},
	"POST /v1/routing/rules/versions/{version}/activate": {object: "routing_version"},
	"GET /v1/inventory/reservations/{id}":                {object: "reservation"},
	"DELETE /v1/inventory/reservations/{id}":             {object: "reservation"},
	"POST /v1/inventory/reservations/{id}/commit":        {object: "reservation", body: map[string]any{}},
	"GET /v1/carts/{id}":                                 {object: "cart"},
	"PATCH /v1/carts/{id}":                               {object: "cart", body: map[string]any{"email": "iso@omo.hk"}},
	"POST /v1/carts/{id}/complete":                       {object: "cart", body: map[string]any{"payment": map[string]any{"method": "pay_in_store"}}},
	"PUT /v1/carts/{id}/delivery":                        {object: "cart", body: map[string]any{"method": "ship", "address": map[string]any{"country": "HK"}}},
	"POST /v1/carts/{id}/hold":                           {object: "cart", body: map[string]any{}},
	"DELETE /v1/carts/{id}/hold":                         {object: "cart"},
	"POST /v1/carts/{id}/lines":                          {object: "cart", body: map[string]any{"sku": "ISO", "quantity": 1}},
	"PATCH /v1/carts/{id}/lines/{line_id}":               {object: "cart", body: map[string]any{"quantity": 1}},
	"DELETE /v1/carts/{id}/lines/{line_id}":              {object: "cart"},
	"POST /v1/carts/{id}/coupons":                        {object: "cart", body: map[string]any{"code": "ISO"}},
	"DELETE /v1/carts/{id}/coupons/{code}":               {object: "cart"},
	"PUT /v1/carts/{id}/points":                          {object: "cart", body: map[string]any{"points": 0}},
	"PUT /v1/carts/{id}/exchange": {object: "cart", body: map[string]any{"order_id": "ord_0190f0c2a1b27c3d8e9f0a1b2c3d4e5f",
		"lines": []map[string]any{{"line_no": 1, "quantity": 1}}}},
	"DELETE /v1/carts/{id}/exchange":           {object: "cart"},
	"POST /v1/carts/{id}/quote":                {object: "cart"},
	"POST /v1/carts/{id}/share":                {object: "cart"},
	"GET /v1/shared_carts/{token}":             {object: "share_token"},
	"GET /v1/orders/{id}":                      {object: "order"},
	"GET /v1/orders/{id}/events":               {object: "order"},
	"POST /v1/orders/{id}/cancel":              {object: "order", body: map[string]any{}},
	"POST /v1/orders/{id}/returns":             {object: "order", body: map[string]any{"lines": []map[string]any{{"line_no": 1, "quantity": 1}}}},
	"POST /v1/shipments/{id}/status":           {object: "shipment", body: map[string]any{"status": "picking"}},
	"GET /v1/locations/{id}/pick_list":         {object: "location"},
	"GET /v1/products/{id}":                    {object: "product"},
	"PATCH /v1/products/{id}":                  {object: "product", body: map[string]any{"status": "archived"}},
	"DELETE /v1/products/{id}":                 {object: "product"},
	"GET /v1/categories/{id}":                  {object: "category"},
	"PATCH /v1/categories/{id}":                {object: "category", body: map[string]any{"position": 2}},
	"GET /v1/price_lists/{id}":                 {object: "price_list"},
	"PATCH /v1/price_lists/{id}":               {object: "price_list", body: map[string]any{"priority": 2}},
	"GET /v1/price_lists/{id}/prices":          {object: "price_list"},
	"POST /v1/price_lists/{id}/prices":         {object: "price_list", body: map[string]any{"prices": []map[string]any{{"sku": "TEE-M", "amount": 100}}}},
	"DELETE /v1/price_lists/{id}/prices/{sku}": {object: "price_list"},
	// The price route needs ?currency=; without it the answer is a 400
	// before anything is looked up.
	"GET /v1/prices/{sku}":       {object: "sku", status: http.StatusBadRequest},
	"DELETE /v1/categories/{id}": {object: "category"},
	"GET /v1/variants/{sku}":     {object: "sku"},
	"DELETE /v1/keys/{id}":       {object: "key"},
}

// openAPIOperations lists "METHOD /path" of every operation in the served document.
func openAPIOperations(t *testing.T, s *server) []string {
	t.Helper()
	doc := decode[struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}](t, s.must(t, http.StatusOK, http.MethodGet, "/openapi.json", "", nil, nil))
	methods := map[string]bool{"get": true, "put": true, "post": true, "delete": true, "options": true, "head": true, "patch": true, "trace": true}
	var out []string
	for path, item := range doc.Paths {
		for m := range item {
			if methods[m] {
				out = append(out, strings.ToUpper(m)+" "+path)
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestIsolation_OtherTenantsObjectsAreNotFound(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		t.Parallel()
		s := newServer(t, db)
		aShop, b := s.newShop(t), s.newShop(t)
		a := aShop.caller

		// Tenant A has a customer with a merge in force (so that unmerge has
		// something to undo) and a second key.
		aEmail, aPhone := email("isolation"), phone()
		survivor := s.identify(t, a.Secret, http.StatusCreated, ids("email", aEmail))
		merged := s.identify(t, a.Secret, http.StatusCreated, ids("phone", aPhone))
		s.identify(t, a.Secret, http.StatusOK, ids("email", aEmail, "phone", aPhone))
		aKey := s.newKey(t, a.TenantID, "customers:read")
		// Tenant B has objects of its own, so that an empty answer is not
		// merely an empty tenant.
		bEmail := email("other")
		s.identify(t, b.Secret, http.StatusCreated, ids("email", bEmail))

		aSale := decode[transactionJSON](t, s.must(t, http.StatusCreated, http.MethodPost, "/v1/transactions", a.Secret,
			sale("iso-1", ids("email", aEmail)), nil))
		aImport := s.upload(t, a.Secret, "a.csv", []byte("e\n"+aEmail+"\n"), map[string]string{"mapping": `{"kind":"customers","fields":{"email":{"column":"e"}}}`})
		for _, name := range []string{"a-secret-mapping", "a-put-mapping"} {
			s.must(t, http.StatusOK, http.MethodPut, "/v1/import_mappings/"+name, a.Secret,
				map[string]any{"kind": "customers", "fields": map[string]any{"email": map[string]string{"column": "a-column"}}}, nil)
		}
		aSFTPKey := s.must(t, http.StatusCreated, http.MethodPost, "/v1/sftp_keys", a.Secret,
			map[string]any{"public_key": testSSHKey}, nil).JSON["id"].(string)
		aShopWithProgram := s.loyaltyShopFor(t, aShop)
		aTier := s.must(t, http.StatusOK, http.MethodGet, "/v1/loyalty/tiers", a.Secret, nil, nil).JSON["data"].([]any)[0].(map[string]any)["id"].(string)
		aRule := s.rule(t, aShopWithProgram.Secret, map[string]any{"name": "Double", "trigger": "purchase",
			"effect": map[string]any{"kind": "multiplier", "multiplier": 2000}})
		aReward := s.reward(t, aShopWithProgram.Secret, nil)
		s.must(t, http.StatusCreated, http.MethodPost, "/v1/customers/"+survivor.ID+"/loyalty/adjustments", a.Secret,
			map[string]any{"points": 100, "reason": "to hold"}, nil)
		aHold := s.must(t, http.StatusCreated, http.MethodPost, "/v1/loyalty/holds", a.Secret, map[string]any{
			"customer_id": survivor.ID, "points": 50, "currency": "HKD", "reference": "iso-hold"}, nil).JSON["id"].(string)
		aMember := s.member(t, aShopWithProgram, "iso-member", 500)
		aRedemption := s.must(t, http.StatusCreated, http.MethodPost, "/v1/loyalty/redemptions", a.Secret,
			map[string]any{"customer_id": aMember, "reward_id": aReward, "sales_channel": "pos"}, nil)
		aBatch := s.must(t, http.StatusCreated, http.MethodPost, "/v1/coupons/batches", a.Secret, map[string]any{"name": "iso", "count": 1}, nil)
		s.must(t, http.StatusCreated, http.MethodPost, "/v1/inventory/movements", a.Secret, map[string]any{"kind": "receipt", "sku": "ISO",
			"location_id": aShop.LocationID, "quantity": 1}, nil)
		aReservation := s.must(t, http.StatusCreated, http.MethodPost, "/v1/inventory/reservations", a.Secret, map[string]any{"ref": "iso",
			"lines": []map[string]any{{"sku": "ISO", "location_id": aShop.LocationID, "quantity": 1}}}, nil)
		aRouting := s.must(t, http.StatusCreated, http.MethodPost, "/v1/routing/rules/drafts", a.Secret, map[string]any{"rules": routingRules(nil)}, nil)
		aOrder := s.isolationOrder(t, aShop)
		first := func(path string) string {
			return s.must(t, http.StatusOK, http.MethodGet, path, a.Secret, nil, nil).JSON["data"].([]any)[0].(map[string]any)["id"].(string)
		}
		objects := map[string][]string{
			"product":         {first("/v1/products")},
			"category":        {first("/v1/categories")},
			"price_list":      {first("/v1/price_lists")},
			"sku":             {"TEE-M"},
			"cart":            {aOrder.JSON["cart_id"].(string), s.openCart(t, aShop)},
			"share_token":     {s.must(t, http.StatusOK, http.MethodPost, "/v1/carts/"+s.openCart(t, aShop)+"/share", a.Secret, nil, nil).JSON["share_token"].(string)},
			"order":           {aOrder.JSON["id"].(string)},
			"shipment":        {aOrder.JSON["shipments"].([]any)[0].(map[string]any)["id"].(string)},
			"reservation":     {aReservation.JSON["id"].(string)},
			"reward":          {aReward},
			"redemption":      {aRedemption.JSON["id"].(string)},
			"coupon":          {aRedemption.JSON["coupon"].(map[string]any)["code"].(string)},
			"coupon_batch":    {aBatch.JSON["id"].(string)},
			"routing_version": {strconv.Itoa(int(aRouting.JSON["version"].(float64)))},
			"tier":            {aTier},
			"rule":            {aRule},
			"hold":            {aHold},
			"import":          {aImport.JSON["id"].(string)},
			"mapping":         {"a-secret-mapping"},
			"mapping-put":     {"a-put-mapping"},
			"sftp_key":        {aSFTPKey},
			"location":        {aShop.LocationID},
			"sales_channel":   {aShop.ChannelID},
			"transaction":     {aSale.ID},
			"customer":        {survivor.ID, merged.ID, strings.TrimPrefix(survivor.ID, "cus_")},
			"key":             {aKey.PublicKeyID(), a.PublicKeyID(), aKey.KeyID},
		}
		covered := map[string]bool{}
		t.Run("routes", func(t *testing.T) {
			for _, op := range openAPIOperations(t, s) {
				method, path, _ := strings.Cut(op, " ")
				if !strings.HasPrefix(path, "/v1/") || !strings.Contains(path, "{") {
					continue
				}
				route, ok := idRoutes[op]
				if !ok {
					t.Errorf("%s takes an id but has no entry in idRoutes: add one so that tenant isolation is tested", op)
					continue
				}
				covered[op] = true
				if len(objects[route.object]) == 0 {
					t.Errorf("%s: the test has no object %q of tenant A to try", op, route.object)
				}
				t.Run(strings.ReplaceAll(op, "/", "_"), func(t *testing.T) {
					t.Parallel()
					for _, objID := range objects[route.object] {
						p := strings.NewReplacer("{id}", url.PathEscape(objID), "{name}", url.PathEscape(objID), "{code}", url.PathEscape(objID),
							"{version}", url.PathEscape(objID), "{token}", url.PathEscape(objID), "{line_id}", "l1", "{sku}", "TEE-M").Replace(path)
						r := s.do(t, method, p, b.Secret, route.body, nil)
						if route.status != 0 {
							if r.Status != route.status {
								t.Errorf("want %d, got %s", route.status, r)
							}
							continue
						}
						assertProblem(t, r, http.StatusNotFound)
						if strings.Contains(string(r.Raw), aEmail) || strings.Contains(string(r.Raw), aPhone) {
							t.Errorf("%s: leaks tenant A's data", r)
						}
					}
				})
			}
		})
		// B saved a mapping under a name A uses: A's own is untouched.
		if m := s.must(t, http.StatusOK, http.MethodGet, "/v1/import_mappings/a-put-mapping", a.Secret, nil, nil); !strings.Contains(string(m.Raw), "a-column") {
			t.Errorf("tenant B's PUT changed tenant A's mapping: %s", m)
		}
		for op := range idRoutes {
			if !covered[op] {
				t.Errorf("idRoutes has %s, which the OpenAPI document does not list", op)
			}
		}

		t.Run("search", func(t *testing.T) {
			for _, q := range []string{
				"email=" + url.QueryEscape(aEmail),
				"phone=" + url.QueryEscape(aPhone),
				"q=" + url.QueryEscape(aEmail[:8]),
				"q=" + url.QueryEscape(aPhone[:7]),
			} {
				r := s.must(t, http.StatusOK, http.MethodGet, "/v1/customers?"+q, b.Secret, nil, nil)
				if got := decode[page[customerJSON]](t, r); len(got.Data) != 0 {
					t.Errorf("%s: tenant B sees tenant A's customers", r)
				}
			}
			all := decode[page[customerJSON]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers", b.Secret, nil, nil))
			if len(all.Data) != 1 || len(all.Data[0].Identifiers.Emails) != 1 || all.Data[0].Identifiers.Emails[0] != bEmail {
				t.Errorf("tenant B's list = %+v, want only its own customer", all.Data)
			}
			keys := decode[page[struct {
				ID string `json:"id"`
			}]](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/keys", b.Secret, nil, nil))
			if len(keys.Data) != 1 || keys.Data[0].ID != b.PublicKeyID() {
				t.Errorf("tenant B's keys = %+v, want only its own", keys.Data)
			}
		})

		t.Run("merge_id in body", func(t *testing.T) {
			// Tenant B names tenant A's merge while undoing a merge of its own
			// customer: it must fare exactly as with a merge that does not exist.
			aMerges := decode[struct {
				Data []struct {
					ID string `json:"id"`
				} `json:"data"`
			}](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+survivor.ID+"/merges", a.Secret, nil, nil))
			if len(aMerges.Data) != 1 {
				t.Fatalf("tenant A has %d merges, want 1", len(aMerges.Data))
			}
			bEmail2, bPhone := email("other"), phone()
			bc := s.identify(t, b.Secret, http.StatusCreated, ids("email", bEmail2))
			s.identify(t, b.Secret, http.StatusCreated, ids("phone", bPhone))
			s.identify(t, b.Secret, http.StatusOK, ids("email", bEmail2, "phone", bPhone))
			path := "/v1/customers/" + bc.ID + "/unmerge"
			foreign := s.do(t, http.MethodPost, path, b.Secret, map[string]any{"merge_id": aMerges.Data[0].ID}, nil)
			missing := s.do(t, http.MethodPost, path, b.Secret, map[string]any{"merge_id": "mrg_0190f0c2a1b27c3d8e9f0a1b2c3d4e5f"}, nil)
			if foreign.Status < 400 || foreign.Status >= 500 {
				t.Fatalf("tenant A's merge id: %s", foreign)
			}
			assertProblem(t, foreign, missing.Status)
			if strings.Contains(string(foreign.Raw), survivor.ID) || strings.Contains(string(foreign.Raw), strings.TrimPrefix(survivor.ID, "cus_")) {
				t.Errorf("%s: names tenant A's customer", foreign)
			}
		})

		t.Run("untouched", func(t *testing.T) {
			// Tenant A's data survived tenant B's writes.
			got := decode[customerJSON](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+merged.ID, a.Secret, nil, nil))
			if got.ID != survivor.ID || got.ErasedAt != nil || got.Traits["first_name"] != nil || len(got.Consents) != 0 {
				t.Errorf("tenant A's customer changed: %+v", got)
			}
			if len(got.Identifiers.Emails) != 1 || len(got.Identifiers.Phones) != 1 {
				t.Errorf("tenant A's customer lost identifiers: %+v", got.Identifiers)
			}
			merges := decode[struct {
				Data []struct {
					UndoneAt *string `json:"undone_at"`
				} `json:"data"`
			}](t, s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+survivor.ID+"/merges", a.Secret, nil, nil))
			if len(merges.Data) != 1 || merges.Data[0].UndoneAt != nil {
				t.Errorf("tenant A's merge changed: %+v", merges.Data)
			}
			s.must(t, http.StatusOK, http.MethodGet, "/v1/customers/"+survivor.ID, aKey.Secret, nil, nil)
		})
	})
}

// testSSHKey is an SSH public key for tests (its private half is discarded).
const testSSHKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHyQUY6ZbIRhoUXtWVgUTtZcCz0GqJS7oPRgSXnI9ZcO isolation@test"
