package sqldb

import (
	"context"
	"errors"
	"fmt"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/catalog"
	"github.com/omo-platform/omo/internal/id"
)

const categoryColumns = `tenant_id, id, code, parent_code, names, position, created_at, updated_at`

func scanCategory(r Row) (catalog.Category, error) {
	var c catalog.Category
	var names string
	if err := r.Scan(&c.TenantID, &c.ID, &c.Code, &c.Parent, &names, &c.Position, &c.CreatedAt, &c.UpdatedAt); err != nil {
		return c, err
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, decodeJSON("category "+c.ID, []string{names}, &c.Names)
}

// CreateCategory stores a new category under an existing parent (or at the
// top). A code in use is a Conflict.
func (db *DB) CreateCategory(ctx context.Context, c catalog.Category) (catalog.Category, error) {
	if err := c.Validate("body"); err != nil {
		return c, err
	}
	c.ID, c.CreatedAt = id.New(), db.Now()
	c.UpdatedAt = c.CreatedAt
	err := db.WriteTx(ctx, func(tx *Tx) error {
		w, err := beginCatalogWrite(ctx, tx, c.TenantID)
		if err != nil {
			return err
		}
		if err := w.checkParent(ctx, c); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO catalog_categories (`+categoryColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			c.TenantID, c.ID, c.Code, c.Parent, storedMap(c.Names), c.Position, c.CreatedAt, c.UpdatedAt)
		return err
	})
	if IsUniqueViolation(err) {
		return c, apperr.New(apperr.Conflict, "a category with code %q exists already", c.Code)
	}
	return c, err
}

// checkParent refuses a parent that does not exist or would make a cycle.
func (w *catalogWriter) checkParent(ctx context.Context, c catalog.Category) error {
	if c.Parent == "" {
		return nil
	}
	parents, err := w.categoryParents(ctx)
	if err != nil {
		return err
	}
	if _, ok := parents[c.Parent]; !ok {
		return apperr.Field("body.parent", "no category has this code", c.Parent)
	}
	if path, ok := catalog.CheckParent(c.Code, c.Parent, parents); !ok {
		return apperr.Field("body.parent", "would make a cycle: "+path, c.Parent)
	}
	return nil
}

// FindCategoryByID returns a category, or NotFound.
func (db *DB) FindCategoryByID(ctx context.Context, tenantID, categoryID string) (catalog.Category, error) {
	return findCategory(ctx, db.Read(), tenantID, categoryID)
}

func findCategory(ctx context.Context, q Querier, tenantID, categoryID string) (catalog.Category, error) {
	c, err := scanCategory(q.QueryRow(ctx, `SELECT `+categoryColumns+` FROM catalog_categories WHERE tenant_id = $1 AND id = $2`, tenantID, categoryID))
	if errors.Is(err, ErrNoRows) {
		return c, apperr.New(apperr.NotFound, "no category with id %s", id.Format(id.Category, categoryID))
	}
	return c, err
}

// CategoryFilter pages through a tenant's categories by code.
type CategoryFilter struct {
	TenantID string
	Parent   *string // only the children of this code ("" for top-level ones)
	Limit    int
	After    string // the last code of the previous page
}

// FindCategories lists categories by code.
func (db *DB) FindCategories(ctx context.Context, f CategoryFilter) ([]catalog.Category, error) {
	query := `SELECT ` + categoryColumns + ` FROM catalog_categories WHERE tenant_id = $1 AND code > $2`
	args := []any{f.TenantID, f.After, f.Limit}
	if f.Parent != nil {
		args = append(args, *f.Parent)
		query += fmt.Sprintf(` AND parent_code = $%d`, len(args))
	}
	var out []catalog.Category
	err := queryEach(ctx, db.Read(), query+` ORDER BY code LIMIT $3`, args, func(r Rows) error {
		c, err := scanCategory(r)
		out = append(out, c)
		return err
	})
	return out, err
}

// UpdateCategory applies edit (names, parent, position; the code never
// changes: products name categories by it).
func (db *DB) UpdateCategory(ctx context.Context, tenantID, categoryID string, edit func(*catalog.Category)) (catalog.Category, error) {
	var c catalog.Category
	err := db.WriteTx(ctx, func(tx *Tx) error {
		old, err := findCategory(ctx, tx, tenantID, categoryID)
		if err != nil {
			return err
		}
		c = old
		edit(&c)
		c.ID, c.TenantID, c.Code, c.CreatedAt, c.UpdatedAt = old.ID, old.TenantID, old.Code, old.CreatedAt, tx.Now()
		if err := c.Validate("body"); err != nil {
			return err
		}
		w, err := beginCatalogWrite(ctx, tx, tenantID)
		if err != nil {
			return err
		}
		if err := w.checkParent(ctx, c); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE catalog_categories SET parent_code = $3, names = $4, position = $5, updated_at = $6
			WHERE tenant_id = $1 AND id = $2`, tenantID, categoryID, c.Parent, storedMap(c.Names), c.Position, c.UpdatedAt)
		return err
	})
	return c, err
}

// DeleteCategory removes a category that has no children and no products;
// otherwise Conflict.
func (db *DB) DeleteCategory(ctx context.Context, tenantID, categoryID string) error {
	return db.WriteTx(ctx, func(tx *Tx) error {
		c, err := findCategory(ctx, tx, tenantID, categoryID)
		if err != nil {
			return err
		}
		var children, products int
		if err := tx.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM catalog_categories WHERE tenant_id = $1 AND parent_code = $2),
			(SELECT COUNT(*) FROM catalog_product_categories WHERE tenant_id = $1 AND category_code = $2)`, tenantID, c.Code).Scan(&children, &products); err != nil {
			return err
		}
		if children > 0 || products > 0 {
			return apperr.New(apperr.Conflict, "category %s has %d categories and %d products under it; move them first", c.Code, children, products)
		}
		if _, err := beginCatalogWrite(ctx, tx, tenantID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM catalog_categories WHERE tenant_id = $1 AND id = $2`, tenantID, categoryID)
		return err
	})
}
