package sqldb

import (
	"context"
	"time"

	"github.com/omo-platform/omo/internal/customer"
)

// CustomerUpdate changes a customer's traits. Identifiers change through
// Identify, where matching and merging rules apply.
type CustomerUpdate struct {
	Traits customer.Traits
	Source string
	Actor
}

// UpdateCustomer applies traits to the customer an id resolves to, with the
// same source priority rules as Identify, and audits what changed.
func (db *DB) UpdateCustomer(ctx context.Context, tenantID, customerID string, u CustomerUpdate) (*Profile, error) {
	t, err := db.tenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var out *Profile
	err = db.WriteTx(ctx, func(tx *Tx) error {
		p, err := findProfile(ctx, tx, tenantID, customerID)
		if err != nil {
			return err
		}
		if p.ErasedAt != nil {
			return erasedError(p.ID)
		}
		c := p.Customer
		changes, err := applyTraits(ctx, tx, t, &c, u.Traits, u.Source, false)
		if err != nil {
			return err
		}
		if len(changes) > 0 {
			if err := writeAudit(ctx, tx, tenantID, c.ID, "updated", changes, u.Actor); err != nil {
				return err
			}
		}
		out, err = findProfile(ctx, tx, tenantID, c.ID)
		return err
	})
	return out, err
}

// Export is everything OMO holds about a person, for a subject access request.
type Export struct {
	Profile      *Profile                        `json:"-"`
	TraitSources map[string]customer.TraitSource `json:"trait_sources"`
	Consents     []customer.Consent              `json:"consent_history"`
	Merges       []Merge                         `json:"merges"`
	Audit        []AuditEntry                    `json:"audit_log"`
	MergedIDs    []string                        `json:"merged_customer_ids"`
	ExportedAt   time.Time                       `json:"exported_at"`
}

// ExportCustomer gathers everything held about the person an id resolves to.
func (db *DB) ExportCustomer(ctx context.Context, tenantID, customerID string) (*Export, error) {
	p, err := db.FindCustomerByID(ctx, tenantID, customerID)
	if err != nil {
		return nil, err
	}
	e := &Export{Profile: p, TraitSources: p.TraitSources, ExportedAt: db.Now()}
	if e.Consents, err = consentHistory(ctx, db.Read(), tenantID, p.ID); err != nil {
		return nil, err
	}
	if e.Merges, err = db.FindMerges(ctx, tenantID, p.ID); err != nil {
		return nil, err
	}
	if e.Audit, err = db.FindAuditEntries(ctx, AuditFilter{TenantID: tenantID, CustomerID: p.ID, Limit: 100000}); err != nil {
		return nil, err
	}
	ids, err := groupIDs(ctx, db.Read(), tenantID, p.ID)
	for _, g := range ids {
		if g != p.ID {
			e.MergedIDs = append(e.MergedIDs, g)
		}
	}
	return e, err
}
