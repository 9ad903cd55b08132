package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/customer"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/tenant"
)

// mergeSnapshot is what an unmerge needs to put both customers back.
type mergeSnapshot struct {
	MergedTraits          customer.Traits                 `json:"merged_traits"`
	MergedSources         map[string]customer.TraitSource `json:"merged_sources"`
	SurvivorTraitsBefore  customer.Traits                 `json:"survivor_traits_before"`
	SurvivorSourcesBefore map[string]customer.TraitSource `json:"survivor_sources_before"`
	SurvivorTraitsAfter   customer.Traits                 `json:"survivor_traits_after"`
	Moved                 []customer.Identifier           `json:"moved"`
}

// Merge is one recorded merge of a customer into a survivor.
type Merge struct {
	ID         string                `json:"id"`
	GroupID    string                `json:"group_id"`
	SurvivorID string                `json:"survivor_id"`
	MergedID   string                `json:"merged_id"`
	LinkedBy   []customer.Identifier `json:"linked_by"`
	RequestID  string                `json:"request_id"`
	Actor      string                `json:"actor"`
	CreatedAt  time.Time             `json:"created_at"`
	UndoneAt   *time.Time            `json:"undone_at,omitempty"`
	snapshot   mergeSnapshot
}

// mergeInto merges a live customer into the survivor: identifiers move,
// traits combine, the merged id resolves to the survivor from now on, and a
// merge record keeps what an unmerge needs.
func mergeInto(ctx context.Context, tx *Tx, t tenant.Tenant, s, m *customer.Customer, linkers []customer.Identifier, groupID string, a Actor) error {
	snap := mergeSnapshot{MergedTraits: m.Traits, MergedSources: m.TraitSources, SurvivorTraitsBefore: s.Traits,
		SurvivorSourcesBefore: s.TraitSources, Moved: m.Identifiers}
	for _, q := range []string{
		`UPDATE customer_identifiers SET customer_id = $3 WHERE tenant_id = $1 AND customer_id = $2`,
		`UPDATE customers SET survivor_id = $3 WHERE tenant_id = $1 AND survivor_id = $2`,
		`UPDATE customers SET merged_into = $3 WHERE tenant_id = $1 AND id = $2`,
	} {
		if _, err := tx.Exec(ctx, q, t.ID, m.ID, s.ID); err != nil {
			return fmt.Errorf("sqldb: merge: %w", err)
		}
	}
	m.SurvivorID, m.MergedInto = s.ID, s.ID
	before := s.Traits
	s.Traits, s.TraitSources = customer.MergeTraits([]*customer.Customer{s, m}, t.Settings.Priority)
	s.Identifiers = append(s.Identifiers, m.Identifiers...)
	snap.SurvivorTraitsAfter = s.Traits
	if err := saveTraits(ctx, tx, s); err != nil {
		return err
	}
	if err := saveSearchTerms(ctx, tx, m); err != nil {
		return err
	}
	if err := countLinkers(ctx, tx, t, linkers); err != nil {
		return err
	}
	if err := insertMerge(ctx, tx, t.ID, groupID, s.ID, m.ID, linkers, snap, a); err != nil {
		return err
	}
	changes := append([]customer.Change{{Field: "merged_customer", After: id.Format(id.Customer, m.ID)}},
		customer.DiffTraits(before, s.Traits)...)
	if err := writeAudit(ctx, tx, t.ID, s.ID, "merged", changes, a); err != nil {
		return err
	}
	return writeAudit(ctx, tx, t.ID, m.ID, "merged_into", []customer.Change{{Field: "merged_into", After: id.Format(id.Customer, s.ID)}}, a)
}

// countLinkers counts a merge against each identifier that caused it and
// flags the ones that keep tying customers together.
func countLinkers(ctx context.Context, tx *Tx, t tenant.Tenant, linkers []customer.Identifier) error {
	for _, l := range linkers {
		_, err := tx.Exec(ctx, `UPDATE customer_identifiers SET merge_hits = merge_hits + 1,
			flagged_at = CASE WHEN merge_hits + 1 >= $4 AND flagged_at IS NULL THEN $5 ELSE flagged_at END
			WHERE tenant_id = $1 AND type = $2 AND value = $3`, t.ID, l.Type, l.Value, t.Settings.FlagAfterMerges, tx.Now())
		if err != nil {
			return fmt.Errorf("sqldb: count merge: %w", err)
		}
	}
	return nil
}

func insertMerge(ctx context.Context, tx *Tx, tenantID, groupID, survivorID, mergedID string, linkers []customer.Identifier, snap mergeSnapshot, a Actor) error {
	rawSnap, err := json.Marshal(snap)
	if err != nil {
		return err
	}
	rawLinks, _ := json.Marshal(linkers)
	mergeID := id.New()
	_, err = tx.Exec(ctx, `INSERT INTO customer_merges (tenant_id, id, group_id, survivor_id, merged_id, linked_by, snapshot,
		request_id, actor, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		tenantID, mergeID, groupID, survivorID, mergedID, string(rawLinks), string(rawSnap), a.RequestID, a.Actor, tx.Now())
	if err != nil {
		return fmt.Errorf("sqldb: record merge: %w", err)
	}
	return mergeLoyalty(ctx, tx, tenantID, survivorID, mergedID, mergeID)
}

const mergeColumns = `id, group_id, survivor_id, merged_id, linked_by, snapshot, request_id, actor, created_at, undone_at`

func scanMerge(r Row) (Merge, error) {
	var m Merge
	var links, snap string
	if err := r.Scan(&m.ID, &m.GroupID, &m.SurvivorID, &m.MergedID, &links, &snap, &m.RequestID, &m.Actor, &m.CreatedAt, &m.UndoneAt); err != nil {
		return m, err
	}
	if err := json.Unmarshal([]byte(links), &m.LinkedBy); err != nil {
		return m, err
	}
	return m, json.Unmarshal([]byte(snap), &m.snapshot)
}

func queryMerges(ctx context.Context, q Querier, query string, args ...any) ([]Merge, error) {
	rows, err := q.Query(ctx, `SELECT `+mergeColumns+` FROM customer_merges WHERE `+query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqldb: merges: %w", err)
	}
	defer rows.Close()
	var out []Merge
	for rows.Next() {
		m, err := scanMerge(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// FindMerges lists the merges into the customer an id resolves to, newest first.
func (db *DB) FindMerges(ctx context.Context, tenantID, customerID string) ([]Merge, error) {
	p, err := db.FindCustomerByID(ctx, tenantID, customerID)
	if err != nil {
		return nil, err
	}
	return queryMerges(ctx, db.Read(), `tenant_id = $1 AND survivor_id IN (SELECT id FROM customers WHERE tenant_id = $1 AND survivor_id = $2)
		ORDER BY created_at DESC, id DESC`, tenantID, p.ID)
}

// UnmergeParams select what to undo: one merge group (all customers merged by
// one request), by default the latest still in force on the customer.
type UnmergeParams struct {
	TenantID   string
	CustomerID string
	MergeID    string // any merge of the group; empty for the latest group
	Actor
}

// UnmergeResult is the survivor and the customers restored.
type UnmergeResult struct {
	Survivor *Profile
	Restored []*Profile
}

// Unmerge undoes a merge group: each merged customer gets back its own
// identifiers, traits and facts. Identifiers and trait values the survivor got
// after the merge stay with it. Returns Conflict when nothing can be undone.
func (db *DB) Unmerge(ctx context.Context, p UnmergeParams) (*UnmergeResult, error) {
	var res *UnmergeResult
	err := db.WriteTx(ctx, func(tx *Tx) error {
		var err error
		res, err = unmergeTx(ctx, tx, p)
		return err
	})
	return res, err
}

func unmergeTx(ctx context.Context, tx *Tx, p UnmergeParams) (*UnmergeResult, error) {
	s, err := findProfile(ctx, tx, p.TenantID, p.CustomerID)
	if err != nil {
		return nil, err
	}
	group, err := mergeGroup(ctx, tx, p.TenantID, s.ID, p.MergeID)
	if err != nil {
		return nil, err
	}
	res := &UnmergeResult{}
	for i := len(group) - 1; i >= 0; i-- {
		if err := unmergeOne(ctx, tx, p.TenantID, group[i], p.Actor); err != nil {
			return nil, err
		}
	}
	for _, m := range group {
		r, err := findProfile(ctx, tx, p.TenantID, m.MergedID)
		if err != nil {
			return nil, err
		}
		res.Restored = append(res.Restored, r)
	}
	res.Survivor, err = findProfile(ctx, tx, p.TenantID, s.ID)
	return res, err
}

func mergeGroup(ctx context.Context, tx *Tx, tenantID, survivorID, mergeID string) ([]Merge, error) {
	var group []Merge
	var err error
	if mergeID == "" {
		group, err = queryMerges(ctx, tx, `tenant_id = $1 AND undone_at IS NULL AND group_id = (SELECT group_id FROM customer_merges
			WHERE tenant_id = $1 AND survivor_id = $2 AND undone_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 1)
			ORDER BY created_at, id`, tenantID, survivorID)
	} else {
		group, err = queryMerges(ctx, tx, `tenant_id = $1 AND undone_at IS NULL AND group_id = (SELECT group_id FROM customer_merges
			WHERE tenant_id = $1 AND id = $2) ORDER BY created_at, id`, tenantID, mergeID)
	}
	if err != nil {
		return nil, err
	}
	if len(group) == 0 {
		return nil, apperr.New(apperr.Conflict, "customer %s has no merge in force to undo", id.Format(id.Customer, survivorID))
	}
	if group[0].SurvivorID != survivorID {
		return nil, apperr.New(apperr.Conflict, "merge %s was into customer %s, which has since been merged; undo that later merge first",
			id.Format(id.Merge, mergeID), id.Format(id.Customer, group[0].SurvivorID))
	}
	return group, nil
}

func unmergeOne(ctx context.Context, tx *Tx, tenantID string, m Merge, a Actor) error {
	for _, i := range m.snapshot.Moved {
		if _, err := tx.Exec(ctx, `UPDATE customer_identifiers SET customer_id = $5 WHERE tenant_id = $1 AND type = $2 AND value = $3
			AND customer_id = $4`, tenantID, i.Type, i.Value, m.SurvivorID, m.MergedID); err != nil {
			return fmt.Errorf("sqldb: unmerge: %w", err)
		}
	}
	if err := detachSubtree(ctx, tx, tenantID, m.SurvivorID, m.MergedID); err != nil {
		return err
	}
	if err := unmergeLoyalty(ctx, tx, tenantID, m.SurvivorID, m.MergedID, m.ID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE customer_merges SET undone_at = $3 WHERE tenant_id = $1 AND id = $2`, tenantID, m.ID, tx.Now()); err != nil {
		return err
	}
	if err := restoreMerged(ctx, tx, tenantID, m, a); err != nil {
		return err
	}
	return restoreSurvivor(ctx, tx, tenantID, m, a)
}

// detachSubtree makes the merged customer live again, together with every
// customer that had been merged into it before.
func detachSubtree(ctx context.Context, tx *Tx, tenantID, survivorID, mergedID string) error {
	rows, err := tx.Query(ctx, `SELECT id, merged_into FROM customers WHERE tenant_id = $1 AND survivor_id = $2`, tenantID, survivorID)
	if err != nil {
		return err
	}
	children := map[string][]string{}
	for rows.Next() {
		var cid string
		var parent *string
		if err := rows.Scan(&cid, &parent); err != nil {
			rows.Close()
			return err
		}
		if parent != nil {
			children[*parent] = append(children[*parent], cid)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for queue := []string{mergedID}; len(queue) > 0; queue = queue[1:] {
		cur := queue[0]
		if _, err := tx.Exec(ctx, `UPDATE customers SET survivor_id = $3 WHERE tenant_id = $1 AND id = $2`, tenantID, cur, mergedID); err != nil {
			return err
		}
		queue = append(queue, children[cur]...)
	}
	_, err = tx.Exec(ctx, `UPDATE customers SET merged_into = NULL WHERE tenant_id = $1 AND id = $2`, tenantID, mergedID)
	return err
}

func restoreMerged(ctx context.Context, tx *Tx, tenantID string, m Merge, a Actor) error {
	c, err := loadCustomer(ctx, tx, tenantID, m.MergedID)
	if err != nil {
		return err
	}
	c.Traits, c.TraitSources = m.snapshot.MergedTraits, m.snapshot.MergedSources
	if err := saveTraits(ctx, tx, c); err != nil {
		return err
	}
	return writeAudit(ctx, tx, tenantID, c.ID, "unmerged", []customer.Change{{Field: "merged_into", Before: id.Format(id.Customer, m.SurvivorID)}}, a)
}

// restoreSurvivor puts back the survivor's trait values that the merge
// changed and that nobody has changed since.
func restoreSurvivor(ctx context.Context, tx *Tx, tenantID string, m Merge, a Actor) error {
	s, err := loadCustomer(ctx, tx, tenantID, m.SurvivorID)
	if err != nil {
		return err
	}
	cur, after, before := s.Traits.Flat(), m.snapshot.SurvivorTraitsAfter.Flat(), m.snapshot.SurvivorTraitsBefore.Flat()
	old := s.Traits
	for f, v := range after {
		bv, hadBefore := before[f]
		if cv, ok := cur[f]; !ok || !sameJSON(cv, v) || (hadBefore && sameJSON(bv, v)) {
			continue
		}
		if hadBefore {
			cur[f] = bv
			s.TraitSources[f] = m.snapshot.SurvivorSourcesBefore[f]
		} else {
			delete(cur, f)
			delete(s.TraitSources, f)
		}
	}
	s.Traits = customer.TraitsFromFlat(cur)
	if err := saveTraits(ctx, tx, s); err != nil {
		return err
	}
	changes := append([]customer.Change{{Field: "merged_customer", Before: id.Format(id.Customer, m.MergedID)}},
		customer.DiffTraits(old, s.Traits)...)
	return writeAudit(ctx, tx, tenantID, s.ID, "unmerged", changes, a)
}

func sameJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}
