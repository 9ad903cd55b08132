package ingest

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/customer"
	"github.com/omo-platform/omo/internal/location"
	"github.com/omo-platform/omo/internal/money"
	"github.com/omo-platform/omo/internal/sqldb"
	"github.com/omo-platform/omo/internal/transaction"
)

// rowMapper turns rows into OMO items with a mapping.
type rowMapper struct {
	m   Mapping
	loc *time.Location
	sep byte
}

func newRowMapper(m Mapping) (*rowMapper, error) {
	loc := time.UTC
	if m.TimeZone != "" {
		var err error
		if loc, err = location.Zone(m.TimeZone); err != nil {
			return nil, err
		}
	}
	sep := byte('.')
	if m.DecimalSeparator == "," {
		sep = ','
	}
	return &rowMapper{m: m, loc: loc, sep: sep}, nil
}

var birthdayPattern = regexp.MustCompile(`^([0-9]{4}|-)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$`)

// identity reads a customer's identifiers and traits from the fields under
// prefix ("" for customer imports, "customer." for transactions).
func (r *rowMapper) identity(row Row, prefix string) (customer.IdentifierInput, customer.Traits, error) {
	var in customer.IdentifierInput
	var tr customer.Traits
	for name := range r.m.Fields {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		v, err := r.m.value(row, name)
		if err != nil || v == "" {
			if err != nil {
				return in, tr, err
			}
			continue
		}
		f := strings.TrimPrefix(name, prefix)
		switch {
		case f == "email":
			in.Email = v
		case f == "phone":
			in.Phone = v
		case f == "card_number":
			in.CardNumber = v
		case strings.HasPrefix(f, "external."):
			in.External = append(in.External, customer.ExternalID{Type: strings.TrimPrefix(f, "external."), Value: v})
		case strings.HasPrefix(f, "attributes."):
			if tr.Attributes == nil {
				tr.Attributes = map[string]any{}
			}
			tr.Attributes[strings.TrimPrefix(f, "attributes.")] = v
		case strings.HasPrefix(f, "traits."):
			if err := setTrait(&tr, strings.TrimPrefix(f, "traits."), v); err != nil {
				return in, tr, err
			}
		}
	}
	return in, tr, nil
}

func setTrait(tr *customer.Traits, name, v string) error {
	if len(v) > 200 {
		return fmt.Errorf("traits.%s is longer than 200 bytes", name)
	}
	switch name {
	case "first_name":
		tr.FirstName = &v
	case "last_name":
		tr.LastName = &v
	case "gender":
		tr.Gender = &v
	case "birthday":
		if !birthdayPattern.MatchString(v) {
			return fmt.Errorf("traits.birthday %q is not YYYY-MM-DD or --MM-DD", v)
		}
		tr.Birthday = &v
	case "locale":
		tr.Locale = &v
	case "home_location":
		tr.HomeLocation = &v
	default:
		return fmt.Errorf("traits.%s is not a trait; use attributes.%s for free-form values", name, name)
	}
	return nil
}

// customerRow maps a row of a customers import.
func (r *rowMapper) customerRow(row Row) (sqldb.IdentifyParams, error) {
	in, tr, err := r.identity(row, "")
	if err != nil {
		return sqldb.IdentifyParams{}, err
	}
	if in.Empty() {
		return sqldb.IdentifyParams{}, fmt.Errorf("has no identifier (every mapped identifier column is empty)")
	}
	return sqldb.IdentifyParams{Identifiers: in, Traits: tr, Source: r.m.Source}, nil
}

// saleRow is one row of a transactions import, mapped.
type saleRow struct {
	key    string // which receipt it belongs to
	params sqldb.RecordParams
	line   transaction.Line
}

// fieldGetter reads fields of one row and keeps the first error.
type fieldGetter struct {
	m   Mapping
	row Row
	err error
}

func (g *fieldGetter) get(f string) string {
	v, err := g.m.value(g.row, f)
	if err != nil && g.err == nil {
		g.err = err
	}
	return v
}

// transactionRow maps a row of a transactions import: the receipt it belongs
// to and its line, checked on its own so that one bad line is rejected alone.
func (r *rowMapper) transactionRow(row Row) (saleRow, error) {
	g := &fieldGetter{m: r.m, row: row}
	var s saleRow
	p := sqldb.RecordParams{Kind: transaction.KindPurchase, ReceiptNumber: strings.TrimSpace(g.get("receipt_number")), Register: g.get("register"),
		LocationCode: g.get("location"), SalesChannelCode: g.get("sales_channel"), ExternalID: g.get("external_id"),
		AssociateID: g.get("associate_id"), Source: r.m.Source, TaxInclusive: true}
	currency, occurred := g.get("currency"), g.get("occurred_at")
	if g.err != nil {
		return s, g.err
	}
	cur, ok := money.NormalizeCurrency(currency)
	if !ok {
		return s, fmt.Errorf("currency %q is not an ISO 4217 code", currency)
	}
	p.Currency = cur
	var err error
	if p.OccurredAt, err = parseTime(occurred, r.m.TimeFormat, r.loc); err != nil {
		return s, fmt.Errorf("occurred_at %w", err)
	}
	line, negative, err := r.line(g, money.Digits(cur))
	if err != nil {
		return s, err
	}
	rr := r.m.Returns
	isReturn := rr != nil && rr.ReceiptPrefix != "" && strings.HasPrefix(p.ReceiptNumber, rr.ReceiptPrefix)
	if negative && !isReturn {
		if rr == nil || !rr.NegativeQuantity {
			return s, fmt.Errorf("quantity -%d is negative on a sale (a stock adjustment?); set returns.negative_quantity in the mapping if negative quantities mark returns", line.Quantity)
		}
		isReturn = true
	}
	if isReturn {
		p.Kind = transaction.KindReturn
	}
	in, tr, err := r.identity(row, "customer.")
	if err != nil {
		return s, err
	}
	if !in.Empty() {
		p.Customer = &sqldb.IdentifyParams{Identifiers: in, Traits: tr, Source: r.m.Source}
	}
	s.params, s.line = p, line
	s.key = strings.Join([]string{p.Kind, p.SalesChannelCode, p.LocationCode, p.Register, p.ReceiptNumber, p.ExternalID}, "\x1f")
	return s, nil
}

// line reads a row's line; a negative quantity comes back positive with
// isReturn set.
func (r *rowMapper) line(g *fieldGetter, digits int) (transaction.Line, bool, error) {
	l := transaction.Line{SKU: strings.TrimSpace(g.get("sku")), Name: strings.TrimSpace(g.get("name")), Category: g.get("category")}
	qty := g.get("quantity")
	if g.err != nil {
		return l, false, g.err
	}
	q, err := parseQuantity(qty)
	if err != nil {
		return l, false, fmt.Errorf("quantity %w", err)
	}
	isReturn := q < 0
	if isReturn {
		q = -q
	}
	l.Quantity = q
	amounts := []struct {
		field string
		dst   *int64
	}{{"unit_price", &l.UnitPrice}, {"discount", &l.Discount}, {"tax", &l.Tax}}
	for _, a := range amounts {
		v := g.get(a.field)
		if v == "" {
			continue
		}
		if *a.dst, err = parseMinor(v, digits, r.sep); err != nil {
			return l, false, fmt.Errorf("%s %w", a.field, err)
		}
	}
	if _, err := transaction.Compute([]transaction.Line{l}, true, "line"); err != nil {
		return l, false, lineError(err)
	}
	return l, isReturn, nil
}

// lineError words a line's validation error for a rejection report.
func lineError(err error) error {
	msg := err.Error()
	if e, ok := apperr.As(err); ok && len(e.Fields) > 0 {
		f := e.Fields[0]
		msg = strings.TrimPrefix(f.Location, "line[0].") + " " + fmt.Sprint(f.Value) + ": must be " + f.Message
	}
	return fmt.Errorf("%s", msg)
}
