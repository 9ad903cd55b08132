package sqldb

import (
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/money"
	"github.com/omo-platform/omo/internal/order"
)

// cartDoc is what a cart row keeps as JSON: one row per cart, so that an
// edit is one read and one conditional write.
type cartDoc struct {
	Email    string          `json:"email,omitempty"`
	Lines    []order.Line    `json:"lines"`
	Coupons  []string        `json:"coupons,omitempty"`
	Points   int64           `json:"points,omitempty"`
	Delivery *order.Delivery `json:"delivery,omitempty"`
	Held     []order.Held    `json:"held,omitempty"`
	Exchange *order.Exchange `json:"exchange,omitempty"`
}

const cartColumns = `id, customer_id, sales_channel_code, currency, location_id, associate_id, doc, share_token, status, version,
	order_id, hold_id, hold_until, created_at, updated_at`

func scanCart(r Row, tenantID string) (order.Cart, error) {
	c := order.Cart{TenantID: tenantID}
	var doc string
	var token *string
	err := r.Scan(&c.ID, &c.CustomerID, &c.SalesChannel, &c.Currency, &c.LocationID, &c.AssociateID, &doc, &token, &c.Status,
		&c.Version, &c.OrderID, &c.HoldID, &c.HoldUntil, &c.CreatedAt, &c.UpdatedAt)
	if errors.Is(err, ErrNoRows) {
		return c, apperr.New(apperr.NotFound, "no such cart")
	}
	if err != nil {
		return c, err
	}
	var d cartDoc
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return c, err
	}
	c.Email, c.Lines, c.Coupons, c.Points, c.Delivery, c.Held, c.Exchange = d.Email, d.Lines, d.Coupons, d.Points, d.Delivery, d.Held, d.Exchange
	if token != nil {
		c.ShareToken = *token
	}
	c.CreatedAt, c.UpdatedAt, c.HoldUntil = c.CreatedAt.UTC(), c.UpdatedAt.UTC(), utcPtr(c.HoldUntil)
	return c, nil
}

func cartDocJSON(c *order.Cart) string {
	b, _ := json.Marshal(cartDoc{Email: c.Email, Lines: c.Lines, Coupons: c.Coupons, Points: c.Points, Delivery: c.Delivery, Held: c.Held, Exchange: c.Exchange})
	return string(b)
}

// FindCart reads a cart.
func (db *DB) FindCart(ctx context.Context, tenantID, cartID string) (order.Cart, error) {
	return scanCart(db.Read().QueryRow(ctx, `SELECT `+cartColumns+` FROM carts WHERE tenant_id = $1 AND id = $2`, tenantID, cartID), tenantID)
}

// FindSharedCart reads the cart an associate shared, by its link's token.
func (db *DB) FindSharedCart(ctx context.Context, tenantID, token string) (order.Cart, error) {
	return scanCart(db.Read().QueryRow(ctx, `SELECT `+cartColumns+` FROM carts WHERE tenant_id = $1 AND share_token = $2`, tenantID, token), tenantID)
}

// NewCart is a cart to create.
type NewCart struct {
	TenantID, CustomerID, Email, SalesChannel, Currency, LocationID, AssociateID string
}

// CreateCart opens a cart. The sales channel, location and customer must
// exist; the currency is the location's when not given.
func (db *DB) CreateCart(ctx context.Context, p NewCart) (order.Cart, error) {
	ch, err := db.channelByCode(ctx, db.Read(), p.TenantID, p.SalesChannel)
	if err != nil {
		return order.Cart{}, apperr.Field("body.sales_channel", "no sales channel with this code", p.SalesChannel)
	}
	c := order.Cart{TenantID: p.TenantID, ID: id.New(), Email: strings.TrimSpace(p.Email), SalesChannel: ch.Code,
		Currency: strings.ToUpper(p.Currency), AssociateID: p.AssociateID, Status: order.CartOpen, Version: 1, Lines: []order.Line{}}
	if p.LocationID != "" {
		loc, err := findLocation(ctx, db.Read(), p.TenantID, "id", p.LocationID)
		if err != nil {
			return c, apperr.Field("body.location_id", "no such location", id.Format(id.Location, p.LocationID))
		}
		c.LocationID = loc.ID
		if c.Currency == "" {
			c.Currency = loc.Currency
		}
	}
	if _, ok := money.NormalizeCurrency(c.Currency); !ok {
		return c, apperr.Field("body.currency", "an ISO 4217 currency (or a location with one)", p.Currency)
	}
	if p.CustomerID != "" {
		prof, err := db.FindCustomerByID(ctx, p.TenantID, p.CustomerID)
		if err != nil {
			return c, apperr.Field("body.customer_id", "no such customer", id.Format(id.Customer, p.CustomerID))
		}
		c.CustomerID = prof.ID
	}
	err = db.WriteTx(ctx, func(tx *Tx) error {
		c.CreatedAt, c.UpdatedAt = tx.Now(), tx.Now()
		_, err := tx.Exec(ctx, `INSERT INTO carts (tenant_id, id, customer_id, sales_channel_code, currency, location_id, associate_id, doc,
			status, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, c.TenantID, c.ID,
			c.CustomerID, c.SalesChannel, c.Currency, c.LocationID, c.AssociateID, cartDocJSON(&c), c.Status, c.Version, c.CreatedAt, c.UpdatedAt)
		return err
	})
	return c, err
}

// EditCart applies edit to an open cart under its row lock and saves it
// with a new version. A completed cart is a Conflict.
func (db *DB) EditCart(ctx context.Context, tenantID, cartID string, edit func(tx *Tx, c *order.Cart) error) (order.Cart, error) {
	var c order.Cart
	err := db.WriteTx(ctx, func(tx *Tx) error {
		var err error
		if c, err = lockCart(ctx, tx, tenantID, cartID); err != nil {
			return err
		}
		if c.Status != order.CartOpen {
			return apperr.New(apperr.Conflict, "the cart is %s (order %s); start a new cart", c.Status, id.Format(id.Order, c.OrderID))
		}
		if err := edit(tx, &c); err != nil {
			return err
		}
		c.Version++
		c.UpdatedAt = tx.Now()
		var token *string
		if c.ShareToken != "" {
			token = &c.ShareToken
		}
		_, err = tx.Exec(ctx, `UPDATE carts SET customer_id = $3, associate_id = $4, doc = $5, share_token = $6, version = $7,
			hold_id = $8, hold_until = $9, updated_at = $10 WHERE tenant_id = $1 AND id = $2`, tenantID, cartID, c.CustomerID,
			c.AssociateID, cartDocJSON(&c), token, c.Version, c.HoldID, c.HoldUntil, c.UpdatedAt)
		return err
	})
	return c, err
}

func lockCart(ctx context.Context, tx *Tx, tenantID, cartID string) (order.Cart, error) {
	q := `SELECT ` + cartColumns + ` FROM carts WHERE tenant_id = $1 AND id = $2`
	if tx.Engine() == Postgres {
		q += ` FOR UPDATE`
	}
	return scanCart(tx.QueryRow(ctx, q, tenantID, cartID), tenantID)
}

// ShareCart gives an open cart a link token (once); the order it becomes
// credits the cart's associate.
func (db *DB) ShareCart(ctx context.Context, tenantID, cartID string) (order.Cart, error) {
	return db.EditCart(ctx, tenantID, cartID, func(_ *Tx, c *order.Cart) error {
		if c.ShareToken == "" {
			b := make([]byte, 18)
			_, _ = crand.Read(b)
			c.ShareToken = base64.RawURLEncoding.EncodeToString(b)
		}
		return nil
	})
}

// HoldCart reserves the cart's items for d (a shopper's short hold, or an
// associate holding a size for a VIP), replacing an earlier hold. Lines are
// held at the cart's store when it has one, else where routing would send
// them.
func (db *DB) HoldCart(ctx context.Context, tenantID, cartID string, d time.Duration) (order.Cart, error) {
	c, err := db.FindCart(ctx, tenantID, cartID)
	if err != nil {
		return c, err
	}
	if len(c.Lines) == 0 {
		return c, apperr.New(apperr.Conflict, "the cart is empty: there is nothing to hold")
	}
	plan, err := db.routeCart(ctx, &c)
	if err != nil {
		return c, err
	}
	return db.EditCart(ctx, tenantID, cartID, func(tx *Tx, e *order.Cart) error {
		if e.Version != c.Version {
			return apperr.New(apperr.Conflict, "the cart changed while its hold was placed; try again")
		}
		if e.HoldID != "" {
			if err := ReleaseReservation(ctx, tx, tenantID, e.HoldID, ""); err != nil {
				return err
			}
		}
		until := tx.Now().Add(d)
		hid, err := ReserveStock(ctx, tx, StockHold{TenantID: tenantID, Ref: "cart:" + cartID, SalesChannel: c.SalesChannel,
			ExpiresAt: until, Reason: "cart hold", Lines: holdLines(plan)})
		if err != nil {
			return err
		}
		e.HoldID, e.HoldUntil = hid, &until
		return nil
	})
}

// ReleaseCartHold gives a cart's held stock back.
func (db *DB) ReleaseCartHold(ctx context.Context, tenantID, cartID string) (order.Cart, error) {
	return db.EditCart(ctx, tenantID, cartID, func(tx *Tx, c *order.Cart) error {
		if c.HoldID == "" {
			return nil
		}
		if err := ReleaseReservation(ctx, tx, tenantID, c.HoldID, ""); err != nil {
			return err
		}
		c.HoldID, c.HoldUntil = "", nil
		return nil
	})
}
