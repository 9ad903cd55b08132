package sqldb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/loyalty"
)

// cachedAccount says whether an account keeps a cached balance. Member
// accounts and rule budgets do: they are read on every sale and must never
// go below zero. The program's own accounts (issued, redeemed, expired, …)
// do not: every sale of a tenant would otherwise update one row, and on
// PostgreSQL all of them would queue on its lock. Their balances are sums of
// postings, computed when a report asks.
func cachedAccount(kind string) bool {
	switch kind {
	case loyalty.AccountAvailable, loyalty.AccountPending, loyalty.AccountOwed, loyalty.AccountHeld, loyalty.AccountBudget:
		return true
	}
	return false
}

// postEntry writes a journal entry: the entry, its postings, and the cached
// balances of its accounts. The postings must balance. A second entry with
// the same natural key fails with a unique violation; callers that may
// repeat a fact look for the key first (entryByKey).
func postEntry(ctx context.Context, tx *Tx, e loyalty.Entry) (string, error) {
	if !loyalty.Balanced(e.Postings) {
		return "", fmt.Errorf("sqldb: loyalty entry %s does not balance: %+v", e.NaturalKey, e.Postings)
	}
	if e.ID == "" {
		e.ID = id.New()
	}
	details := ""
	if len(e.Awards) > 0 {
		raw, err := json.Marshal(e.Awards)
		if err != nil {
			return "", err
		}
		details = string(raw)
	}
	if err := tx.ExecLater(ctx, `INSERT INTO loyalty_entries (tenant_id, id, kind, customer_id, natural_key, transaction_id,
		reason, actor, details, occurred_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		e.TenantID, e.ID, e.Kind, e.CustomerID, e.NaturalKey, nullable(e.TransactionID), e.Reason, e.Actor, details,
		e.OccurredAt.UTC(), tx.Now()); err != nil {
		return "", err
	}
	rows := make([][]any, 0, len(e.Postings))
	for i, p := range e.Postings {
		rows = append(rows, []any{e.TenantID, e.ID, i + 1, p.Account.Kind, p.Account.Owner, p.Points})
		if err := addToAccount(ctx, tx, e.TenantID, p); err != nil {
			return "", err
		}
	}
	return e.ID, insertRows(ctx, tx, "loyalty_postings", "tenant_id, entry_id, seq, account_kind, account_owner, points", rows, "")
}

func addToAccount(ctx context.Context, tx *Tx, tenantID string, p loyalty.Posting) error {
	if !cachedAccount(p.Account.Kind) || p.Points == 0 {
		return nil
	}
	// A debit is an UPDATE: an upsert's CHECK runs on the row it would
	// insert, which for a debit is negative even when the account is not.
	if p.Points < 0 && p.Account.Kind != loyalty.AccountOwed {
		n, err := tx.Exec(ctx, `UPDATE loyalty_accounts SET balance = balance + $4 WHERE tenant_id = $1 AND kind = $2 AND owner = $3`,
			tenantID, p.Account.Kind, p.Account.Owner, p.Points)
		if isCheckViolation(err) || (err == nil && n == 0) {
			return apperr.New(apperr.Conflict, "the %s account would go below zero", p.Account.Kind)
		}
		return err
	}
	// A credit cannot break the CHECK: its failure is the database's.
	return tx.ExecLater(ctx, `INSERT INTO loyalty_accounts (tenant_id, kind, owner, balance) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant_id, kind, owner) DO UPDATE SET balance = loyalty_accounts.balance + excluded.balance`,
		tenantID, p.Account.Kind, p.Account.Owner, p.Points)
}

// isCheckViolation reports a CHECK constraint failure on either engine.
func isCheckViolation(err error) bool {
	if err == nil {
		return false
	}
	var pe interface{ SQLState() string }
	if errors.As(err, &pe) {
		return pe.SQLState() == "23514"
	}
	return strings.Contains(err.Error(), "CHECK constraint failed")
}

// entryExists reports whether a fact was already posted.
func entryExists(ctx context.Context, q Querier, tenantID, key string) (bool, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT 1 FROM loyalty_entries WHERE tenant_id = $1 AND natural_key = $2`, tenantID, key).Scan(&n)
	if errors.Is(err, ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// accountBalance reads a cached balance (0 for an account never posted
// to); lock takes the row lock on PostgreSQL.
func accountBalance(ctx context.Context, q Querier, tenantID string, a loyalty.Account, lock bool) (int64, error) {
	suffix := ""
	if lock {
		suffix = lockClause(q)
	}
	var b int64
	err := q.QueryRow(ctx, `SELECT balance FROM loyalty_accounts WHERE tenant_id = $1 AND kind = $2 AND owner = $3`+suffix,
		tenantID, a.Kind, a.Owner).Scan(&b)
	if errors.Is(err, ErrNoRows) {
		return 0, nil
	}
	return b, err
}

// lockClause is the row lock of a write transaction on PostgreSQL.
func lockClause(q Querier) string {
	if tx, ok := q.(*Tx); ok {
		return lockFor(tx)
	}
	return ""
}

// MemberBalances are a member's cached account balances.
type MemberBalances struct {
	Available, Pending, Owed, Held int64
}

func memberBalances(ctx context.Context, q Querier, tenantID, customerID string) (MemberBalances, error) {
	var b MemberBalances
	err := queryEach(ctx, q, `SELECT kind, balance FROM loyalty_accounts WHERE tenant_id = $1 AND kind IN ('available', 'pending', 'owed', 'held') AND owner = $2`,
		[]any{tenantID, customerID}, func(r Rows) error {
			var kind string
			var v int64
			if err := r.Scan(&kind, &v); err != nil {
				return err
			}
			switch kind {
			case loyalty.AccountAvailable:
				b.Available = v
			case loyalty.AccountPending:
				b.Pending = v
			case loyalty.AccountOwed:
				b.Owed = v
			case loyalty.AccountHeld:
				b.Held = v
			}
			return nil
		})
	return b, err
}

func member(kind, customerID string) loyalty.Account {
	return loyalty.Account{Kind: kind, Owner: customerID}
}

// lotRow is a stored lot.
type lotRow struct {
	loyalty.Lot
	CustomerID, OriginCustomerID, EntryID, Status string
	Points                                        int64
	AvailableAt                                   time.Time
}

func insertLot(ctx context.Context, tx *Tx, tenantID string, l lotRow) error {
	return tx.ExecLater(ctx, `INSERT INTO loyalty_lots (tenant_id, id, customer_id, origin_customer_id, entry_id, points, remaining,
		status, available_at, expires_at, earned_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		tenantID, l.ID, l.CustomerID, l.OriginCustomerID, l.EntryID, l.Points, l.Remaining, l.Status, l.AvailableAt.UTC(),
		utcPtr(l.ExpiresAt), l.EarnedAt.UTC())
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// memberLots lists a member's lots with points left in a status.
func memberLots(ctx context.Context, q Querier, tenantID, customerID, status string) ([]lotRow, error) {
	var out []lotRow
	err := queryEach(ctx, q, `SELECT id, customer_id, origin_customer_id, entry_id, points, remaining, status, available_at, expires_at, earned_at
		FROM loyalty_lots WHERE tenant_id = $1 AND customer_id = $2 AND status = $3 AND remaining > 0`,
		[]any{tenantID, customerID, status}, func(r Rows) error {
			l, err := scanLot(r)
			out = append(out, l)
			return err
		})
	return out, err
}

func scanLot(r Row) (lotRow, error) {
	var l lotRow
	err := r.Scan(&l.ID, &l.CustomerID, &l.OriginCustomerID, &l.EntryID, &l.Points, &l.Remaining, &l.Status, &l.AvailableAt,
		&l.ExpiresAt, &l.EarnedAt)
	l.AvailableAt, l.EarnedAt, l.ExpiresAt = l.AvailableAt.UTC(), l.EarnedAt.UTC(), utcPtr(l.ExpiresAt)
	return l, err
}

// takeLots records takes from lots for an entry and lowers the lots.
func takeLots(ctx context.Context, tx *Tx, tenantID, entryID string, takes []loyalty.Take) error {
	rows := make([][]any, 0, len(takes))
	for _, t := range takes {
		n, err := tx.Exec(ctx, `UPDATE loyalty_lots SET remaining = remaining - $3 WHERE tenant_id = $1 AND id = $2 AND remaining >= $3`,
			tenantID, t.LotID, t.Points)
		if err != nil {
			return err
		}
		if n != 1 {
			return fmt.Errorf("sqldb: lot %s has less than %d points left", t.LotID, t.Points)
		}
		rows = append(rows, []any{tenantID, entryID, t.LotID, t.Points})
	}
	if len(rows) == 0 {
		return nil
	}
	return insertRows(ctx, tx, "loyalty_lot_takes", "tenant_id, entry_id, lot_id, points", rows, "")
}

func lots(rows []lotRow) []loyalty.Lot {
	out := make([]loyalty.Lot, len(rows))
	for i, r := range rows {
		out[i] = r.Lot
	}
	return out
}
