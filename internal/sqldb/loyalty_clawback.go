package sqldb

import (
	"context"
	"errors"
	"time"

	"github.com/omo-platform/omo/internal/loyalty"
	"github.com/omo-platform/omo/internal/transaction"
)

// awardLine is what one line of a purchase earned from one award.
type awardLine struct {
	AwardNo, Line           int
	RuleID                  string
	Budgeted, Status        bool
	Points, Clawed, ClawNow int64
}

// clawbackReturn takes back what the returned lines of a linked purchase
// earned, every award included, and lowers the member's qualifying value; a
// rule award taken back in full no longer counts against its limits. An
// unlinked return lowers the qualifying value only: nothing says what it
// earned.
func clawbackReturn(ctx context.Context, tx *Tx, cfg *loyaltyConfig, m *memberRow, tr *transaction.Transaction, b loyalty.Basket, link *returnLink, out *LoyaltyOutcome) error {
	day := tr.Local()
	if link != nil {
		day = link.orig.Local() // the purchase no longer counts where it counted
	}
	if err := addQualifying(ctx, tx, tr.TenantID, m.CustomerID, day, qualifyingSpend(cfg, tr, b), 0); err != nil {
		return err
	}
	if link != nil {
		if err := clawLinked(ctx, tx, m, tr, link, out); err != nil {
			return err
		}
	}
	return retier(ctx, tx, cfg, tr.TenantID, m, tr.Local(), false, "return "+describeReceipt(*tr))
}

func clawLinked(ctx context.Context, tx *Tx, m *memberRow, tr *transaction.Transaction, link *returnLink, out *LoyaltyOutcome) error {
	var earnID string
	err := tx.QueryRow(ctx, `SELECT id FROM loyalty_entries WHERE tenant_id = $1 AND natural_key = $2`, tr.TenantID, earnKey(link.orig.ID)).Scan(&earnID)
	if errors.Is(err, ErrNoRows) {
		return nil // the purchase earned nothing
	}
	if err != nil {
		return err
	}
	lines, err := clawAmounts(ctx, tx, tr.TenantID, earnID, link)
	if err != nil {
		return err
	}
	awards, status := clawedAwards(lines)
	var total int64
	for _, a := range awards {
		total += a.Points
	}
	if total == 0 {
		return nil
	}
	if err := addQualifying(ctx, tx, tr.TenantID, m.CustomerID, link.orig.Local(), 0, -status); err != nil {
		return err
	}
	entryID, err := takeBack(ctx, tx, m.CustomerID, tr, earnID, awards, total)
	if err != nil {
		return err
	}
	out.EntryID, out.Points = entryID, total
	if err := saveClawed(ctx, tx, tr.TenantID, earnID, lines); err != nil {
		return err
	}
	return uncountAwards(ctx, tx, tr.TenantID, m.CustomerID, link.orig.Local(), lines)
}

// clawAmounts reads the award lines of the purchase and works out what this
// return takes from each.
func clawAmounts(ctx context.Context, tx *Tx, tenantID, earnID string, link *returnLink) ([]awardLine, error) {
	qty, returned := map[int]int64{}, map[int]int64{}
	for _, l := range link.orig.Lines {
		qty[l.Number], returned[l.Number] = l.Quantity, l.Returned
	}
	var out []awardLine
	err := queryEach(ctx, tx, `SELECT award_no, line_number, rule_id, budgeted, status, points, clawed FROM loyalty_award_lines
		WHERE tenant_id = $1 AND entry_id = $2`+lockFor(tx), []any{tenantID, earnID}, func(r Rows) error {
		var a awardLine
		if err := r.Scan(&a.AwardNo, &a.Line, &a.RuleID, &a.Budgeted, &a.Status, &a.Points, &a.Clawed); err != nil {
			return err
		}
		if now := link.take[a.Line]; now > 0 {
			a.ClawNow = loyalty.Clawback(a.Points, qty[a.Line], returned[a.Line], now, a.Clawed)
		}
		out = append(out, a)
		return nil
	})
	return out, err
}

// clawedAwards sums the claw-back per award, as awards for the postings,
// and the status points among them.
func clawedAwards(lines []awardLine) ([]loyalty.Award, int64) {
	byNo := map[int]*loyalty.Award{}
	var order []int
	var status int64
	for _, l := range lines {
		if l.ClawNow == 0 {
			continue
		}
		a := byNo[l.AwardNo]
		if a == nil {
			a = &loyalty.Award{RuleID: l.RuleID, Budgeted: l.Budgeted, Status: l.Status}
			byNo[l.AwardNo] = a
			order = append(order, l.AwardNo)
		}
		a.Points += l.ClawNow
		a.Lines = append(a.Lines, loyalty.LinePoints{Number: l.Line, Points: l.ClawNow})
		if l.Status {
			status += l.ClawNow
		}
	}
	out := make([]loyalty.Award, 0, len(order))
	for _, n := range order {
		out = append(out, *byNo[n])
	}
	return out, status
}

// takeBack posts the claw-back: from the purchase's own lot first, then the
// member's other points (first-expiring first, available before pending),
// and what the member has already spent becomes owed, settled by later
// earnings. The points go back where they came from (issued or a budget).
func takeBack(ctx context.Context, tx *Tx, customerID string, tr *transaction.Transaction, earnID string, awards []loyalty.Award, total int64) (string, error) {
	own, err := entryLots(ctx, tx, tr.TenantID, earnID)
	if err != nil {
		return "", err
	}
	avail, err := memberLots(ctx, tx, tr.TenantID, customerID, "available")
	if err != nil {
		return "", err
	}
	pend, err := memberLots(ctx, tx, tr.TenantID, customerID, "pending")
	if err != nil {
		return "", err
	}
	status := map[string]string{}
	for _, l := range append(append(own, avail...), pend...) {
		status[l.ID] = l.Status
	}
	seen := map[string]bool{}
	var order []loyalty.Lot
	for _, group := range [][]loyalty.Lot{lots(own), loyalty.ByExpiry(lots(avail)), loyalty.ByExpiry(lots(pend))} {
		for _, l := range group {
			if !seen[l.ID] && l.Remaining > 0 {
				seen[l.ID] = true
				order = append(order, l)
			}
		}
	}
	takes, short := loyalty.TakeInOrder(order, total)
	byAccount := map[string]int64{}
	for _, t := range takes {
		byAccount[status[t.LotID]] += t.Points
	}
	postings := sourcePostings(awards, 1)
	for _, kind := range []string{loyalty.AccountAvailable, loyalty.AccountPending} {
		if byAccount[kind] > 0 {
			postings = append(postings, loyalty.Posting{Account: member(kind, customerID), Points: -byAccount[kind]})
		}
	}
	if short > 0 {
		postings = append(postings, loyalty.Posting{Account: member(loyalty.AccountOwed, customerID), Points: -short})
	}
	entryID, err := postEntry(ctx, tx, loyalty.Entry{TenantID: tr.TenantID, Kind: loyalty.EntryClawback, CustomerID: customerID,
		NaturalKey: "clawback:" + tr.ID, TransactionID: tr.ID, Reason: "return " + describeReceipt(*tr), Postings: postings,
		Awards: awards, OccurredAt: tr.OccurredAt})
	if err != nil {
		return "", err
	}
	return entryID, takeLots(ctx, tx, tr.TenantID, entryID, takes)
}

func entryLots(ctx context.Context, q Querier, tenantID, entryID string) ([]lotRow, error) {
	var out []lotRow
	err := queryEach(ctx, q, `SELECT id, customer_id, origin_customer_id, entry_id, points, remaining, status, available_at, expires_at, earned_at
		FROM loyalty_lots WHERE tenant_id = $1 AND entry_id = $2`, []any{tenantID, entryID}, func(r Rows) error {
		l, err := scanLot(r)
		out = append(out, l)
		return err
	})
	return out, err
}

func saveClawed(ctx context.Context, tx *Tx, tenantID, earnID string, lines []awardLine) error {
	for _, l := range lines {
		if l.ClawNow == 0 {
			continue
		}
		if _, err := tx.Exec(ctx, `UPDATE loyalty_award_lines SET clawed = clawed + $5
			WHERE tenant_id = $1 AND entry_id = $2 AND award_no = $3 AND line_number = $4`, tenantID, earnID, l.AwardNo, l.Line, l.ClawNow); err != nil {
			return err
		}
	}
	return nil
}

// uncountAwards gives back a limit use for each rule award of the purchase
// that returns have now taken back in full (and had not before).
func uncountAwards(ctx context.Context, tx *Tx, tenantID, customerID string, local time.Time, lines []awardLine) error {
	type sums struct {
		rule                string
		points, before, now int64
	}
	byNo := map[int]*sums{}
	var order []int
	for _, l := range lines {
		if l.RuleID == "" {
			continue
		}
		s := byNo[l.AwardNo]
		if s == nil {
			s = &sums{rule: l.RuleID}
			byNo[l.AwardNo] = s
			order = append(order, l.AwardNo)
		}
		s.points, s.before, s.now = s.points+l.Points, s.before+l.Clawed, s.now+l.ClawNow
	}
	for _, n := range order {
		s := byNo[n]
		if s.now > 0 && s.before < s.points && s.before+s.now == s.points {
			if err := uncountUse(ctx, tx, tenantID, customerID, s.rule, local); err != nil {
				return err
			}
		}
	}
	return nil
}
