// Package id makes and reads OMO identifiers: UUIDv7 values, stored bare in
// the database and shown in the API with a type prefix (cus_…, key_…, ten_…)
// so that a pasted id says what it is.
package id

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/omo-platform/omo/internal/apperr"
)

// Prefixes of the public forms.
const (
	Customer    = "cus"
	Key         = "key"
	Tenant      = "ten"
	Merge       = "mrg"
	Consent     = "cst"
	Audit       = "aud"
	Location    = "loc"
	Channel     = "sch" // sales channel
	Transaction = "trn"
	Import      = "imp"
	SFTPKey     = "ssh"
	Tier        = "tir"
	Rule        = "rul"
	Entry       = "lye" // loyalty ledger entry
	Reward      = "rwd"
	Redemption  = "rdm"
	Coupon      = "cpn"
	Hold        = "hld" // points held as a tender
	Referral    = "rfl"
	Cart        = "crt"
	Order       = "ord"
	Shipment    = "shp"
	Payment     = "pay"
	Return      = "ret"
	Refund      = "rfd"
	Product     = "prd"
	Variant     = "var"
	Category    = "cat"
	PriceList   = "prl"
)

// New returns a new time-ordered UUIDv7 in canonical text form.
func New() string { return uuid.Must(uuid.NewV7()).String() }

// Before returns the smallest UUIDv7 of the millisecond of t: every id New
// made before t sorts below it as text.
func Before(t time.Time) string {
	ms := uint64(t.UnixMilli())
	return fmt.Sprintf("%08x-%04x-7000-8000-000000000000", ms>>16, ms&0xffff)
}

// Format shows a stored UUID with its type prefix: cus_0190f0c2…
func Format(prefix, raw string) string {
	if raw == "" {
		return ""
	}
	return prefix + "_" + strings.ReplaceAll(raw, "-", "")
}

// Parse reads the public form of an id of the given type and returns the
// stored UUID. A bare UUID is accepted too. Malformed ids are NotFound,
// because to a client an id that cannot exist is an id that does not exist.
func Parse(prefix, public string) (string, error) {
	s := strings.TrimPrefix(public, prefix+"_")
	u, err := uuid.Parse(s)
	if err != nil {
		return "", apperr.New(apperr.NotFound, "no %s with id %q", name(prefix), public)
	}
	return u.String(), nil
}

func name(prefix string) string {
	switch prefix {
	case Customer:
		return "customer"
	case Key:
		return "API key"
	case Tenant:
		return "tenant"
	case Merge:
		return "merge"
	case Location:
		return "location"
	case Channel:
		return "sales channel"
	case Transaction:
		return "transaction"
	case Import:
		return "import"
	case SFTPKey:
		return "sFTP key"
	case Tier:
		return "tier"
	case Rule:
		return "loyalty rule"
	case Entry:
		return "ledger entry"
	case Reward:
		return "reward"
	case Redemption:
		return "redemption"
	case Coupon:
		return "coupon"
	case Hold:
		return "points hold"
	case Referral:
		return "referral"
	case Product:
		return "product"
	case Variant:
		return "variant"
	case Category:
		return "category"
	case PriceList:
		return "price list"
	}
	return "object"
}
