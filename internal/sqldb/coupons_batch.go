package sqldb

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/coupon"
	"github.com/omo-platform/omo/internal/id"
)

// MaxCouponBatch bounds one batch.
const MaxCouponBatch = 1_000_000

// batchCommit is how many codes one transaction of a batch stores: large
// enough to amortise commits, small enough not to hold SQLite's writer for
// long.
const batchCommit = 20_000

// CouponBatch is a set of codes generated together.
type CouponBatch struct {
	TenantID, ID   string
	Name           string
	RewardID       string
	Prefix         string
	Requested      int64
	Generated      int64
	Status         string // generating, ready
	MaxUses        int64
	PerMemberLimit int64
	ValidFrom      time.Time
	ValidUntil     *time.Time
	Actor          string
	CreatedAt      time.Time
}

// CreateCouponBatch generates Requested distinct codes with
// coupon.GenerateBatch and stores them in transactions of batchCommit
// codes (multi-row INSERTs), then marks the batch ready. A batch cut short
// by a crash stays "generating" with the codes stored so far. Invalid for a
// bad count, prefix or window; NotFound for an unknown reward.
func (db *DB) CreateCouponBatch(ctx context.Context, b CouponBatch) (CouponBatch, error) {
	if err := checkBatch(&b); err != nil {
		return b, err
	}
	if b.RewardID != "" {
		w, err := db.FindRewardByID(ctx, b.TenantID, b.RewardID)
		if err != nil {
			return b, err
		}
		if b.Name == "" {
			b.Name = w.Name
		}
	}
	codes, err := coupon.GenerateBatch(crand.Reader, coupon.Spec{Prefix: b.Prefix}, int(b.Requested), nil)
	if err != nil {
		return b, apperr.Field("body.count", err.Error(), b.Requested)
	}
	b.ID, b.Status, b.CreatedAt = id.New(), "generating", db.Now()
	if b.ValidFrom.IsZero() {
		b.ValidFrom = b.CreatedAt
	}
	if err := db.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO coupon_batches (tenant_id, id, name, reward_id, prefix, requested, generated, status, max_uses,
			per_member_limit, valid_from, valid_until, actor, created_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9, $10, $11, $12, $13)`,
			b.TenantID, b.ID, b.Name, b.RewardID, b.Prefix, b.Requested, b.Status, b.MaxUses, b.PerMemberLimit, b.ValidFrom.UTC(),
			utcPtr(b.ValidUntil), b.Actor, b.CreatedAt)
		return err
	}); err != nil {
		return b, err
	}
	for len(codes) > 0 {
		n := min(len(codes), batchCommit)
		if err := db.storeBatchCodes(ctx, &b, codes[:n]); err != nil {
			return b, err
		}
		codes = codes[n:]
	}
	err = db.WriteTx(ctx, func(tx *Tx) error {
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM coupons WHERE tenant_id = $1 AND batch_id = $2`, b.TenantID, b.ID).Scan(&b.Generated); err != nil {
			return err
		}
		b.Status = "ready"
		_, err := tx.Exec(ctx, `UPDATE coupon_batches SET generated = $3, status = 'ready' WHERE tenant_id = $1 AND id = $2`, b.TenantID, b.ID, b.Generated)
		return err
	})
	return b, err
}

func checkBatch(b *CouponBatch) error {
	var fs []apperr.FieldError
	if b.Requested < 1 || b.Requested > MaxCouponBatch {
		fs = append(fs, apperr.FieldError{Location: "body.count", Message: fmt.Sprintf("1 to %d codes", MaxCouponBatch), Value: b.Requested})
	}
	if b.RewardID == "" && (b.Name == "" || len(b.Name) > 200) {
		fs = append(fs, apperr.FieldError{Location: "body.name", Message: "a name of 1 to 200 characters, or a reward_id", Value: b.Name})
	}
	if b.Prefix != "" {
		if err := (coupon.Spec{Prefix: b.Prefix}).Validate(); err != nil {
			fs = append(fs, apperr.FieldError{Location: "body.prefix", Message: fmt.Sprintf("1 to %d upper-case letters or digits", coupon.MaxPrefixLen), Value: b.Prefix})
		}
	}
	if b.MaxUses == 0 {
		b.MaxUses = 1
	}
	if b.MaxUses < 0 || b.PerMemberLimit < 0 {
		fs = append(fs, apperr.FieldError{Location: "body.max_uses", Message: "1 or more", Value: b.MaxUses})
	}
	if b.ValidUntil != nil && !b.ValidUntil.After(b.ValidFrom) {
		fs = append(fs, apperr.FieldError{Location: "body.valid_until", Message: "after valid_from", Value: b.ValidUntil})
	}
	if len(fs) > 0 {
		return &apperr.Error{Kind: apperr.Invalid, Message: "the batch is not valid", Fields: fs}
	}
	return nil
}

// storeBatchCodes inserts one transaction's worth of codes. A code the
// tenant holds already (vanishingly rare) is skipped; the final count says
// how many were stored.
func (db *DB) storeBatchCodes(ctx context.Context, b *CouponBatch, codes []string) error {
	return db.writeTxAlone(ctx, func(tx *Tx) error {
		rows := make([][]any, 0, len(codes))
		for _, code := range codes {
			rows = append(rows, []any{b.TenantID, id.New(), code, CouponLookup(code), b.RewardID, b.ID, "active", b.MaxUses, b.PerMemberLimit,
				b.ValidFrom.UTC(), utcPtr(b.ValidUntil), b.CreatedAt})
		}
		return insertRows(ctx, tx, "coupons", "tenant_id, id, code, lookup, reward_id, batch_id, status, max_uses, per_member_limit, valid_from, valid_until, created_at",
			rows, " ON CONFLICT (tenant_id, lookup) DO NOTHING")
	})
}

// FindCouponBatch returns a batch, or NotFound.
func (db *DB) FindCouponBatch(ctx context.Context, tenantID, batchID string) (CouponBatch, error) {
	var b CouponBatch
	err := db.Read().QueryRow(ctx, `SELECT tenant_id, id, name, reward_id, prefix, requested, generated, status, max_uses, per_member_limit,
		valid_from, valid_until, actor, created_at FROM coupon_batches WHERE tenant_id = $1 AND id = $2`, tenantID, batchID).Scan(&b.TenantID,
		&b.ID, &b.Name, &b.RewardID, &b.Prefix, &b.Requested, &b.Generated, &b.Status, &b.MaxUses, &b.PerMemberLimit, &b.ValidFrom,
		&b.ValidUntil, &b.Actor, &b.CreatedAt)
	if errors.Is(err, ErrNoRows) {
		return b, apperr.New(apperr.NotFound, "no coupon batch with id %s", id.Format("cpb", batchID))
	}
	b.ValidFrom, b.ValidUntil, b.CreatedAt = b.ValidFrom.UTC(), utcPtr(b.ValidUntil), b.CreatedAt.UTC()
	return b, err
}

// EachBatchCode calls f with every code of a batch in id order, reading in
// pages so that a million codes never sit in memory at once.
func (db *DB) EachBatchCode(ctx context.Context, tenantID, batchID string, f func(Coupon) error) error {
	after := ""
	for {
		n := 0
		err := queryEach(ctx, db.Read(), `SELECT `+couponColumns+` FROM coupons WHERE tenant_id = $1 AND batch_id = $2 AND id > $3
			ORDER BY id LIMIT 10000`, []any{tenantID, batchID, after}, func(r Rows) error {
			var c Coupon
			if err := r.Scan(c.dest()...); err != nil {
				return err
			}
			c.utc()
			n, after = n+1, c.ID
			return f(c)
		})
		if err != nil || n < 10000 {
			return err
		}
	}
}
