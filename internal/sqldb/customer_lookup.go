package sqldb

import (
	"context"
	"fmt"
	"time"

	"github.com/omo-platform/omo/internal/customer"
)

// lookupProfile reads the profile an identifier names in one statement: the
// customer row, then its merge group's consents, then its identifiers, as
// rows of one shape (kind, twelve texts, three times). The customer comes
// first because SQLite types a compound select's columns by its leftmost
// select: its timestamp columns make the driver read every row's times.
// CROSS JOIN keeps SQLite's join order (the one identifier first), which
// without statistics scanned the tenant's customers for the consents.
const lookupProfile = `WITH hit AS (
		SELECT customer_id FROM customer_identifiers
		WHERE tenant_id = $1 AND type = $2 AND value = $3 AND customer_id > $4)
	SELECT 2, c.tenant_id, c.id, c.survivor_id, c.merged_into, c.first_name, c.last_name, c.gender, c.birthday,
		c.locale, c.home_location, c.attributes, c.trait_sources, c.created_at, c.updated_at, c.erased_at
	FROM hit CROSS JOIN customers c WHERE c.tenant_id = $1 AND c.id = hit.customer_id
	UNION ALL
	SELECT 1, k.id, k.customer_id, k.message_channel, k.purpose, k.status, k.source, k.evidence,
		NULL, NULL, NULL, NULL, NULL, k.occurred_at, k.recorded_at, NULL
	FROM hit CROSS JOIN customers m CROSS JOIN customer_consents k
	WHERE m.tenant_id = $1 AND m.survivor_id = hit.customer_id AND k.tenant_id = $1 AND k.customer_id = m.id
	UNION ALL
	SELECT 0, i.type, i.value, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, i.created_at, NULL, NULL
	FROM hit CROSS JOIN customer_identifiers i WHERE i.tenant_id = $1 AND i.customer_id = hit.customer_id`

// findByIdentifier is the lookup a POS or web shop makes at every visit: an
// identifier names at most one customer, always a live one (a merge moves
// identifiers to the survivor), so the whole profile comes in one statement
// (lookupProfile) where it took two.
func (db *DB) findByIdentifier(ctx context.Context, f CustomerFilter, ident customer.Identifier) ([]*Profile, error) {
	if f.Limit < 1 {
		return []*Profile{}, nil
	}
	rows, err := db.readPoint().Query(ctx, lookupProfile, f.TenantID, ident.Type, ident.Value, f.After)
	if err != nil {
		return nil, fmt.Errorf("sqldb: find customer: %w", err)
	}
	defer rows.Close()
	var c *customer.Customer
	var parts profileParts
	for rows.Next() {
		var r lookupRow
		if err := rows.Scan(r.fields()...); err != nil {
			return nil, fmt.Errorf("sqldb: find customer: %w", err)
		}
		switch r.kind {
		case 2:
			if c, err = r.customer(); err != nil {
				return nil, err
			}
		case 1:
			parts.history = append(parts.history, r.consent())
		default:
			parts.identifier(r.str(0), r.str(1), r.at(0))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqldb: find customer: %w", err)
	}
	if c == nil {
		return []*Profile{}, nil
	}
	return []*Profile{parts.profile(c, c.ID)}, nil
}

// lookupRow is one row of lookupProfile.
type lookupRow struct {
	kind  int
	texts [12]*string
	times [3]*time.Time
}

func (r *lookupRow) fields() []any {
	f := make([]any, 0, 16)
	f = append(f, &r.kind)
	for i := range r.texts {
		f = append(f, &r.texts[i])
	}
	for i := range r.times {
		f = append(f, &r.times[i])
	}
	return f
}

func (r *lookupRow) str(i int) string {
	if r.texts[i] == nil {
		return ""
	}
	return *r.texts[i]
}

func (r *lookupRow) at(i int) time.Time {
	if r.times[i] == nil {
		return time.Time{}
	}
	return *r.times[i]
}

func (r *lookupRow) customer() (*customer.Customer, error) {
	c := &customer.Customer{TenantID: r.str(0), ID: r.str(1), SurvivorID: r.str(2),
		CreatedAt: r.at(0), UpdatedAt: r.at(1), ErasedAt: r.times[2]}
	t := &c.Traits
	t.FirstName, t.LastName, t.Gender, t.Birthday, t.Locale, t.HomeLocation = r.texts[4], r.texts[5], r.texts[6], r.texts[7], r.texts[8], r.texts[9]
	return c, decodeCustomerJSON(c, r.texts[3], r.str(10), r.str(11))
}

func (r *lookupRow) consent() customer.Consent {
	return customer.Consent{ID: r.str(0), CustomerID: r.str(1), MessageChannel: r.str(2), Purpose: r.str(3),
		Status: r.str(4), Source: r.str(5), Evidence: r.str(6), OccurredAt: r.at(0), RecordedAt: r.at(1)}
}
