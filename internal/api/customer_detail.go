package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/customer"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/sqldb"
)

// AuditEntryBody is one change to a customer's data.
type AuditEntryBody struct {
	ID         string            `json:"id"`
	CustomerID string            `json:"customer_id"`
	Action     string            `json:"action" doc:"created, identified, updated, merged, merged_into, unmerged, consent_recorded, erased"`
	Changes    []customer.Change `json:"changes"`
	Actor      string            `json:"actor" doc:"key:<id> or system"`
	RequestID  string            `json:"request_id"`
	CreatedAt  time.Time         `json:"created_at"`
}

// MergeBody is one recorded merge.
type MergeBody struct {
	ID         string                `json:"id"`
	GroupID    string                `json:"group_id" doc:"merges made by one request share a group; unmerge undoes a whole group"`
	SurvivorID string                `json:"survivor_id"`
	MergedID   string                `json:"merged_id"`
	LinkedBy   []customer.Identifier `json:"linked_by" doc:"the identifiers that tied the two customers together"`
	RequestID  string                `json:"request_id"`
	Actor      string                `json:"actor"`
	CreatedAt  time.Time             `json:"created_at"`
	UndoneAt   *time.Time            `json:"undone_at,omitempty"`
}

// ExportBody is everything held about a person.
type ExportBody struct {
	Customer          CustomerBody                    `json:"customer"`
	MergedCustomerIDs []string                        `json:"merged_customer_ids"`
	TraitSources      map[string]customer.TraitSource `json:"trait_sources"`
	ConsentHistory    []ConsentBody                   `json:"consent_history"`
	Merges            []MergeBody                     `json:"merges"`
	AuditLog          []AuditEntryBody                `json:"audit_log"`
	ExportedAt        time.Time                       `json:"exported_at"`
}

type auditInput struct {
	ID string `path:"id"`
	PageParams
}

type auditOutput struct{ Body Page[AuditEntryBody] }

type unmergeInput struct {
	ID   string `path:"id"`
	Body *struct {
		MergeID string `json:"merge_id,omitempty" doc:"any merge (mrg_…) of the group to undo; default: the latest merge into this customer"`
	} `required:"false"`
}

type unmergeOutput struct {
	Body struct {
		Customer CustomerBody   `json:"customer"`
		Restored []CustomerBody `json:"restored"`
	}
}

type mergesOutput struct {
	Body struct {
		Data []MergeBody `json:"data"`
	}
}

type exportOutput struct{ Body ExportBody }

type recordConsentsInput struct {
	ID   string `path:"id"`
	Body struct {
		Consents []customer.ConsentInput `json:"consents" minItems:"1" maxItems:"20"`
	}
}

type consentsOutput struct {
	Body struct {
		Current []ConsentBody `json:"current" doc:"the latest statement per message channel and purpose"`
		History []ConsentBody `json:"history" doc:"every statement, oldest first"`
	}
}

func (s *server) customerDetailRoutes(tags []string) {
	huma.Register(s.api, huma.Operation{OperationID: "customer-audit", Method: http.MethodGet, Path: "/v1/customers/{id}/audit",
		Summary: "A customer's audit log", Tags: tags,
		Description: "Every change to the customer's data, newest first: who (API key), when, which request, and field-level before/after. " +
			"Includes the log of customers merged into this one."}, s.customerAudit)
	huma.Register(s.api, huma.Operation{OperationID: "customer-merges", Method: http.MethodGet, Path: "/v1/customers/{id}/merges",
		Summary: "Merges into a customer", Tags: tags}, s.customerMerges)
	huma.Register(s.api, huma.Operation{OperationID: "unmerge-customer", Method: http.MethodPost, Path: "/v1/customers/{id}/unmerge",
		Summary: "Undo a merge", Tags: tags,
		Description: "Restores the customers of one merge group as they were, each with its own identifiers, traits and facts. " +
			"Identifiers and trait values the survivor received after the merge stay with it."}, s.unmerge)
	huma.Register(s.api, huma.Operation{OperationID: "customer-export", Method: http.MethodGet, Path: "/v1/customers/{id}/export",
		Summary: "Export everything held about a customer", Tags: tags,
		Description: "For a data subject access request."}, s.exportCustomer)
	huma.Register(s.api, huma.Operation{OperationID: "record-consents", Method: http.MethodPost, Path: "/v1/customers/{id}/consents",
		Summary: "Record consent statements", Tags: tags, DefaultStatus: http.StatusCreated,
		Description: "Appends to the consent history; the latest statement per message channel and purpose is the current one."}, s.recordConsents)
	huma.Register(s.api, huma.Operation{OperationID: "customer-consents", Method: http.MethodGet, Path: "/v1/customers/{id}/consents",
		Summary: "A customer's consents", Tags: tags}, s.customerConsents)
}

func (s *server) customerAudit(ctx context.Context, in *auditInput) (*auditOutput, error) {
	p, cid, err := s.resolve(ctx, auth.ScopeCustomersRead, in.ID)
	if err != nil {
		return nil, err
	}
	before, err := in.after()
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	entries, err := s.db.FindAuditEntries(ctx, sqldb.AuditFilter{TenantID: p.TenantID, CustomerID: cid, Limit: in.limit() + 1, Before: before})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &auditOutput{Body: paginate(entries, in.limit(), func(e sqldb.AuditEntry) string { return e.ID }, auditBody)}, nil
}

func auditBody(e sqldb.AuditEntry) AuditEntryBody {
	return AuditEntryBody{ID: id.Format(id.Audit, e.ID), CustomerID: id.Format(id.Customer, e.CustomerID), Action: e.Action,
		Changes: e.Changes, Actor: e.Actor, RequestID: e.RequestID, CreatedAt: e.CreatedAt}
}

func mergeBody(m sqldb.Merge) MergeBody {
	linked := m.LinkedBy
	if linked == nil {
		linked = []customer.Identifier{}
	}
	return MergeBody{ID: id.Format(id.Merge, m.ID), GroupID: id.Format(id.Merge, m.GroupID), SurvivorID: id.Format(id.Customer, m.SurvivorID),
		MergedID: id.Format(id.Customer, m.MergedID), LinkedBy: linked, RequestID: m.RequestID, Actor: m.Actor,
		CreatedAt: m.CreatedAt, UndoneAt: m.UndoneAt}
}

func (s *server) customerMerges(ctx context.Context, in *customerIDInput) (*mergesOutput, error) {
	p, cid, err := s.resolve(ctx, auth.ScopeCustomersRead, in.ID)
	if err != nil {
		return nil, err
	}
	merges, err := s.db.FindMerges(ctx, p.TenantID, cid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &mergesOutput{}
	out.Body.Data = make([]MergeBody, 0, len(merges))
	for _, m := range merges {
		out.Body.Data = append(out.Body.Data, mergeBody(m))
	}
	return out, nil
}

func (s *server) unmerge(ctx context.Context, in *unmergeInput) (*unmergeOutput, error) {
	p, cid, err := s.resolve(ctx, auth.ScopeCustomersWrite, in.ID)
	if err != nil {
		return nil, err
	}
	params := sqldb.UnmergeParams{TenantID: p.TenantID, CustomerID: cid, Actor: actor(ctx, p)}
	if in.Body != nil && in.Body.MergeID != "" {
		if params.MergeID, err = id.Parse(id.Merge, in.Body.MergeID); err != nil {
			return nil, s.problem(ctx, err)
		}
	}
	res, err := s.db.Unmerge(ctx, params)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &unmergeOutput{}
	out.Body.Customer = customerBody(res.Survivor)
	for _, r := range res.Restored {
		out.Body.Restored = append(out.Body.Restored, customerBody(r))
	}
	return out, nil
}

func (s *server) exportCustomer(ctx context.Context, in *customerIDInput) (*exportOutput, error) {
	p, cid, err := s.resolve(ctx, auth.ScopeCustomersRead, in.ID)
	if err != nil {
		return nil, err
	}
	e, err := s.db.ExportCustomer(ctx, p.TenantID, cid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	b := ExportBody{Customer: customerBody(e.Profile), TraitSources: e.TraitSources, ConsentHistory: consentBodies(e.Consents),
		ExportedAt: e.ExportedAt, MergedCustomerIDs: []string{}, Merges: []MergeBody{}, AuditLog: []AuditEntryBody{}}
	for _, m := range e.MergedIDs {
		b.MergedCustomerIDs = append(b.MergedCustomerIDs, id.Format(id.Customer, m))
	}
	for _, m := range e.Merges {
		b.Merges = append(b.Merges, mergeBody(m))
	}
	for _, a := range e.Audit {
		b.AuditLog = append(b.AuditLog, auditBody(a))
	}
	return &exportOutput{Body: b}, nil
}

func (s *server) recordConsents(ctx context.Context, in *recordConsentsInput) (*consentsOutput, error) {
	p, cid, err := s.resolve(ctx, auth.ScopeCustomersWrite, in.ID)
	if err != nil {
		return nil, err
	}
	if _, err := s.db.RecordConsents(ctx, p.TenantID, cid, in.Body.Consents, actor(ctx, p)); err != nil {
		return nil, s.problem(ctx, err)
	}
	return s.consents(ctx, p.TenantID, cid)
}

func (s *server) customerConsents(ctx context.Context, in *customerIDInput) (*consentsOutput, error) {
	p, cid, err := s.resolve(ctx, auth.ScopeCustomersRead, in.ID)
	if err != nil {
		return nil, err
	}
	return s.consents(ctx, p.TenantID, cid)
}

func (s *server) consents(ctx context.Context, tenantID, cid string) (*consentsOutput, error) {
	history, err := s.db.ConsentHistory(ctx, tenantID, cid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &consentsOutput{}
	out.Body.History = consentBodies(history)
	out.Body.Current = consentBodies(customer.CurrentConsents(history))
	return out, nil
}

// validateTraits rejects what the schema cannot express: NUL characters
// (which PostgreSQL cannot store) and oversized attribute sets.
func validateTraits(t customer.Traits, base string) error {
	var fields []apperr.FieldError
	for f, v := range t.Flat() {
		if str, ok := v.(string); ok && strings.ContainsRune(str, 0) {
			fields = append(fields, apperr.FieldError{Location: base + "." + f, Message: "contains a NUL character"})
		}
	}
	if len(t.Attributes) > 100 {
		fields = append(fields, apperr.FieldError{Location: base + ".attributes", Message: fmt.Sprintf("at most 100 attributes, got %d", len(t.Attributes))})
	}
	for k := range t.Attributes {
		if k == "" || len(k) > 64 || strings.ContainsRune(k, 0) {
			fields = append(fields, apperr.FieldError{Location: base + ".attributes", Message: "attribute names must be 1 to 64 bytes", Value: k})
		}
	}
	if len(fields) > 0 {
		return &apperr.Error{Kind: apperr.Invalid, Message: "invalid traits", Fields: fields}
	}
	return nil
}
