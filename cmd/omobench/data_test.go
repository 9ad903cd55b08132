package main

import (
	"os"
	"testing"

	"github.com/omo-platform/omo/internal/customer"
	"github.com/omo-platform/omo/internal/tenant"
)

func TestCustomerSpec_IdentifiersAreValidAndKept(t *testing.T) {
	t.Parallel()
	retail := []retailCustomer{{ID: "17850", Country: "United Kingdom"}}
	country := tenant.DefaultSettings().DefaultCountry
	for idx := 0; idx < maxCustomers; idx += 7919 {
		for _, i := range []int{idx, min(idx+1, maxCustomers-1)} {
			s := customerSpec(i, retail)
			claims, ignored, err := customer.NormalizeIdentifiers(s.identifiers(false), country)
			if err != nil || len(ignored) != 0 {
				t.Fatalf("customer %d %+v: ignored %+v, err %v", i, s, ignored, err)
			}
			for _, c := range claims {
				if c.Type == customer.TypeEmail && c.Value != s.Email || c.Type == customer.TypePhone && c.Value != s.Phone {
					t.Fatalf("customer %d: %s normalised to %q, want it unchanged", i, c.Type, c.Value)
				}
			}
		}
	}
	if got := customerSpec(0, retail).POS; got != "17850" {
		t.Errorf("customer 0 POS id = %q, want 17850", got)
	}
	if got := customerSpec(1, retail).POS; got != "" {
		t.Errorf("customer 1 POS id = %q, want none", got)
	}
}

func TestPhone_Distinct(t *testing.T) {
	t.Parallel()
	for _, pair := range [][2]int{{0, 1_000_000}, {999_999, 1_000_000}, {1_999_999, 2_000_000}, {0, maxCustomers - 1}} {
		if phone(pair[0]) == phone(pair[1]) {
			t.Errorf("phone(%d) == phone(%d) == %s", pair[0], pair[1], phone(pair[0]))
		}
	}
}

func TestLoadRetail_OnlineRetail(t *testing.T) {
	t.Parallel()
	const path = "/work/shared/data/online_retail.csv.gz"
	if testing.Short() {
		t.Skip("reads a 7.6 MB file")
	}
	if _, err := os.Stat(path); err != nil {
		t.Skip("data set absent")
	}
	got, err := loadRetail(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4372 {
		t.Errorf("distinct CustomerIDs = %d, want 4372", len(got))
	}
	if got[0].ID != "17850" || got[0].Country != "United Kingdom" {
		t.Errorf("first customer = %+v, want 17850 in United Kingdom", got[0])
	}
}

func TestLoadRetail_MissingFileGivesNone(t *testing.T) {
	t.Parallel()
	got, err := loadRetail(t.TempDir() + "/absent.csv.gz")
	if err != nil || len(got) != 0 {
		t.Errorf("loadRetail(absent) = %d customers, %v; want none, nil", len(got), err)
	}
}
