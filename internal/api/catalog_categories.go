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

// CategoryBody is a category as shown.
type CategoryBody struct {
	ID        string            `json:"id" example:"cat_0190f0c2a1b27c3d8e9f0a1b2c3d4e5f"`
	Code      string            `json:"code" example:"shirts"`
	Parent    string            `json:"parent,omitempty" doc:"the parent's code; absent for a top-level category"`
	Names     map[string]string `json:"names"`
	Position  int               `json:"position" doc:"display order among its siblings"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
}

func categoryBody(c catalog.Category) CategoryBody {
	return CategoryBody{ID: id.Format(id.Category, c.ID), Code: c.Code, Parent: c.Parent, Names: nonNilMap(c.Names), Position: c.Position,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

type createCategoryInput struct {
	Body struct {
		Code     string            `json:"code" minLength:"1" maxLength:"64" doc:"never changes: products name categories by it"`
		Parent   string            `json:"parent,omitempty" doc:"the parent's code"`
		Names    map[string]string `json:"names"`
		Position int               `json:"position,omitempty"`
	}
}

type updateCategoryInput struct {
	ID   string `path:"id" doc:"category id, cat_…"`
	Body struct {
		Parent   *string           `json:"parent,omitempty" doc:"the parent's code; empty for top level"`
		Names    map[string]string `json:"names,omitempty" doc:"replaces all names"`
		Position *int              `json:"position,omitempty"`
	}
}

type categoryIDInput struct {
	ID string `path:"id" doc:"category id, cat_…"`
}

type categoryOutput struct{ Body CategoryBody }

type listCategoriesInput struct {
	PageParams
	Parent   string `query:"parent" doc:"only the children of this category code"`
	TopLevel bool   `query:"top_level" doc:"only top-level categories"`
}

type listCategoriesOutput struct{ Body Page[CategoryBody] }

func (s *server) catalogCategoryRoutes() {
	tags := []string{"Catalog"}
	huma.Register(s.api, huma.Operation{OperationID: "create-category", Method: http.MethodPost, Path: "/v1/categories",
		Summary: "Create a category", Tags: tags, DefaultStatus: http.StatusCreated}, s.createCategory)
	huma.Register(s.api, huma.Operation{OperationID: "list-categories", Method: http.MethodGet, Path: "/v1/categories",
		Summary: "List categories", Tags: tags, Description: "In code order."}, s.listCategories)
	huma.Register(s.api, huma.Operation{OperationID: "get-category", Method: http.MethodGet, Path: "/v1/categories/{id}",
		Summary: "Get a category", Tags: tags}, s.getCategory)
	huma.Register(s.api, huma.Operation{OperationID: "update-category", Method: http.MethodPatch, Path: "/v1/categories/{id}",
		Summary: "Rename or move a category", Tags: tags, Description: "A move that would make a cycle is refused."}, s.updateCategory)
	huma.Register(s.api, huma.Operation{OperationID: "delete-category", Method: http.MethodDelete, Path: "/v1/categories/{id}",
		Summary: "Delete an empty category", Tags: tags, DefaultStatus: http.StatusNoContent,
		Description: "Refused (409) while categories or products are in it."}, s.deleteCategory)
}

func (s *server) createCategory(ctx context.Context, in *createCategoryInput) (*categoryOutput, error) {
	p, err := principal(ctx, auth.ScopeCatalogWrite)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	b := in.Body
	c, err := s.db.CreateCategory(ctx, catalog.Category{TenantID: p.TenantID, Code: b.Code, Parent: b.Parent, Names: b.Names, Position: b.Position})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &categoryOutput{Body: categoryBody(c)}, nil
}

func (s *server) listCategories(ctx context.Context, in *listCategoriesInput) (*listCategoriesOutput, error) {
	p, err := principal(ctx, auth.ScopeCatalogRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	after, err := in.after()
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	f := sqldb.CategoryFilter{TenantID: p.TenantID, Limit: in.limit() + 1, After: after}
	if in.Parent != "" || in.TopLevel {
		f.Parent = &in.Parent
	}
	cs, err := s.db.FindCategories(ctx, f)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &listCategoriesOutput{Body: paginate(cs, in.limit(), func(c catalog.Category) string { return c.Code }, categoryBody)}, nil
}

func (s *server) getCategory(ctx context.Context, in *categoryIDInput) (*categoryOutput, error) {
	p, cid, err := principalWithID(ctx, auth.ScopeCatalogRead, id.Category, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	c, err := s.db.FindCategoryByID(ctx, p.TenantID, cid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &categoryOutput{Body: categoryBody(c)}, nil
}

func (s *server) updateCategory(ctx context.Context, in *updateCategoryInput) (*categoryOutput, error) {
	p, cid, err := principalWithID(ctx, auth.ScopeCatalogWrite, id.Category, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	b := in.Body
	c, err := s.db.UpdateCategory(ctx, p.TenantID, cid, func(c *catalog.Category) {
		setIf(&c.Parent, b.Parent)
		setIf(&c.Position, b.Position)
		if b.Names != nil {
			c.Names = b.Names
		}
	})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &categoryOutput{Body: categoryBody(c)}, nil
}

func (s *server) deleteCategory(ctx context.Context, in *categoryIDInput) (*struct{}, error) {
	p, cid, err := principalWithID(ctx, auth.ScopeCatalogWrite, id.Category, in.ID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	if err := s.db.DeleteCategory(ctx, p.TenantID, cid); err != nil {
		return nil, s.problem(ctx, err)
	}
	return nil, nil
}
