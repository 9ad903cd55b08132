package sqldb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/location"
)

// LocationFilter pages through a tenant's locations in code order.
type LocationFilter struct {
	TenantID string
	Type     string // optional
	Limit    int
	After    string // cursor: the last code of the previous page
}

const locationColumns = `tenant_id, id, code, type, names, time_zone, currency, address, latitude, longitude, status, created_at, updated_at`

// CreateLocation stores a new location; a code already in use is a Conflict.
func (db *DB) CreateLocation(ctx context.Context, l location.Location) (location.Location, error) {
	if err := l.Validate("body"); err != nil {
		return l, err
	}
	l.ID, l.CreatedAt = id.New(), db.Now()
	l.UpdatedAt = l.CreatedAt
	defer db.forgetRoutingLocations(l.TenantID)
	names, addr, lat, lng, err := locationJSON(l)
	if err != nil {
		return l, err
	}
	err = db.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO locations (`+locationColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			l.TenantID, l.ID, l.Code, l.Type, names, l.TimeZone, l.Currency, addr, lat, lng, l.Status, l.CreatedAt, l.UpdatedAt)
		return err
	})
	if IsUniqueViolation(err) {
		return l, apperr.New(apperr.Conflict, "a location with code %q exists already", l.Code)
	}
	return l, err
}

func locationJSON(l location.Location) (names, addr string, lat, lng *float64, err error) {
	n, err := json.Marshal(l.Names)
	if err != nil {
		return "", "", nil, nil, err
	}
	a, err := json.Marshal(l.Address)
	if err != nil {
		return "", "", nil, nil, err
	}
	if c := l.Coordinates; c != nil {
		lat, lng = &c.Latitude, &c.Longitude
	}
	return string(n), string(a), lat, lng, nil
}

func scanLocation(r Row) (location.Location, error) {
	var l location.Location
	var names, addr string
	var lat, lng *float64
	if err := r.Scan(&l.TenantID, &l.ID, &l.Code, &l.Type, &names, &l.TimeZone, &l.Currency, &addr, &lat, &lng,
		&l.Status, &l.CreatedAt, &l.UpdatedAt); err != nil {
		return l, err
	}
	if lat != nil && lng != nil {
		l.Coordinates = &location.Coordinates{Latitude: *lat, Longitude: *lng}
	}
	if err := json.Unmarshal([]byte(names), &l.Names); err != nil {
		return l, fmt.Errorf("sqldb: location names: %w", err)
	}
	if err := json.Unmarshal([]byte(addr), &l.Address); err != nil {
		return l, fmt.Errorf("sqldb: location address: %w", err)
	}
	return l, nil
}

// FindLocationByID returns a location of the tenant, or NotFound.
func (db *DB) FindLocationByID(ctx context.Context, tenantID, locationID string) (location.Location, error) {
	return findLocation(ctx, db.Read(), tenantID, "id", locationID)
}

// FindLocationByCode returns a location of the tenant by its code, or NotFound.
func (db *DB) FindLocationByCode(ctx context.Context, tenantID, code string) (location.Location, error) {
	return findLocation(ctx, db.Read(), tenantID, "code", code)
}

func findLocation(ctx context.Context, q Querier, tenantID, by, value string) (location.Location, error) {
	l, err := scanLocation(q.QueryRow(ctx, `SELECT `+locationColumns+` FROM locations WHERE tenant_id = $1 AND `+by+` = $2`, tenantID, value))
	if errors.Is(err, ErrNoRows) {
		if by == "code" {
			return l, apperr.New(apperr.NotFound, "no location with code %q", value)
		}
		return l, apperr.New(apperr.NotFound, "no location with id %s", id.Format(id.Location, value))
	}
	return l, err
}

// FindLocations lists a tenant's locations by code.
func (db *DB) FindLocations(ctx context.Context, f LocationFilter) ([]location.Location, error) {
	query := `SELECT ` + locationColumns + ` FROM locations WHERE tenant_id = $1 AND code > $2`
	args := []any{f.TenantID, f.After, f.Limit}
	if f.Type != "" {
		query += ` AND type = $4`
		args = append(args, f.Type)
	}
	var out []location.Location
	err := queryEach(ctx, db.Read(), query+` ORDER BY code LIMIT $3`, args, func(r Rows) error {
		l, err := scanLocation(r)
		out = append(out, l)
		return err
	})
	return out, err
}

// UpdateLocation applies edit to a location and stores it if it stays valid.
// The code may change (to a free one); ids never do.
func (db *DB) UpdateLocation(ctx context.Context, tenantID, locationID string, edit func(*location.Location)) (location.Location, error) {
	defer db.forgetPlaces(tenantID)
	var l location.Location
	err := db.WriteTx(ctx, func(tx *Tx) error {
		var err error
		if l, err = findLocation(ctx, tx, tenantID, "id", locationID); err != nil {
			return err
		}
		edit(&l)
		l.TenantID, l.ID = tenantID, locationID
		if err := l.Validate("body"); err != nil {
			return err
		}
		l.UpdatedAt = tx.Now()
		names, addr, lat, lng, err := locationJSON(l)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE locations SET code = $3, type = $4, names = $5, time_zone = $6, currency = $7, address = $8,
			latitude = $9, longitude = $10, status = $11, updated_at = $12 WHERE tenant_id = $1 AND id = $2`,
			tenantID, locationID, l.Code, l.Type, names, l.TimeZone, l.Currency, addr, lat, lng, l.Status, l.UpdatedAt)
		if IsUniqueViolation(err) {
			return apperr.New(apperr.Conflict, "a location with code %q exists already", l.Code)
		}
		return err
	})
	return l, err
}

// SalesChannelFilter pages through a tenant's sales channels in code order.
type SalesChannelFilter struct {
	TenantID string
	Limit    int
	After    string
}

const channelColumns = `tenant_id, id, code, type, names, active, created_at, updated_at`

// CreateSalesChannel stores a new sales channel; a code in use is a Conflict.
func (db *DB) CreateSalesChannel(ctx context.Context, c location.SalesChannel) (location.SalesChannel, error) {
	if err := c.Validate("body"); err != nil {
		return c, err
	}
	c.ID, c.CreatedAt = id.New(), db.Now()
	c.UpdatedAt = c.CreatedAt
	names, err := json.Marshal(c.Names)
	if err != nil {
		return c, err
	}
	err = db.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO sales_channels (`+channelColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			c.TenantID, c.ID, c.Code, c.Type, string(names), c.Active, c.CreatedAt, c.UpdatedAt)
		return err
	})
	if IsUniqueViolation(err) {
		return c, apperr.New(apperr.Conflict, "a sales channel with code %q exists already", c.Code)
	}
	return c, err
}

func scanChannel(r Row) (location.SalesChannel, error) {
	var c location.SalesChannel
	var names string
	if err := r.Scan(&c.TenantID, &c.ID, &c.Code, &c.Type, &names, &c.Active, &c.CreatedAt, &c.UpdatedAt); err != nil {
		return c, err
	}
	return c, json.Unmarshal([]byte(names), &c.Names)
}

// FindSalesChannelByID returns a sales channel of the tenant, or NotFound.
func (db *DB) FindSalesChannelByID(ctx context.Context, tenantID, channelID string) (location.SalesChannel, error) {
	return findChannel(ctx, db.Read(), tenantID, "id", channelID)
}

func findChannel(ctx context.Context, q Querier, tenantID, by, value string) (location.SalesChannel, error) {
	c, err := scanChannel(q.QueryRow(ctx, `SELECT `+channelColumns+` FROM sales_channels WHERE tenant_id = $1 AND `+by+` = $2`, tenantID, value))
	if errors.Is(err, ErrNoRows) {
		if by == "code" {
			return c, apperr.New(apperr.NotFound, "no sales channel with code %q", value)
		}
		return c, apperr.New(apperr.NotFound, "no sales channel with id %s", id.Format(id.Channel, value))
	}
	return c, err
}

// FindSalesChannels lists a tenant's sales channels by code.
func (db *DB) FindSalesChannels(ctx context.Context, f SalesChannelFilter) ([]location.SalesChannel, error) {
	var out []location.SalesChannel
	err := queryEach(ctx, db.Read(), `SELECT `+channelColumns+` FROM sales_channels WHERE tenant_id = $1 AND code > $2 ORDER BY code LIMIT $3`,
		[]any{f.TenantID, f.After, f.Limit}, func(r Rows) error {
			c, err := scanChannel(r)
			out = append(out, c)
			return err
		})
	return out, err
}

// UpdateSalesChannel applies edit to a sales channel and stores it if valid.
func (db *DB) UpdateSalesChannel(ctx context.Context, tenantID, channelID string, edit func(*location.SalesChannel)) (location.SalesChannel, error) {
	defer db.forgetPlaces(tenantID)
	var c location.SalesChannel
	err := db.WriteTx(ctx, func(tx *Tx) error {
		var err error
		if c, err = findChannel(ctx, tx, tenantID, "id", channelID); err != nil {
			return err
		}
		edit(&c)
		c.TenantID, c.ID = tenantID, channelID
		if err := c.Validate("body"); err != nil {
			return err
		}
		c.UpdatedAt = tx.Now()
		names, err := json.Marshal(c.Names)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE sales_channels SET code = $3, type = $4, names = $5, active = $6, updated_at = $7
			WHERE tenant_id = $1 AND id = $2`, tenantID, channelID, c.Code, c.Type, string(names), c.Active, c.UpdatedAt)
		if IsUniqueViolation(err) {
			return apperr.New(apperr.Conflict, "a sales channel with code %q exists already", c.Code)
		}
		return err
	})
	return c, err
}
