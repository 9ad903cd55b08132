package catalog

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/omo-platform/omo/internal/money"
)

// Price list statuses: an inactive list never applies.
const (
	ListActive   = "active"
	ListInactive = "inactive"
)

// PriceList is a set of prices in one currency that applies to some buyers:
// in some sales channels (none named: any), to members of some loyalty tiers
// (none named: everyone), between StartsAt and EndsAt. When several lists
// price a SKU for a buyer, Resolve decides.
type PriceList struct {
	TenantID      string
	ID            string
	Code          string // unique per tenant, e.g. "web-hkd", "gold-hkd"
	Name          string
	Currency      string
	SalesChannels []string // sales channel codes; empty: any sales channel
	Tiers         []string // loyalty tier codes; empty: every buyer
	StartsAt      *time.Time
	EndsAt        *time.Time // exclusive
	Priority      int        // higher wins
	TaxInclusive  bool       // the prices include tax
	Status        string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// MaxPriority bounds a list's priority (either sign).
const MaxPriority = 1_000_000

// Validate checks a price list and names each bad field under base.
func (l *PriceList) Validate(base string) error {
	pr := &problems{base: base}
	if !ValidCode(l.Code) {
		pr.add("code", "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", l.Code)
	}
	if n := len(strings.TrimSpace(l.Name)); n == 0 || n > 120 {
		pr.add("name", "1 to 120 bytes", l.Name)
	}
	if c, ok := money.NormalizeCurrency(l.Currency); ok {
		l.Currency = c
	} else {
		pr.add("currency", "an ISO 4217 code such as HKD", l.Currency)
	}
	validateCodes(pr, "sales_channels", l.SalesChannels)
	validateCodes(pr, "tiers", l.Tiers)
	if l.StartsAt != nil && l.EndsAt != nil && !l.EndsAt.After(*l.StartsAt) {
		pr.add("ends_at", "after starts_at", l.EndsAt)
	}
	if l.Priority < -MaxPriority || l.Priority > MaxPriority {
		pr.add("priority", fmt.Sprintf("from %d to %d", -MaxPriority, MaxPriority), l.Priority)
	}
	if l.Status == "" {
		l.Status = ListActive
	}
	if l.Status != ListActive && l.Status != ListInactive {
		pr.add("status", "active or inactive", l.Status)
	}
	return pr.err("the price list")
}

func validateCodes(pr *problems, field string, codes []string) {
	seen := map[string]bool{}
	for i, c := range codes {
		if !ValidCode(c) || seen[c] {
			pr.add(fmt.Sprintf("%s[%d]", field, i), "distinct codes", c)
		}
		seen[c] = true
	}
}

// Price is one SKU's price in a list.
type Price struct {
	SKU       string
	Amount    int64 // minor units of the list's currency
	CompareAt int64 // the "was" price shown struck through; 0 for none
	UpdatedAt time.Time
}

// Validate checks a price and names each bad field under base.
func (p *Price) Validate(base string) error {
	pr := &problems{base: base}
	if !ValidSKU(p.SKU) {
		pr.add("sku", "1 to 64 bytes of printable text without leading or trailing spaces", p.SKU)
	}
	if p.Amount < 0 || p.Amount > money.MaxAmount {
		pr.add("amount", "minor units from 0", p.Amount)
	}
	if p.CompareAt != 0 && (p.CompareAt <= p.Amount || p.CompareAt > money.MaxAmount) {
		pr.add("compare_at", "0 for none, or more than amount", p.CompareAt)
	}
	return pr.err("the price")
}

// Buyer is who asks for a price, where and when.
type Buyer struct {
	SalesChannel string // "" asks for lists of any sales channel only
	Currency     string
	Tier         string // the customer's current loyalty tier code; "" for a guest or a non-member
	At           time.Time
}

// Applies reports whether the list prices for the buyer, and why not when
// it does not.
func (l *PriceList) Applies(b Buyer) (bool, string) {
	switch {
	case l.Status != ListActive:
		return false, "inactive"
	case l.Currency != b.Currency:
		return false, "in " + l.Currency
	case len(l.SalesChannels) > 0 && !slices.Contains(l.SalesChannels, b.SalesChannel):
		return false, "for sales channels " + strings.Join(l.SalesChannels, ", ")
	case len(l.Tiers) > 0 && (b.Tier == "" || !slices.Contains(l.Tiers, b.Tier)):
		return false, "for tiers " + strings.Join(l.Tiers, ", ")
	case l.StartsAt != nil && b.At.Before(*l.StartsAt):
		return false, "starts " + l.StartsAt.UTC().Format(time.RFC3339)
	case l.EndsAt != nil && !b.At.Before(*l.EndsAt):
		return false, "ended " + l.EndsAt.UTC().Format(time.RFC3339)
	}
	return true, ""
}

// Offer is one list's price for a SKU.
type Offer struct {
	List      PriceList
	Amount    int64
	CompareAt int64
}

// specificity ranks lists of equal priority: a member-tier list is aimed
// more narrowly than a sales channel's, which is narrower than one for
// everyone; a scheduled list (a sale) is narrower than a standing one.
func (o Offer) specificity() int {
	s := 0
	if len(o.List.Tiers) > 0 {
		s += 4
	}
	if len(o.List.SalesChannels) > 0 {
		s += 2
	}
	if o.List.StartsAt != nil || o.List.EndsAt != nil {
		s++
	}
	return s
}

// compareOffers orders offers best first: higher priority, then the more
// specific list, then the lower price, then the list code.
func compareOffers(a, b Offer) int {
	switch {
	case a.List.Priority != b.List.Priority:
		return b.List.Priority - a.List.Priority
	case a.specificity() != b.specificity():
		return b.specificity() - a.specificity()
	case a.Amount != b.Amount:
		if a.Amount < b.Amount {
			return -1
		}
		return 1
	}
	return strings.Compare(a.List.Code, b.List.Code)
}

// Resolution is the price a buyer pays for a SKU and why.
type Resolution struct {
	Winner Offer
	Beaten []Offer // the other applicable offers, best first
	Rule   string  // e.g. "member tier gold list gold-hkd (priority 20) beat web-hkd (priority 10)"
}

// Resolve picks the price a buyer pays among a SKU's offers: only lists that
// apply to the buyer compete (Applies); the best by priority, then
// specificity, then price, then code wins. ok is false when no list applies.
func Resolve(offers []Offer, b Buyer) (r Resolution, ok bool) {
	var live []Offer
	for _, o := range offers {
		if applies, _ := o.List.Applies(b); applies {
			live = append(live, o)
		}
	}
	if len(live) == 0 {
		return r, false
	}
	slices.SortStableFunc(live, compareOffers)
	r.Winner, r.Beaten = live[0], live[1:]
	r.Rule = explain(r.Winner, r.Beaten)
	return r, true
}

// describe words an offer's list: "member tier gold list gold-hkd (priority 20)".
func describe(o Offer) string {
	var b strings.Builder
	if len(o.List.Tiers) > 0 {
		fmt.Fprintf(&b, "member tier %s ", strings.Join(o.List.Tiers, "/"))
	}
	if len(o.List.SalesChannels) > 0 {
		fmt.Fprintf(&b, "sales channel %s ", strings.Join(o.List.SalesChannels, "/"))
	}
	if o.List.StartsAt != nil || o.List.EndsAt != nil {
		b.WriteString("scheduled ")
	}
	fmt.Fprintf(&b, "list %s (priority %d)", o.List.Code, o.List.Priority)
	return b.String()
}

func explain(w Offer, beaten []Offer) string {
	if len(beaten) == 0 {
		return describe(w) + " is the only list that prices this SKU for this buyer"
	}
	parts := make([]string, len(beaten))
	for i, l := range beaten {
		parts[i] = l.List.Code + " (" + lostBy(w, l) + ")"
	}
	return describe(w) + " beat " + strings.Join(parts, ", ")
}

// lostBy words why loser came after winner.
func lostBy(w, loser Offer) string {
	p := fmt.Sprintf("priority %d", loser.List.Priority)
	switch {
	case loser.List.Priority != w.List.Priority:
		return p
	case loser.specificity() != w.specificity():
		return p + ", less specific"
	case loser.Amount != w.Amount:
		return fmt.Sprintf("%s, dearer at %d", p, loser.Amount)
	}
	return p + ", same price, code sorts later"
}
