package catalog

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	march     = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	saleStart = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	saleEnd   = time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)
)

func list(code string, priority int, edit ...func(*PriceList)) PriceList {
	l := PriceList{Code: code, Name: code, Currency: "HKD", Priority: priority, Status: ListActive}
	for _, e := range edit {
		e(&l)
	}
	return l
}

func channels(cs ...string) func(*PriceList) { return func(l *PriceList) { l.SalesChannels = cs } }
func tiers(ts ...string) func(*PriceList)    { return func(l *PriceList) { l.Tiers = ts } }
func between(from, to time.Time) func(*PriceList) {
	return func(l *PriceList) { l.StartsAt, l.EndsAt = &from, &to }
}
func currency(c string) func(*PriceList) { return func(l *PriceList) { l.Currency = c } }

func TestResolve(t *testing.T) {
	t.Parallel()
	base := Offer{List: list("base-hkd", 0), Amount: 9900}
	web := Offer{List: list("web-hkd", 10, channels("web")), Amount: 9500}
	gold := Offer{List: list("gold-hkd", 20, tiers("gold")), Amount: 8900}
	sale := Offer{List: list("spring-sale", 10, between(saleStart, saleEnd)), Amount: 7900, CompareAt: 9900}
	usd := Offer{List: list("base-usd", 50, currency("USD")), Amount: 1299}
	off := Offer{List: list("old", 99, func(l *PriceList) { l.Status = ListInactive }), Amount: 100}
	guestWeb := Buyer{SalesChannel: "web", Currency: "HKD", At: march}
	cases := []struct {
		name   string
		offers []Offer
		buyer  Buyer
		want   string // winning code; "" for none
		rule   string // a part of the rule
	}{
		{"only the base list", []Offer{base}, guestWeb, "base-hkd", "list base-hkd (priority 0) is the only list"},
		{"channel list beats base by priority", []Offer{base, web}, guestWeb, "web-hkd", "sales channel web list web-hkd (priority 10) beat base-hkd (priority 0)"},
		{"channel list not for the POS", []Offer{base, web}, Buyer{SalesChannel: "pos", Currency: "HKD", At: march}, "base-hkd", ""},
		{"no channel asked: only lists for any channel", []Offer{base, web}, Buyer{Currency: "HKD", At: march}, "base-hkd", ""},
		{"gold member gets the tier list", []Offer{base, web, gold}, Buyer{SalesChannel: "web", Currency: "HKD", Tier: "gold", At: march}, "gold-hkd",
			"member tier gold list gold-hkd (priority 20) beat web-hkd (priority 10), base-hkd (priority 0)"},
		{"silver member does not", []Offer{base, web, gold}, Buyer{SalesChannel: "web", Currency: "HKD", Tier: "silver", At: march}, "web-hkd", ""},
		{"guest does not", []Offer{base, gold}, Buyer{Currency: "HKD", At: march}, "base-hkd", ""},
		{"sale in its window, same priority, more specific than nothing", []Offer{sale, Offer{List: list("std", 10), Amount: 9900}}, guestWeb, "spring-sale",
			"beat std (priority 10, less specific)"},
		{"sale before it starts", []Offer{base, sale}, Buyer{Currency: "HKD", At: saleStart.Add(-time.Second)}, "base-hkd", ""},
		{"sale at its start", []Offer{base, sale}, Buyer{Currency: "HKD", At: saleStart}, "spring-sale", ""},
		{"sale at its end (exclusive)", []Offer{base, sale}, Buyer{Currency: "HKD", At: saleEnd}, "base-hkd", ""},
		{"other currency never competes", []Offer{base, usd}, guestWeb, "base-hkd", ""},
		{"only another currency", []Offer{usd}, guestWeb, "", ""},
		{"inactive list never competes", []Offer{base, off}, guestWeb, "base-hkd", ""},
		{"same priority and specificity: cheaper wins", []Offer{{List: list("a", 5), Amount: 900}, {List: list("b", 5), Amount: 800}}, guestWeb, "b",
			"beat a (priority 5, dearer at 900)"},
		{"full tie: code order", []Offer{{List: list("b", 5), Amount: 800}, {List: list("a", 5), Amount: 800}}, guestWeb, "a",
			"beat b (priority 5, same price, code sorts later)"},
		{"priority beats a lower price", []Offer{{List: list("cheap", 1), Amount: 100}, {List: list("brand", 2), Amount: 900}}, guestWeb, "brand", ""},
		{"no offers", nil, guestWeb, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, ok := Resolve(tc.offers, tc.buyer)
			if tc.want == "" {
				if ok {
					t.Fatalf("want no price, got %s (%s)", r.Winner.List.Code, r.Rule)
				}
				return
			}
			if !ok || r.Winner.List.Code != tc.want {
				t.Fatalf("want %s, got ok=%v %s (%s)", tc.want, ok, r.Winner.List.Code, r.Rule)
			}
			if !strings.Contains(r.Rule, tc.rule) {
				t.Errorf("rule %q does not say %q", r.Rule, tc.rule)
			}
		})
	}
}

// applicable is the property's own statement of when a list may price for
// a buyer, written apart from Applies.
func applicable(l PriceList, b Buyer) bool {
	if l.Status != ListActive || l.Currency != b.Currency {
		return false
	}
	if len(l.SalesChannels) > 0 && !slices.Contains(l.SalesChannels, b.SalesChannel) {
		return false
	}
	if len(l.Tiers) > 0 && !slices.Contains(l.Tiers, b.Tier) {
		return false
	}
	if l.StartsAt != nil && l.StartsAt.After(b.At) {
		return false
	}
	return l.EndsAt == nil || l.EndsAt.After(b.At)
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func randomOffer(r *rand.Rand, i int) Offer {
	l := PriceList{Code: fmt.Sprintf("l%02d", i), Currency: pick(r, []string{"HKD", "HKD", "USD"}), Priority: r.IntN(4),
		Status: pick(r, []string{ListActive, ListActive, ListActive, ListInactive})}
	if r.IntN(2) == 0 {
		l.SalesChannels = []string{pick(r, []string{"web", "pos", "app"})}
	}
	if r.IntN(3) == 0 {
		l.Tiers = []string{pick(r, []string{"gold", "silver"})}
	}
	if r.IntN(3) == 0 {
		s := march.Add(time.Duration(r.IntN(48)-24) * time.Hour)
		l.StartsAt = &s
	}
	if r.IntN(3) == 0 {
		e := march.Add(time.Duration(r.IntN(48)-24) * time.Hour)
		l.EndsAt = &e
	}
	return Offer{List: l, Amount: int64(r.IntN(5)) * 100}
}

// TestResolve_Property: over random lists and buyers, Resolve finds a price
// exactly when an applicable list exists, the winner is always applicable,
// no applicable list has a higher priority, and every other applicable list
// is among those it beat.
func TestResolve_Property(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 2026))
	for round := range 20000 {
		offers := make([]Offer, r.IntN(7))
		for i := range offers {
			offers[i] = randomOffer(r, i)
		}
		b := Buyer{SalesChannel: pick(r, []string{"", "web", "pos"}), Currency: pick(r, []string{"HKD", "USD"}),
			Tier: pick(r, []string{"", "gold", "silver"}), At: march.Add(time.Duration(r.IntN(48)-24) * time.Hour)}
		var live []Offer
		for _, o := range offers {
			if applicable(o.List, b) {
				live = append(live, o)
			}
		}
		res, ok := Resolve(offers, b)
		if ok != (len(live) > 0) {
			t.Fatalf("round %d: ok=%v with %d applicable lists", round, ok, len(live))
		}
		if !ok {
			continue
		}
		if !applicable(res.Winner.List, b) {
			t.Fatalf("round %d: winner %+v does not apply to %+v", round, res.Winner.List, b)
		}
		for _, o := range live {
			if o.List.Priority > res.Winner.List.Priority {
				t.Fatalf("round %d: %s (priority %d) lost to %s (priority %d)", round, o.List.Code, o.List.Priority,
					res.Winner.List.Code, res.Winner.List.Priority)
			}
		}
		if len(res.Beaten) != len(live)-1 {
			t.Fatalf("round %d: beat %d of %d other applicable lists", round, len(res.Beaten), len(live)-1)
		}
		for _, o := range res.Beaten {
			if !applicable(o.List, b) || !strings.Contains(res.Rule, o.List.Code) {
				t.Fatalf("round %d: beaten %s not applicable or not in the rule %q", round, o.List.Code, res.Rule)
			}
		}
	}
}

func TestPriceList_Validate(t *testing.T) {
	t.Parallel()
	ok := list("web-hkd", 10, channels("web"), tiers("gold"), between(saleStart, saleEnd))
	ok.Currency = "hkd"
	if err := ok.Validate("body"); err != nil || ok.Currency != "HKD" {
		t.Fatalf("valid list: %v (currency %q)", err, ok.Currency)
	}
	bad := list("web hkd", MaxPriority+1, channels("web", "web"), between(saleEnd, saleStart))
	bad.Currency, bad.Name, bad.Status = "HKX", "", "paused"
	got := locations(bad.Validate("body"))
	for _, want := range []string{"body.code", "body.name", "body.currency", "body.sales_channels[1]", "body.ends_at", "body.priority", "body.status"} {
		if !slices.Contains(got, want) {
			t.Errorf("no error at %s: %v", want, got)
		}
	}
	p := Price{SKU: "A1", Amount: 9900, CompareAt: 9900}
	if !slices.Contains(locations(p.Validate("body")), "body.compare_at") {
		t.Error("compare_at equal to the amount accepted")
	}
	p = Price{SKU: "A1", Amount: -1}
	if !slices.Contains(locations(p.Validate("body")), "body.amount") {
		t.Error("negative amount accepted")
	}
}
