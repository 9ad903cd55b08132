package sqldb

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/loyalty"
)

// lotTake is a take with the lot's current owner (a merge may have moved
// the lot to the survivor) and its expiry.
type lotTake struct {
	loyalty.Take
	owner     string
	expiresAt *time.Time
}

// entryTakes lists what an entry took from lots, with the lots' owners
// (sorted: a fixed order to lock them in).
func entryTakes(ctx context.Context, tx *Tx, tenantID, entryID string) ([]lotTake, []string, error) {
	var takes []lotTake
	var owners []string
	err := queryEach(ctx, tx, `SELECT t.lot_id, t.points, l.customer_id, l.expires_at FROM loyalty_lot_takes t
		JOIN loyalty_lots l ON l.tenant_id = t.tenant_id AND l.id = t.lot_id WHERE t.tenant_id = $1 AND t.entry_id = $2 ORDER BY t.lot_id`,
		[]any{tenantID, entryID}, func(row Rows) error {
			var t lotTake
			err := row.Scan(&t.LotID, &t.Points, &t.owner, &t.expiresAt)
			takes = append(takes, t)
			if !slices.Contains(owners, t.owner) {
				owners = append(owners, t.owner)
			}
			return err
		})
	slices.Sort(owners)
	return takes, owners, err
}

func sumTakes(takes []lotTake) int64 {
	var n int64
	for _, t := range takes {
		n += t.Points
	}
	return n
}

// restore is the entry that gives spent or held points back: From (the
// program's redeemed account, or the member's held account) is debited and
// each lot owner's available account credited.
type restore struct {
	TenantID, Kind, CustomerID, Key, Reason, Actor string
	From                                           loyalty.Account
}

// restoreLots posts a restore entry for takes and puts the points back on
// their lots, each recorded as a negative take so that every lot still
// equals its points less its takes; the lots keep their original expiry, so
// the points of lots whose expiry passed meanwhile expire at once. It
// returns the restore entry's id.
func restoreLots(ctx context.Context, tx *Tx, r restore, takes []lotTake, now time.Time) (string, error) {
	byOwner := map[string]int64{}
	var owners []string
	for _, t := range takes {
		if _, ok := byOwner[t.owner]; !ok {
			owners = append(owners, t.owner)
		}
		byOwner[t.owner] += t.Points
	}
	slices.Sort(owners)
	postings := []loyalty.Posting{{Account: r.From, Points: -sumTakes(takes)}}
	for _, o := range owners {
		postings = append(postings, loyalty.Posting{Account: member(loyalty.AccountAvailable, o), Points: byOwner[o]})
	}
	entryID, err := postEntry(ctx, tx, loyalty.Entry{TenantID: r.TenantID, ID: id.New(), Kind: r.Kind, CustomerID: r.CustomerID,
		NaturalKey: r.Key, Reason: r.Reason, Actor: r.Actor, OccurredAt: now, Postings: postings})
	if err != nil {
		return "", err
	}
	rows := make([][]any, 0, len(takes))
	for _, t := range takes {
		if _, err := tx.Exec(ctx, `UPDATE loyalty_lots SET remaining = remaining + $3 WHERE tenant_id = $1 AND id = $2`,
			r.TenantID, t.LotID, t.Points); err != nil {
			return "", err
		}
		rows = append(rows, []any{r.TenantID, entryID, t.LotID, -t.Points})
	}
	if len(rows) > 0 {
		if err := insertRows(ctx, tx, "loyalty_lot_takes", "tenant_id, entry_id, lot_id, points", rows, ""); err != nil {
			return "", err
		}
	}
	return entryID, expirePastDue(ctx, tx, r, takes, now)
}

// expirePastDue expires at once the restored points of lots whose expiry
// passed while they were spent or held: the member must not spend points
// past their expiry. The entries have keys of their own ("expire:" + the
// restore's key), so they never collide with the expiry job's.
func expirePastDue(ctx context.Context, tx *Tx, r restore, takes []lotTake, now time.Time) error {
	byOwner := map[string][]loyalty.Take{}
	var owners []string
	for _, t := range takes {
		if t.expiresAt == nil || t.expiresAt.After(now) {
			continue
		}
		if byOwner[t.owner] == nil {
			owners = append(owners, t.owner)
		}
		byOwner[t.owner] = append(byOwner[t.owner], t.Take)
	}
	slices.Sort(owners)
	for _, o := range owners {
		var points int64
		for _, t := range byOwner[o] {
			points += t.Points
		}
		entryID, err := postEntry(ctx, tx, loyalty.Entry{TenantID: r.TenantID, ID: id.New(), Kind: loyalty.EntryExpire, CustomerID: o,
			NaturalKey: "expire:" + r.Key + ":" + o, Reason: fmt.Sprintf("%d restored points past their expiry", points), OccurredAt: now,
			Postings: []loyalty.Posting{{Account: member(loyalty.AccountAvailable, o), Points: -points},
				{Account: loyalty.Account{Kind: loyalty.AccountExpired}, Points: points}}})
		if err != nil {
			return err
		}
		if err := takeLots(ctx, tx, r.TenantID, entryID, byOwner[o]); err != nil {
			return err
		}
	}
	return nil
}
