package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/catalog"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/money"
	"github.com/omo-platform/omo/internal/sqldb"
)

// PriceListBody is a price list as shown.
type PriceListBody struct {
	ID            string     `json:"id" example:"prl_0190f0c2a1b27c3d8e9f0a1b2c3d4e5f"`
	Code          string     `json:"code" example:"gold-hkd"`
	Name          string     `json:"name"`
	Currency      string     `json:"currency" example:"HKD"`
	SalesChannels []string   `json:"sales_channels" doc:"sales channel codes; empty: every sales channel"`
	Tiers         []string   `json:"tiers" doc:"loyalty tier codes; empty: every buyer"`
	StartsAt      *time.Time `json:"starts_at"`
	EndsAt        *time.Time `json:"ends_at" doc:"exclusive"`
	Priority      int        `json:"priority" doc:"higher wins among the lists that apply to a buyer"`
	TaxInclusive  bool       `json:"tax_inclusive"`
	Status        string     `json:"status" enum:"active,inactive"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

func priceListBody(l catalog.PriceList) PriceListBody {
	return PriceListBody{ID: id.Format(id.PriceList, l.ID), Code: l.Code, Name: l.Name, Currency: l.Currency,
		SalesChannels: nonNilList(l.SalesChannels), Tiers: nonNilList(l.Tiers), StartsAt: l.StartsAt, EndsAt: l.EndsAt,
		Priority: l.Priority, TaxInclusive: l.TaxInclusive, Status: l.Status, CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt}
}

type createPriceListInput struct {
	Body struct {
		Code          string     `json:"code" minLength:"1" maxLength:"64"`
		Name          string     `json:"name" minLength:"1" maxLength:"120"`
		Currency      string     `json:"currency" doc:"ISO 4217; never changes"`
		SalesChannels []string   `json:"sales_channels,omitempty" doc:"sales channel codes; none: every sales channel"`
		Tiers         []string   `json:"tiers,omitempty" doc:"loyalty tier codes: a member-tier list follows each buyer's current tier; none: every buyer"`
		StartsAt      *time.Time `json:"starts_at,omitempty"`
		EndsAt        *time.Time `json:"ends_at,omitempty"`
		Priority      int        `json:"priority,omitempty"`
		TaxInclusive  bool       `json:"tax_inclusive,omitempty"`
		Status        string     `json:"status,omitempty" enum:"active,inactive" default:"active"`
	}
}

type updatePriceListInput struct {
	ID   string `path:"id" doc:"price list id, prl_…"`
	Body struct {
		Code          *string    `json:"code,omitempty" maxLength:"64"`
		Name          *string    `json:"name,omitempty" maxLength:"120"`
		SalesChannels *[]string  `json:"sales_channels,omitempty"`
		Tiers         *[]string  `json:"tiers,omitempty"`
		StartsAt      *time.Time `json:"starts_at,omitempty"`
		EndsAt        *time.Time `json:"ends_at,omitempty"`
		Unschedule    bool       `json:"unschedule,omitempty" doc:"clear starts_at and ends_at"`
		Priority      *int       `json:"priority,omitempty"`
		TaxInclusive  *bool      `json:"tax_inclusive,omitempty"`
		Status        *string    `json:"status,omitempty" enum:"active,inactive"`
	}
}

type priceListIDInput struct {
	ID string `path:"id" doc:"price list id, prl_…"`
}

type priceListOutput struct{ Body PriceListBody }

type listPriceListsInput struct {
	PageParams
	Currency string `query:"currency" doc:"only lists in this currency"`
}

type listPriceListsOutput struct{ Body Page[PriceListBody] }

// PriceEntry is one SKU's price in a list.
type PriceEntry struct {
	SKU       string     `json:"sku" minLength:"1" maxLength:"64"`
	Amount    int64      `json:"amount" minimum:"0" doc:"minor units of the list's currency"`
	CompareAt int64      `json:"compare_at,omitempty" minimum:"0" doc:"the struck-through \"was\" price; 0 or absent for none"`
	UpdatedAt *time.Time `json:"updated_at,omitempty" readOnly:"true"`
}

type setPricesInput struct {
	ID   string `path:"id" doc:"price list id, prl_…"`
	Body struct {
		Prices []PriceEntry `json:"prices" minItems:"1" maxItems:"1000"`
	}
}

type setPricesOutput struct {
	Body struct {
		Upserted int `json:"upserted" doc:"prices created or replaced"`
	}
}

type listPricesInput struct {
	PageParams
	ID string `path:"id" doc:"price list id, prl_…"`
}

type listPricesOutput struct{ Body Page[PriceEntry] }

type deletePriceInput struct {
	ID  string `path:"id" doc:"price list id, prl_…"`
	SKU string `path:"sku"`
}

func (s *server) catalogPriceRoutes() {
	tags := []string{"Prices"}
	huma.Register(s.api, huma.Operation{OperationID: "create-price-list", Method: http.MethodPost, Path: "/v1/price_lists",
		Summary: "Create a price list", Tags: tags, DefaultStatus: http.StatusCreated,
		Description: "A list applies to buyers in its sales channels (none: all), of its loyalty tiers (none: all), between starts_at and ends_at. " +
			"Among the lists that apply, the highest priority wins; then the more specific list (tiers, then sales channels, then a schedule); then the lower price."},
		s.createPriceList)
	huma.Register(s.api, huma.Operation{OperationID: "list-price-lists", Method: http.MethodGet, Path: "/v1/price_lists",
		Summary: "List price lists", Tags: tags, Description: "In code order."}, s.listPriceLists)
	huma.Register(s.api, huma.Operation{OperationID: "get-price-list", Method: http.MethodGet, Path: "/v1/price_lists/{id}",
		Summary: "Get a price list", Tags: tags}, s.getPriceList)
	huma.Register(s.api, huma.Operation{OperationID: "update-price-list", Method: http.MethodPatch, Path: "/v1/price_lists/{id}",
		Summary: "Update a price list", Tags: tags}, s.updatePriceList)
	huma.Register(s.api, huma.Operation{OperationID: "set-prices", Method: http.MethodPost, Path: "/v1/price_lists/{id}/prices",
		Summary: "Create or replace prices (bulk)", Tags: tags,
		Description: "Up to 1,000 prices, all or none. Every SKU must be a variant of the catalog."}, s.setPrices)
	huma.Register(s.api, huma.Operation{OperationID: "list-prices", Method: http.MethodGet, Path: "/v1/price_lists/{id}/prices",
		Summary: "List a price list's prices", Tags: tags, Description: "In SKU order."}, s.listPrices)
	huma.Register(s.api, huma.Operation{OperationID: "delete-price", Method: http.MethodDelete, Path: "/v1/price_lists/{id}/prices/{sku}",
		Summary: "Remove a SKU's price from a list", Tags: tags, DefaultStatus: http.StatusNoContent}, s.deletePrice)
	huma.Register(s.api, huma.Operation{OperationID: "get-price", Method: http.MethodGet, Path: "/v1/prices/{sku}",
		Summary: "What a buyer pays for a SKU, and why", Tags: tags,
		Description: "Resolves the price lists that apply to the buyer now (or at): sales channel, currency, schedule, and the customer's " +
			"current loyalty tier (a tier change changes the price at once). The answer names the list that won and what it beat."}, s.getPrice)
}

func (s *server) createPriceList(ctx context.Context, in *createPriceListInput) (*priceListOutput, error) {
	p, err := principal(ctx, auth.ScopeCatalogWrite)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	b := in.Body
	l, err := s.db.CreatePriceList(ctx, catalog.PriceList{TenantID: p.TenantID, Code: b.Code, Name: b.Name, Currency: b.Currency,
		SalesChannels: b.SalesChannels, Tiers: b.Tiers, StartsAt: b.StartsAt, EndsAt: b.EndsAt, Priority: b.Priority,
		TaxInclusive: b.TaxInclusive, Status: b.Status})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &priceListOutput{Body: priceListBody(l)}, nil
}

func (s *server) listPriceLists(ctx context.Context, in *listPriceListsInput) (*listPriceListsOutput, error) {
	p, err := principal(ctx, auth.ScopeCatalogRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	after, err := in.after()
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	cur, _ := money.NormalizeCurrency(in.Currency)
	ls, err := s.db.FindPriceLists(ctx, sqldb.PriceListFilter{TenantID: p.TenantID, Currency: cur, Limit: in.limit() + 1, After: after})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &listPriceListsOutput{Body: paginate(ls, in.limit(), func(l catalog.PriceList) string { return l.Code }, priceListBody)}, nil
}

func (s *server) getPriceList(ctx context.Context, in *priceListIDInput) (*priceListOutput, error) {
	p, lid, err := principalWithID(ctx, auth.ScopeCatalogRead, id.PriceList, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	l, err := s.db.FindPriceListByID(ctx, p.TenantID, lid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &priceListOutput{Body: priceListBody(l)}, nil
}

func (s *server) updatePriceList(ctx context.Context, in *updatePriceListInput) (*priceListOutput, error) {
	p, lid, err := principalWithID(ctx, auth.ScopeCatalogWrite, id.PriceList, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	b := in.Body
	l, err := s.db.UpdatePriceList(ctx, p.TenantID, lid, func(l *catalog.PriceList) {
		setIf(&l.Code, b.Code)
		setIf(&l.Name, b.Name)
		setIf(&l.SalesChannels, b.SalesChannels)
		setIf(&l.Tiers, b.Tiers)
		setIf(&l.Priority, b.Priority)
		setIf(&l.TaxInclusive, b.TaxInclusive)
		setIf(&l.Status, b.Status)
		if b.Unschedule {
			l.StartsAt, l.EndsAt = nil, nil
		}
		if b.StartsAt != nil {
			l.StartsAt = b.StartsAt
		}
		if b.EndsAt != nil {
			l.EndsAt = b.EndsAt
		}
	})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &priceListOutput{Body: priceListBody(l)}, nil
}

func (s *server) setPrices(ctx context.Context, in *setPricesInput) (*setPricesOutput, error) {
	p, lid, err := principalWithID(ctx, auth.ScopeCatalogWrite, id.PriceList, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	prices := make([]catalog.Price, len(in.Body.Prices))
	for i, e := range in.Body.Prices {
		prices[i] = catalog.Price{SKU: e.SKU, Amount: e.Amount, CompareAt: e.CompareAt}
	}
	n, err := s.db.SetPrices(ctx, p.TenantID, lid, prices)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &setPricesOutput{}
	out.Body.Upserted = n
	return out, nil
}

func (s *server) listPrices(ctx context.Context, in *listPricesInput) (*listPricesOutput, error) {
	p, lid, err := principalWithID(ctx, auth.ScopeCatalogRead, id.PriceList, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	after, err := in.after()
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	ps, err := s.db.FindPrices(ctx, sqldb.PriceFilter{TenantID: p.TenantID, ListID: lid, Limit: in.limit() + 1, After: after})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &listPricesOutput{Body: paginate(ps, in.limit(), func(p catalog.Price) string { return p.SKU }, func(p catalog.Price) PriceEntry {
		at := p.UpdatedAt
		return PriceEntry{SKU: p.SKU, Amount: p.Amount, CompareAt: p.CompareAt, UpdatedAt: &at}
	})}, nil
}

func (s *server) deletePrice(ctx context.Context, in *deletePriceInput) (*struct{}, error) {
	p, lid, err := principalWithID(ctx, auth.ScopeCatalogWrite, id.PriceList, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	if _, err := s.db.FindPriceListByID(ctx, p.TenantID, lid); err != nil {
		return nil, s.problem(ctx, err)
	}
	if err := s.db.DeletePrice(ctx, p.TenantID, lid, in.SKU); err != nil {
		return nil, s.problem(ctx, err)
	}
	return nil, nil
}

type getPriceInput struct {
	SKU          string    `path:"sku"`
	Currency     string    `query:"currency" required:"true" doc:"ISO 4217" example:"HKD"`
	SalesChannel string    `query:"sales_channel" doc:"sales channel code; absent: only lists for every sales channel"`
	CustomerID   string    `query:"customer_id" doc:"cus_…: member-tier lists follow this customer's current tier; absent for a guest"`
	At           time.Time `query:"at" doc:"RFC 3339; default now"`
}

// ResolvedPriceBody is what a buyer pays for a SKU and the rule that won.
type ResolvedPriceBody struct {
	SKU          string        `json:"sku"`
	VariantID    string        `json:"variant_id"`
	ProductID    string        `json:"product_id"`
	Name         string        `json:"name" doc:"in English, or the first name the product has"`
	Category     string        `json:"category,omitempty" doc:"the primary category code"`
	GiftCard     bool          `json:"gift_card"`
	TaxCode      string        `json:"tax_code,omitempty"`
	Price        money.Amount  `json:"price"`
	CompareAt    *money.Amount `json:"compare_at" doc:"the struck-through price; null for none"`
	TaxInclusive bool          `json:"tax_inclusive"`
	PriceList    struct {
		ID   string `json:"id"`
		Code string `json:"code"`
	} `json:"price_list"`
	Rule string `json:"rule" doc:"why this list won and what it beat"`
}

type resolvedPriceOutput struct{ Body ResolvedPriceBody }

func (s *server) getPrice(ctx context.Context, in *getPriceInput) (*resolvedPriceOutput, error) {
	p, err := principal(ctx, auth.ScopeCatalogRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	q, err := priceQuery(p.TenantID, in)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	prices, err := s.db.PriceSKUs(ctx, s.db.Read(), q)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	sp, ok := prices[in.SKU]
	if !ok {
		return nil, s.problem(ctx, s.whyNoPrice(ctx, p.TenantID, in.SKU, q.Currency))
	}
	b := ResolvedPriceBody{SKU: sp.SKU, VariantID: id.Format(id.Variant, sp.VariantID), ProductID: id.Format(id.Product, sp.ProductID),
		Name: sp.Name, Category: sp.Category, GiftCard: sp.GiftCard, TaxCode: sp.TaxCode,
		Price: money.Amount{Amount: sp.Amount, Currency: sp.Currency}, TaxInclusive: sp.TaxInclusive, Rule: sp.Rule}
	if sp.CompareAt > 0 {
		b.CompareAt = &money.Amount{Amount: sp.CompareAt, Currency: sp.Currency}
	}
	b.PriceList.ID, b.PriceList.Code = id.Format(id.PriceList, sp.PriceListID), sp.PriceListCode
	return &resolvedPriceOutput{Body: b}, nil
}

func priceQuery(tenantID string, in *getPriceInput) (sqldb.PriceQuery, error) {
	cur, ok := money.NormalizeCurrency(in.Currency)
	if !ok {
		return sqldb.PriceQuery{}, apperr.Field("query.currency", "an ISO 4217 code such as HKD", in.Currency)
	}
	q := sqldb.PriceQuery{TenantID: tenantID, SalesChannel: in.SalesChannel, Currency: cur, At: in.At, SKUs: []string{in.SKU}}
	if in.CustomerID != "" {
		cid, err := id.Parse(id.Customer, in.CustomerID)
		if err != nil {
			return q, apperr.Field("query.customer_id", "not a customer id (cus_…)", in.CustomerID)
		}
		q.CustomerID = cid
	}
	return q, nil
}

// whyNoPrice words the 404 of a SKU without a price: unknown, not for
// sale, or no list prices it for this buyer.
func (s *server) whyNoPrice(ctx context.Context, tenantID, sku, currency string) error {
	prod, i, err := s.db.FindVariantBySKU(ctx, tenantID, sku)
	if err != nil {
		return err
	}
	if st := catalog.EffectiveStatus(prod.Status, prod.Variants[i].Status); st != catalog.StatusActive {
		return apperr.New(apperr.NotFound, "SKU %q is %s: it has no price until it is active", sku, st)
	}
	return apperr.New(apperr.NotFound, "no %s price list that applies to this buyer prices SKU %q", currency, sku)
}
