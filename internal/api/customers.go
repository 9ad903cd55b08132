package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/customer"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/sqldb"
)

// IdentifiersBody lists a customer's identifiers by type.
type IdentifiersBody struct {
	Emails      []string              `json:"emails"`
	Phones      []string              `json:"phones" doc:"E.164"`
	CardNumbers []string              `json:"card_numbers"`
	External    []customer.ExternalID `json:"external"`
}

// ConsentBody is one consent statement.
type ConsentBody struct {
	ID             string    `json:"id"`
	CustomerID     string    `json:"customer_id" doc:"the customer it was recorded on (a merged customer keeps its own)"`
	MessageChannel string    `json:"message_channel"`
	Purpose        string    `json:"purpose"`
	Status         string    `json:"status"`
	Source         string    `json:"source"`
	Evidence       string    `json:"evidence"`
	OccurredAt     time.Time `json:"occurred_at"`
	RecordedAt     time.Time `json:"recorded_at"`
}

// CustomerBody is the single customer view.
type CustomerBody struct {
	ID          string          `json:"id" example:"cus_0190f0c2a1b27c3d8e9f0a1b2c3d4e5f"`
	RequestedID string          `json:"requested_id,omitempty" doc:"present when the id asked for was merged into this customer"`
	MergedInto  string          `json:"merged_into,omitempty" doc:"present when the id asked for was merged: the customer it now resolves to"`
	Identifiers IdentifiersBody `json:"identifiers"`
	Traits      customer.Traits `json:"traits"`
	Consents    []ConsentBody   `json:"consents" doc:"the current consent per message channel and purpose"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
	ErasedAt    *time.Time      `json:"erased_at,omitempty"`
}

func customerBody(p *sqldb.Profile) CustomerBody {
	b := CustomerBody{ID: id.Format(id.Customer, p.ID), Traits: p.Traits, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
		ErasedAt: p.ErasedAt, Consents: consentBodies(p.Consents)}
	if p.RequestedID != "" && p.RequestedID != p.ID {
		b.RequestedID = id.Format(id.Customer, p.RequestedID)
		b.MergedInto = b.ID
	}
	b.Identifiers = identifiersBody(p.Identifiers)
	return b
}

func identifiersBody(ids []customer.Identifier) IdentifiersBody {
	b := IdentifiersBody{Emails: []string{}, Phones: []string{}, CardNumbers: []string{}, External: []customer.ExternalID{}}
	for _, i := range ids {
		switch i.Type {
		case customer.TypeEmail:
			b.Emails = append(b.Emails, i.Value)
		case customer.TypePhone:
			b.Phones = append(b.Phones, i.Value)
		case customer.TypeCardNumber:
			b.CardNumbers = append(b.CardNumbers, i.Value)
		default:
			if t, ok := i.IsExternal(); ok {
				b.External = append(b.External, customer.ExternalID{Type: t, Value: i.Value})
			}
		}
	}
	return b
}

func consentBodies(cs []customer.Consent) []ConsentBody {
	out := make([]ConsentBody, 0, len(cs))
	for _, c := range cs {
		out = append(out, ConsentBody{ID: id.Format(id.Consent, c.ID), CustomerID: id.Format(id.Customer, c.CustomerID),
			MessageChannel: c.MessageChannel, Purpose: c.Purpose, Status: c.Status, Source: c.Source, Evidence: c.Evidence,
			OccurredAt: c.OccurredAt, RecordedAt: c.RecordedAt})
	}
	return out
}

// IdentifyRequest is the body of POST /v1/customers.
type IdentifyRequest struct {
	Identifiers customer.IdentifierInput `json:"identifiers"`
	Traits      customer.Traits          `json:"traits,omitempty"`
	Consents    []customer.ConsentInput  `json:"consents,omitempty" maxItems:"20"`
	Source      string                   `json:"source,omitempty" maxLength:"64" doc:"the sending system (pos, web, app, import, console…); decides which trait values win"`
}

// IdentifyBody is the customer an identify resolved to, and what happened.
type IdentifyBody struct {
	CustomerBody
	Created bool               `json:"created"`
	Merged  []string           `json:"merged" doc:"customers merged into this one by this request"`
	Ignored []customer.Ignored `json:"ignored_identifiers" doc:"identifiers that took no part in matching, and why"`
}

type identifyInput struct{ Body IdentifyRequest }

type identifyOutput struct {
	Status int
	Body   IdentifyBody
}

type customerIDInput struct {
	ID string `path:"id" doc:"customer id, cus_…; a merged id resolves to the customer it was merged into"`
}

type customerOutput struct{ Body CustomerBody }

type searchCustomersInput struct {
	PageParams
	Email         string `query:"email" maxLength:"320" doc:"exact, normalised like identify"`
	Phone         string `query:"phone" maxLength:"64" doc:"exact, any format"`
	CardNumber    string `query:"card_number" maxLength:"200"`
	ExternalType  string `query:"external_type" maxLength:"64"`
	ExternalValue string `query:"external_value" maxLength:"200"`
	Q             string `query:"q" maxLength:"200" doc:"prefix of a name or of an identifier"`
}

type customersOutput struct{ Body Page[CustomerBody] }

type updateCustomerInput struct {
	ID   string `path:"id"`
	Body struct {
		Traits customer.Traits `json:"traits"`
		Source string          `json:"source,omitempty" maxLength:"64" default:"console"`
	}
}

func (s *server) customerRoutes() {
	tags := []string{"Customers"}
	huma.Register(s.api, huma.Operation{OperationID: "identify-customer", Method: http.MethodPost, Path: "/v1/customers",
		Summary: "Identify a customer", Tags: tags, DefaultStatus: http.StatusOK,
		Responses: map[string]*huma.Response{"201": {Description: "a new customer was created"}},
		Description: "Resolves identifiers to one customer: creates it (201), finds it (200), or merges the customers the identifiers " +
			"point at into the oldest (200, `merged` lists them). Emails are lower-cased, phones read as E.164 in the tenant's default " +
			"country. Placeholder values (test@test.com, n/a, 0000000) and identifiers flagged as shared are ignored and reported in " +
			"`ignored_identifiers`; malformed emails and phones are a 400 naming the field."}, s.identify)
	huma.Register(s.api, huma.Operation{OperationID: "search-customers", Method: http.MethodGet, Path: "/v1/customers",
		Summary: "Find customers", Tags: tags,
		Description: "By one exact identifier, by a name or identifier prefix (`q`), or all, in creation order."}, s.searchCustomers)
	huma.Register(s.api, huma.Operation{OperationID: "get-customer", Method: http.MethodGet, Path: "/v1/customers/{id}",
		Summary: "Get a customer", Tags: tags,
		Description: "A merged id answers with the customer it was merged into, with `requested_id` and `merged_into`."}, s.getCustomer)
	huma.Register(s.api, huma.Operation{OperationID: "update-customer", Method: http.MethodPatch, Path: "/v1/customers/{id}",
		Summary: "Update a customer's traits", Tags: tags,
		Description: "Sets the given traits; an empty string clears a trait and a null attribute removes it. A value set by a " +
			"higher-priority source is kept."}, s.updateCustomer)
	huma.Register(s.api, huma.Operation{OperationID: "erase-customer", Method: http.MethodDelete, Path: "/v1/customers/{id}",
		Summary: "Erase a customer's personal data", Tags: tags,
		Description: "Right to erasure. Identifiers, traits and consent evidence are destroyed; identifiers are kept only as keyed hashes " +
			"so the person is not silently re-created: identifying with them again needs a fresh granted consent. Non-personal facts remain."}, s.eraseCustomer)
	s.customerDetailRoutes(tags)
}

func (s *server) identify(ctx context.Context, in *identifyInput) (*identifyOutput, error) {
	p, err := principal(ctx, auth.ScopeCustomersWrite)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	if err := validateTraits(in.Body.Traits, "body.traits"); err != nil {
		return nil, s.problem(ctx, err)
	}
	res, err := s.db.Identify(ctx, sqldb.IdentifyParams{TenantID: p.TenantID, Identifiers: in.Body.Identifiers,
		Traits: in.Body.Traits, Consents: in.Body.Consents, Source: in.Body.Source, Actor: actor(ctx, p)})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &identifyOutput{Status: http.StatusOK, Body: IdentifyBody{CustomerBody: customerBody(res.Profile), Created: res.Created,
		Merged: make([]string, 0, len(res.Merged)), Ignored: res.Ignored}}
	if res.Created {
		out.Status = http.StatusCreated
	}
	for _, m := range res.Merged {
		out.Body.Merged = append(out.Body.Merged, id.Format(id.Customer, m))
	}
	if out.Body.Ignored == nil {
		out.Body.Ignored = []customer.Ignored{}
	}
	return out, nil
}

func actor(ctx context.Context, p auth.Principal) sqldb.Actor {
	return sqldb.Actor{Actor: p.Actor(), RequestID: RequestID(ctx)}
}

func (s *server) searchCustomers(ctx context.Context, in *searchCustomersInput) (*customersOutput, error) {
	p, err := principal(ctx, auth.ScopeCustomersRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	after, err := in.after()
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	found, err := s.db.FindCustomers(ctx, sqldb.CustomerFilter{TenantID: p.TenantID, Email: in.Email, Phone: in.Phone,
		CardNumber: in.CardNumber, ExternalType: in.ExternalType, ExternalValue: in.ExternalValue, Q: in.Q,
		Limit: in.limit() + 1, After: after})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &customersOutput{Body: paginate(found, in.limit(), func(p *sqldb.Profile) string { return p.ID }, customerBody)}, nil
}

// resolve checks scope and parses a customer id.
func (s *server) resolve(ctx context.Context, scope, public string) (auth.Principal, string, error) {
	p, err := principal(ctx, scope)
	if err != nil {
		return p, "", s.problem(ctx, err)
	}
	cid, err := id.Parse(id.Customer, public)
	if err != nil {
		return p, "", s.problem(ctx, err)
	}
	return p, cid, nil
}

func (s *server) getCustomer(ctx context.Context, in *customerIDInput) (*customerOutput, error) {
	p, cid, err := s.resolve(ctx, auth.ScopeCustomersRead, in.ID)
	if err != nil {
		return nil, err
	}
	c, err := s.db.FindCustomerByID(ctx, p.TenantID, cid)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &customerOutput{Body: customerBody(c)}, nil
}

func (s *server) updateCustomer(ctx context.Context, in *updateCustomerInput) (*customerOutput, error) {
	p, cid, err := s.resolve(ctx, auth.ScopeCustomersWrite, in.ID)
	if err != nil {
		return nil, err
	}
	if err := validateTraits(in.Body.Traits, "body.traits"); err != nil {
		return nil, s.problem(ctx, err)
	}
	source := in.Body.Source
	if source == "" {
		source = "console"
	}
	c, err := s.db.UpdateCustomer(ctx, p.TenantID, cid, sqldb.CustomerUpdate{Traits: in.Body.Traits, Source: source, Actor: actor(ctx, p)})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &customerOutput{Body: customerBody(c)}, nil
}

func (s *server) eraseCustomer(ctx context.Context, in *customerIDInput) (*customerOutput, error) {
	p, cid, err := s.resolve(ctx, auth.ScopeCustomersWrite, in.ID)
	if err != nil {
		return nil, err
	}
	c, err := s.db.EraseCustomer(ctx, p.TenantID, cid, actor(ctx, p))
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &customerOutput{Body: customerBody(c)}, nil
}
