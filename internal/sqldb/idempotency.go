package sqldb

import (
	"context"
	"fmt"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
)

// IdempotencyTTL is how long a stored response is replayed.
const IdempotencyTTL = 7 * 24 * time.Hour

// idempotencyLock is how long a request may hold its key before another
// attempt may take it over (a crashed process never releases its lock).
const idempotencyLock = 2 * time.Minute

// IdempotentRequest identifies one request made under an Idempotency-Key.
type IdempotentRequest struct {
	TenantID string
	Key      string
	Hash     string // of method, path and body
	Method   string
	Path     string
}

// StoredResponse is a response recorded for replay.
type StoredResponse struct {
	Status      int
	Body        []byte
	ContentType string
}

// BeginIdempotent claims a key for a request. It returns the stored response
// when the same request already completed; Conflict while the first attempt is
// in flight; Invalid (422) when the key was used for a different request.
func (db *DB) BeginIdempotent(ctx context.Context, r IdempotentRequest) (*StoredResponse, error) {
	var stored *StoredResponse
	err := db.WriteTx(ctx, func(tx *Tx) error {
		var err error
		stored, err = beginIdempotent(ctx, tx, r)
		return err
	})
	return stored, err
}

func beginIdempotent(ctx context.Context, tx *Tx, r IdempotentRequest) (*StoredResponse, error) {
	now := tx.Now()
	var hash string
	var status *int
	var body []byte
	var ctype *string
	var lockedUntil *time.Time
	var expiresAt time.Time
	err := tx.QueryRow(ctx, `SELECT request_hash, status_code, response_body, content_type, locked_until, expires_at
		FROM idempotency_keys WHERE tenant_id = $1 AND key = $2`, r.TenantID, r.Key).
		Scan(&hash, &status, &body, &ctype, &lockedUntil, &expiresAt)
	switch {
	case err == ErrNoRows || err == nil && expiresAt.Before(now):
		_, err = tx.Exec(ctx, `INSERT INTO idempotency_keys (tenant_id, key, request_hash, method, path, locked_until, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id, key) DO UPDATE SET request_hash = $3, method = $4,
			path = $5, locked_until = $6, created_at = $7, expires_at = $8, status_code = NULL, response_body = NULL, customer_id = NULL`,
			r.TenantID, r.Key, r.Hash, r.Method, r.Path, now.Add(idempotencyLock), now, now.Add(IdempotencyTTL))
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("sqldb: idempotency: %w", err)
	case hash != r.Hash:
		return nil, apperr.New(apperr.Invalid, "Idempotency-Key %q was already used for a different request; use a new key", r.Key)
	case status != nil:
		return &StoredResponse{Status: *status, Body: body, ContentType: deref(ctype)}, nil
	case lockedUntil != nil && lockedUntil.After(now):
		return nil, apperr.New(apperr.Conflict, "a request with Idempotency-Key %q is still in progress; retry later", r.Key)
	}
	// The first attempt died without an answer: this one takes over.
	_, err = tx.Exec(ctx, `UPDATE idempotency_keys SET locked_until = $3 WHERE tenant_id = $1 AND key = $2`,
		r.TenantID, r.Key, now.Add(idempotencyLock))
	return nil, err
}

// FinishIdempotent stores the response for replay. A server error is not
// stored: the key is released so that a retry runs the request again.
func (db *DB) FinishIdempotent(ctx context.Context, r IdempotentRequest, resp StoredResponse, customerID string) error {
	return db.WriteTx(ctx, func(tx *Tx) error {
		if resp.Status >= 500 {
			_, err := tx.Exec(ctx, `DELETE FROM idempotency_keys WHERE tenant_id = $1 AND key = $2 AND status_code IS NULL`, r.TenantID, r.Key)
			return err
		}
		var cid *string
		if customerID != "" {
			cid = &customerID
		}
		_, err := tx.Exec(ctx, `UPDATE idempotency_keys SET status_code = $3, response_body = $4, content_type = $5, customer_id = $6,
			locked_until = NULL WHERE tenant_id = $1 AND key = $2`, r.TenantID, r.Key, resp.Status, resp.Body, resp.ContentType, cid)
		return err
	})
}

// DeleteExpiredIdempotencyKeys removes records past their replay window and
// returns how many it removed.
func (db *DB) DeleteExpiredIdempotencyKeys(ctx context.Context) (int64, error) {
	var n int64
	err := db.WriteTx(ctx, func(tx *Tx) error {
		var err error
		n, err = tx.Exec(ctx, `DELETE FROM idempotency_keys WHERE expires_at < $1`, tx.Now())
		return err
	})
	return n, err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
