package ingest

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/location"
	"github.com/omo-platform/omo/internal/money"
)

// Import kinds and file formats.
const (
	KindCustomers    = "customers"
	KindTransactions = "transactions"
	KindEvents       = "events"
	KindProducts     = "products" // one row per variant; rows of a product share its handle
	KindPrices       = "prices"   // one row per SKU and price list
	FormatCSV        = "csv"
	FormatJSONL      = "jsonl"
)

// Mapping tells how a file's columns become OMO fields. It is JSON, saved
// per tenant under a name and reused by later imports and sFTP folders.
type Mapping struct {
	Kind      string `json:"kind" doc:"customers, transactions, events, products or prices"`
	Format    string `json:"format,omitempty" doc:"csv (default) or jsonl"`
	Delimiter string `json:"delimiter,omitempty" doc:"one character; default ','; use \\t for tabs"`
	// TimeFormat is a Go time layout (2006-01-02 15:04:05) or rfc3339; times
	// without an offset are read in TimeZone.
	TimeFormat string `json:"time_format,omitempty"`
	TimeZone   string `json:"time_zone,omitempty" doc:"IANA zone for times written without an offset"`
	// DecimalSeparator is how amounts write their fraction: "." or ",".
	DecimalSeparator string `json:"decimal_separator,omitempty"`
	// Fields maps an OMO field to where its value comes from.
	Fields map[string]Source `json:"fields"`
	// Returns says how a transaction row is recognised as a return.
	Returns *ReturnRule `json:"returns,omitempty"`
	// Customer names the identifier column(s) of the customer of a row.
	Source string `json:"source,omitempty" doc:"the sending system, for trait priority (default import)"`
}

// Source is a column of the file, or a constant.
type Source struct {
	Column string `json:"column,omitempty"`
	Value  string `json:"value,omitempty" doc:"a constant used when there is no column, or when the column is empty"`
	// As reads the column: "integer" turns 17850.0 into 17850.
	As string `json:"as,omitempty" enum:"integer,"`
}

// ReturnRule recognises returns among transaction rows.
type ReturnRule struct {
	ReceiptPrefix    string `json:"receipt_prefix,omitempty" doc:"a receipt number starting with it is a return (e.g. C)"`
	NegativeQuantity bool   `json:"negative_quantity,omitempty" doc:"a negative quantity is a returned line"`
}

// Fields each kind understands. Prefix fields (ending in ".") take any name
// after the dot: customer.external.pos, traits.first_name, attributes.country.
var kindFields = map[string][]string{
	KindCustomers: {"email", "phone", "card_number", "external.", "traits.", "attributes."},
	KindTransactions: {"receipt_number", "register", "location", "sales_channel", "occurred_at", "currency", "external_id",
		"sku", "name", "category", "quantity", "unit_price", "discount", "tax", "associate_id",
		"customer.email", "customer.phone", "customer.card_number", "customer.external.", "customer.traits.", "customer.attributes."},
	KindEvents: {"type", "name", "timestamp", "message_id", "user_id", "anonymous_id", "properties", "properties.", "traits", "traits.", "sales_channel"},
	KindProducts: {"product", "sku", "barcode", "status", "variant_status", "categories", "images", "variant_images", "gift_card", "tax_code",
		"options", "name.", "description.", "option.", "attributes.", "variant_attributes."},
	KindPrices: {"price_list", "sku", "amount", "compare_at"},
}

// required fields per kind (a constant counts).
var kindRequired = map[string][]string{
	KindTransactions: {"receipt_number", "sales_channel", "occurred_at", "sku", "quantity", "unit_price", "currency"},
	KindEvents:       {"timestamp"},
	KindProducts:     {"product", "sku"},
	KindPrices:       {"price_list", "sku", "amount"},
}

// Validate checks a mapping and fills its defaults; field errors are named
// under "mapping".
func (m *Mapping) Validate() error { return m.ValidateAt("mapping") }

// ValidateAt is Validate with field errors named under base.
func (m *Mapping) ValidateAt(base string) error {
	var fields []apperr.FieldError
	bad := func(loc, msg string, v any) {
		fields = append(fields, apperr.FieldError{Location: base + "." + loc, Message: msg, Value: v})
	}
	known, ok := kindFields[m.Kind]
	if !ok {
		bad("kind", "customers, transactions, events, products or prices", m.Kind)
	}
	switch m.Format {
	case "":
		m.Format = FormatCSV
	case FormatCSV, FormatJSONL:
	default:
		bad("format", "csv or jsonl", m.Format)
	}
	if d := m.Delimiter; d != "" && d != `\t` && len([]rune(d)) != 1 {
		bad("delimiter", "one character (or \\t)", d)
	} else if d == "\"" || d == "\n" || d == "\r" {
		bad("delimiter", "a quote or a line break cannot separate fields", d)
	}
	if m.TimeZone != "" {
		if _, err := time.LoadLocation(m.TimeZone); err != nil || m.TimeZone == "Local" {
			bad("time_zone", "an IANA time zone such as Europe/London", m.TimeZone)
		}
	}
	if ds := m.DecimalSeparator; ds != "" && ds != "." && ds != "," {
		bad("decimal_separator", `"." or ","`, ds)
	}
	if len(m.Fields) == 0 {
		bad("fields", "map at least one field to a column or a constant", nil)
	}
	for name, src := range m.Fields {
		if ok && !fieldKnown(known, name) {
			bad("fields."+name, "not a field of "+m.Kind+" imports; known: "+strings.Join(known, ", "), name)
		}
		if src.Column == "" && src.Value == "" {
			bad("fields."+name, "give a column or a value", nil)
		}
		if src.As != "" && src.As != "integer" {
			bad("fields."+name+".as", `only "integer" is known`, src.As)
		}
	}
	for _, req := range kindRequired[m.Kind] {
		if _, ok := m.Fields[req]; !ok {
			bad("fields."+req, "required for "+m.Kind+" imports", nil)
		}
	}
	if c, ok := m.Fields["currency"]; ok && c.Column == "" {
		if _, valid := money.NormalizeCurrency(c.Value); !valid {
			bad("fields.currency.value", "an ISO 4217 currency code", c.Value)
		}
	}
	if sc, ok := m.Fields["sales_channel"]; ok && sc.Column == "" && !location.ValidCode(sc.Value) {
		bad("fields.sales_channel.value", "a sales channel code", sc.Value)
	}
	if _, u := m.Fields["user_id"]; m.Kind == KindEvents && !u {
		if _, a := m.Fields["anonymous_id"]; !a {
			bad("fields", "map user_id or anonymous_id: every event belongs to someone", nil)
		}
	}
	if m.Kind == KindCustomers && !hasIdentifierField(m.Fields, "") {
		bad("fields", "map at least one identifier: email, phone, card_number or external.<type>", nil)
	}
	if m.Source == "" {
		m.Source = "import"
	}
	sort.Slice(fields, func(i, j int) bool { return fields[i].Location < fields[j].Location })
	if len(fields) > 0 {
		return &apperr.Error{Kind: apperr.Invalid, Message: "the mapping is not valid", Fields: fields}
	}
	return nil
}

func fieldKnown(known []string, name string) bool {
	for _, k := range known {
		if k == name || strings.HasSuffix(k, ".") && strings.HasPrefix(name, k) && len(name) > len(k) {
			return true
		}
	}
	return false
}

func hasIdentifierField(fs map[string]Source, prefix string) bool {
	for name := range fs {
		n := strings.TrimPrefix(name, prefix)
		if n == "email" || n == "phone" || n == "card_number" || strings.HasPrefix(n, "external.") {
			return true
		}
	}
	return false
}

func (m Mapping) delimiter() rune {
	switch m.Delimiter {
	case "":
		return ','
	case `\t`:
		return '\t'
	}
	r := []rune(m.Delimiter)
	return r[0]
}

// value reads field f of a row: the column's value, the constant when the
// column is absent or empty, "" when the mapping has no such field.
func (m Mapping) value(row Row, f string) (string, error) {
	src, ok := m.Fields[f]
	if !ok {
		return "", nil
	}
	v := ""
	if src.Column != "" {
		var present bool
		// A CSV row has every column of the header; a JSON Lines record
		// simply leaves out what it does not have.
		if v, present = row.Values[src.Column]; !present && src.Value == "" && m.Format != FormatJSONL {
			return "", fmt.Errorf("has no column %q (field %s)", src.Column, f)
		}
	}
	if strings.TrimSpace(v) == "" {
		v = src.Value
	}
	if src.As == "integer" && v != "" {
		return asInteger(v, f)
	}
	return v, nil
}

// asInteger reads "17850", "17850.0" or "17850.00" as "17850".
func asInteger(v, f string) (string, error) {
	s := strings.TrimSpace(v)
	if i := strings.IndexByte(s, '.'); i >= 0 {
		if strings.Trim(s[i+1:], "0") != "" {
			return "", fmt.Errorf("%s %q is not a whole number", f, v)
		}
		s = s[:i]
	}
	for _, c := range s {
		if (c < '0' || c > '9') && c != '-' {
			return "", fmt.Errorf("%s %q is not a whole number", f, v)
		}
	}
	return s, nil
}
