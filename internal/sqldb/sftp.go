package sqldb

import (
	"context"
	"errors"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/id"
)

// SFTPHostKey returns the installation's sFTP host key (PEM), creating it
// with make on first use. Every process of an installation shares it, so
// clients see one host.
func (db *DB) SFTPHostKey(ctx context.Context, make func() (string, error)) (string, error) {
	var pem string
	err := db.Read().QueryRow(ctx, `SELECT private_key FROM sftp_host_keys WHERE id = 1`).Scan(&pem)
	if err == nil {
		return pem, nil
	}
	if !errors.Is(err, ErrNoRows) {
		return "", err
	}
	if pem, err = make(); err != nil {
		return "", err
	}
	err = db.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO sftp_host_keys (id, private_key, created_at) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING`,
			pem, tx.Now())
		return err
	})
	if err != nil {
		return "", err
	}
	// Another process may have won the insert: use the stored key.
	err = db.Read().QueryRow(ctx, `SELECT private_key FROM sftp_host_keys WHERE id = 1`).Scan(&pem)
	return pem, err
}

// SFTPKey is an SSH public key a tenant logs in to the sFTP server with.
type SFTPKey struct {
	TenantID    string
	ID          string
	Name        string
	Fingerprint string // SHA256:… as ssh-keygen -l shows it
	PublicKey   string // authorized_keys form
	CreatedAt   time.Time
}

// CreateSFTPKey authorises a public key for a tenant; the same key twice is a Conflict.
func (db *DB) CreateSFTPKey(ctx context.Context, k SFTPKey) (SFTPKey, error) {
	k.ID, k.CreatedAt = id.New(), db.Now()
	err := db.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO sftp_authorized_keys (tenant_id, id, name, fingerprint, public_key, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, k.TenantID, k.ID, k.Name, k.Fingerprint, k.PublicKey, k.CreatedAt)
		return err
	})
	if IsUniqueViolation(err) {
		return k, apperr.New(apperr.Conflict, "this public key (%s) is authorised already", k.Fingerprint)
	}
	return k, err
}

// FindSFTPKeys lists a tenant's authorised keys, oldest first.
func (db *DB) FindSFTPKeys(ctx context.Context, tenantID string) ([]SFTPKey, error) {
	var out []SFTPKey
	err := queryEach(ctx, db.Read(), `SELECT tenant_id, id, name, fingerprint, public_key, created_at FROM sftp_authorized_keys
		WHERE tenant_id = $1 ORDER BY id`, []any{tenantID}, func(r Rows) error {
		var k SFTPKey
		err := r.Scan(&k.TenantID, &k.ID, &k.Name, &k.Fingerprint, &k.PublicKey, &k.CreatedAt)
		out = append(out, k)
		return err
	})
	return out, err
}

// SFTPKeyAuthorized reports whether a tenant has authorised the key with this fingerprint.
func (db *DB) SFTPKeyAuthorized(ctx context.Context, tenantID, fingerprint string) (bool, error) {
	var n int
	err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM sftp_authorized_keys WHERE tenant_id = $1 AND fingerprint = $2`,
		tenantID, fingerprint).Scan(&n)
	return n > 0, err
}

// DeleteSFTPKey removes an authorised key, or reports NotFound.
func (db *DB) DeleteSFTPKey(ctx context.Context, tenantID, keyID string) error {
	return db.WriteTx(ctx, func(tx *Tx) error {
		n, err := tx.Exec(ctx, `DELETE FROM sftp_authorized_keys WHERE tenant_id = $1 AND id = $2`, tenantID, keyID)
		if err == nil && n == 0 {
			return apperr.New(apperr.NotFound, "no sFTP key with id %s", id.Format(id.SFTPKey, keyID))
		}
		return err
	})
}
