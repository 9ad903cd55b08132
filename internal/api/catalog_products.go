package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/catalog"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/sqldb"
)

// VariantBody is a variant as shown.
type VariantBody struct {
	ID         string            `json:"id" example:"var_0190f0c2a1b27c3d8e9f0a1b2c3d4e5f"`
	SKU        string            `json:"sku" example:"LS-01-WHT-M"`
	Barcode    string            `json:"barcode,omitempty" example:"4006381333931"`
	Options    map[string]string `json:"options" doc:"a value for each of the product's options"`
	Attributes map[string]string `json:"attributes" doc:"the variant's own; they override the product's"`
	Images     []string          `json:"images"`
	Status     string            `json:"status" enum:"draft,active,archived"`
	GiftCard   bool              `json:"gift_card"`
	TaxCode    string            `json:"tax_code,omitempty" doc:"empty: the standard rate"`
	Position   int               `json:"position"`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
}

// ProductBody is a product with its variants as shown.
type ProductBody struct {
	ID           string            `json:"id" example:"prd_0190f0c2a1b27c3d8e9f0a1b2c3d4e5f"`
	Handle       string            `json:"handle,omitempty" example:"LS-01"`
	Status       string            `json:"status" enum:"draft,active,archived"`
	Names        map[string]string `json:"names" doc:"by language tag: en, zh-Hant, zh-Hans, …"`
	Descriptions map[string]string `json:"descriptions"`
	Categories   []string          `json:"categories" doc:"category codes; the first is the primary category"`
	Attributes   map[string]string `json:"attributes"`
	Images       []string          `json:"images"`
	Options      []string          `json:"options" doc:"what the variants differ by, e.g. color, size"`
	Variants     []VariantBody     `json:"variants" doc:"archived ones included"`
	CreatedAt    time.Time         `json:"created_at"`
	UpdatedAt    time.Time         `json:"updated_at"`
}

func variantBody(v catalog.Variant) VariantBody {
	return VariantBody{ID: id.Format(id.Variant, v.ID), SKU: v.SKU, Barcode: v.Barcode, Options: nonNilMap(v.Options),
		Attributes: nonNilMap(v.Attributes), Images: nonNilList(v.Images), Status: v.Status, GiftCard: v.GiftCard, TaxCode: v.TaxCode,
		Position: v.Position, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt}
}

func productBody(p catalog.Product) ProductBody {
	b := ProductBody{ID: id.Format(id.Product, p.ID), Handle: p.Handle, Status: p.Status, Names: nonNilMap(p.Names),
		Descriptions: nonNilMap(p.Descriptions), Categories: nonNilList(p.Categories), Attributes: nonNilMap(p.Attributes),
		Images: nonNilList(p.Images), Options: nonNilList(p.Options), Variants: make([]VariantBody, 0, len(p.Variants)),
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
	for _, v := range p.Variants {
		b.Variants = append(b.Variants, variantBody(v))
	}
	return b
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nonNilList(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// VariantRequest is a variant to create or keep (matched by SKU).
type VariantRequest struct {
	SKU        string            `json:"sku" minLength:"1" maxLength:"64"`
	Barcode    string            `json:"barcode,omitempty" doc:"GTIN-8, -12 (UPC-A), -13 (EAN-13) or -14 with a valid check digit"`
	Options    map[string]string `json:"options,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
	Images     []string          `json:"images,omitempty"`
	Status     string            `json:"status,omitempty" enum:"draft,active,archived" default:"active"`
	GiftCard   bool              `json:"gift_card,omitempty"`
	TaxCode    string            `json:"tax_code,omitempty"`
}

func (v VariantRequest) variant() catalog.Variant {
	return catalog.Variant{SKU: v.SKU, Barcode: v.Barcode, Options: v.Options, Attributes: v.Attributes, Images: v.Images,
		Status: v.Status, GiftCard: v.GiftCard, TaxCode: v.TaxCode}
}

func variantsOf(reqs []VariantRequest) []catalog.Variant {
	out := make([]catalog.Variant, len(reqs))
	for i, r := range reqs {
		out[i] = r.variant()
	}
	return out
}

type createProductInput struct {
	Body struct {
		Handle       string            `json:"handle,omitempty" maxLength:"64" doc:"the brand's own key (style code); unique; imports update products by it"`
		Status       string            `json:"status,omitempty" enum:"draft,active,archived" default:"active"`
		Names        map[string]string `json:"names" doc:"at least one, by language tag"`
		Descriptions map[string]string `json:"descriptions,omitempty"`
		Categories   []string          `json:"categories,omitempty" maxItems:"10"`
		Attributes   map[string]string `json:"attributes,omitempty"`
		Images       []string          `json:"images,omitempty" maxItems:"20"`
		Options      []string          `json:"options,omitempty" maxItems:"3"`
		Variants     []VariantRequest  `json:"variants" minItems:"1" maxItems:"500"`
	}
}

type updateProductInput struct {
	ID   string `path:"id" doc:"product id, prd_…"`
	Body struct {
		Handle       *string           `json:"handle,omitempty" maxLength:"64"`
		Status       *string           `json:"status,omitempty" enum:"draft,active,archived"`
		Names        map[string]string `json:"names,omitempty" doc:"replaces all names"`
		Descriptions map[string]string `json:"descriptions,omitempty" doc:"replaces all descriptions"`
		Categories   *[]string         `json:"categories,omitempty"`
		Attributes   map[string]string `json:"attributes,omitempty" doc:"replaces all attributes"`
		Images       *[]string         `json:"images,omitempty"`
		Options      *[]string         `json:"options,omitempty"`
		Variants     *[]VariantRequest `json:"variants,omitempty" doc:"the full list: variants are matched by SKU (keeping their ids); those left out are archived"`
	}
}

type productIDInput struct {
	ID string `path:"id" doc:"product id, prd_…"`
}

type productOutput struct{ Body ProductBody }

type listProductsInput struct {
	PageParams
	Status   string `query:"status" enum:"draft,active,archived" doc:"only products in this status"`
	Category string `query:"category" doc:"only products in this category (by code; not the ones below it)"`
}

type listProductsOutput struct{ Body Page[ProductBody] }

// VariantLookupBody is a variant found by SKU, with its product.
type VariantLookupBody struct {
	VariantBody
	Product ProductBody `json:"product"`
}

type variantSKUInput struct {
	SKU string `path:"sku" doc:"the SKU (URL-escaped)"`
}

type variantOutput struct{ Body VariantLookupBody }

// catalogRoutes registers the catalog: products and variants, categories,
// price lists and prices, search.
func (s *server) catalogRoutes() {
	s.catalogProductRoutes()
	s.catalogCategoryRoutes()
	s.catalogPriceRoutes()
	s.catalogSearchRoutes()
}

func (s *server) catalogProductRoutes() {
	tags := []string{"Catalog"}
	huma.Register(s.api, huma.Operation{OperationID: "create-product", Method: http.MethodPost, Path: "/v1/products",
		Summary: "Create a product with its variants", Tags: tags, DefaultStatus: http.StatusCreated,
		Description: "SKUs, barcodes and the handle are unique in the tenant; categories must exist."}, s.createProduct)
	huma.Register(s.api, huma.Operation{OperationID: "list-products", Method: http.MethodGet, Path: "/v1/products",
		Summary: "List products", Tags: tags, Description: "Oldest first, with their variants."}, s.listProducts)
	huma.Register(s.api, huma.Operation{OperationID: "get-product", Method: http.MethodGet, Path: "/v1/products/{id}",
		Summary: "Get a product", Tags: tags}, s.getProduct)
	huma.Register(s.api, huma.Operation{OperationID: "update-product", Method: http.MethodPatch, Path: "/v1/products/{id}",
		Summary: "Update a product", Tags: tags, Description: "Changes the fields given; the result must still be valid."}, s.updateProduct)
	huma.Register(s.api, huma.Operation{OperationID: "archive-product", Method: http.MethodDelete, Path: "/v1/products/{id}",
		Summary: "Archive a product", Tags: tags,
		Description: "Products are never deleted: orders and prices name their SKUs. An archived product no longer sells or shows in search."}, s.archiveProduct)
	huma.Register(s.api, huma.Operation{OperationID: "get-variant", Method: http.MethodGet, Path: "/v1/variants/{sku}",
		Summary: "Get a variant by SKU", Tags: tags}, s.getVariant)
}

func (s *server) createProduct(ctx context.Context, in *createProductInput) (*productOutput, error) {
	p, err := principal(ctx, auth.ScopeCatalogWrite)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	b := in.Body
	prod, err := s.db.CreateProduct(ctx, catalog.Product{TenantID: p.TenantID, Handle: b.Handle, Status: b.Status, Names: b.Names,
		Descriptions: b.Descriptions, Categories: b.Categories, Attributes: b.Attributes, Images: b.Images, Options: b.Options,
		Variants: variantsOf(b.Variants)})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &productOutput{Body: productBody(prod)}, nil
}

func (s *server) listProducts(ctx context.Context, in *listProductsInput) (*listProductsOutput, error) {
	p, err := principal(ctx, auth.ScopeCatalogRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	after, err := in.after()
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	ps, err := s.db.FindProducts(ctx, sqldb.ProductFilter{TenantID: p.TenantID, Status: in.Status, Category: in.Category,
		Limit: in.limit() + 1, After: after})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &listProductsOutput{Body: paginate(ps, in.limit(), func(p catalog.Product) string { return p.ID }, productBody)}, nil
}

func (s *server) getProduct(ctx context.Context, in *productIDInput) (*productOutput, error) {
	p, pid, err := principalWithID(ctx, auth.ScopeCatalogRead, id.Product, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	prod, err := s.db.FindProductByID(ctx, p.TenantID, pid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &productOutput{Body: productBody(prod)}, nil
}

func (s *server) updateProduct(ctx context.Context, in *updateProductInput) (*productOutput, error) {
	p, pid, err := principalWithID(ctx, auth.ScopeCatalogWrite, id.Product, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	b := in.Body
	prod, err := s.db.UpdateProduct(ctx, p.TenantID, pid, func(prod *catalog.Product) {
		setIf(&prod.Handle, b.Handle)
		setIf(&prod.Status, b.Status)
		setIf(&prod.Categories, b.Categories)
		setIf(&prod.Images, b.Images)
		setIf(&prod.Options, b.Options)
		if b.Names != nil {
			prod.Names = b.Names
		}
		if b.Descriptions != nil {
			prod.Descriptions = b.Descriptions
		}
		if b.Attributes != nil {
			prod.Attributes = b.Attributes
		}
		if b.Variants != nil {
			prod.Variants = variantsOf(*b.Variants)
		}
	})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &productOutput{Body: productBody(prod)}, nil
}

func (s *server) archiveProduct(ctx context.Context, in *productIDInput) (*productOutput, error) {
	p, pid, err := principalWithID(ctx, auth.ScopeCatalogWrite, id.Product, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	prod, err := s.db.ArchiveProduct(ctx, p.TenantID, pid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &productOutput{Body: productBody(prod)}, nil
}

func (s *server) getVariant(ctx context.Context, in *variantSKUInput) (*variantOutput, error) {
	p, err := principal(ctx, auth.ScopeCatalogRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	prod, i, err := s.db.FindVariantBySKU(ctx, p.TenantID, in.SKU)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &variantOutput{Body: VariantLookupBody{VariantBody: variantBody(prod.Variants[i]), Product: productBody(prod)}}, nil
}
