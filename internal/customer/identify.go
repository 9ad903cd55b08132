package customer

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/omo-platform/omo/internal/apperr"
)

// ExternalID is an id from a source system: {"type": "pos", "value": "C-1029"}.
type ExternalID struct {
	Type  string `json:"type" minLength:"1" maxLength:"64" doc:"the source system's id type, e.g. pos, web, app, line_user_id, wechat_openid, device_id"`
	Value string `json:"value" minLength:"1" maxLength:"200"`
}

// IdentifierInput is the identifiers part of an identify request.
type IdentifierInput struct {
	Email      string       `json:"email,omitempty" maxLength:"320"`
	Phone      string       `json:"phone,omitempty" maxLength:"64" doc:"any common format; national numbers are read in the tenant's default country"`
	CardNumber string       `json:"card_number,omitempty" maxLength:"200"`
	External   []ExternalID `json:"external,omitempty" maxItems:"50"`
}

// Empty reports whether no identifier was given at all.
func (in IdentifierInput) Empty() bool {
	return in.Email == "" && in.Phone == "" && in.CardNumber == "" && len(in.External) == 0
}

// Claim is a normalised identifier of a request with the request field it came from.
type Claim struct {
	Identifier
	Field string
}

// NormalizeIdentifiers turns request identifiers into claims. Junk values are
// reported as ignored; malformed values fail the whole request with one field
// error each, because silently dropping a typo would create a duplicate.
func NormalizeIdentifiers(in IdentifierInput, defaultCountry string) ([]Claim, []Ignored, error) {
	var claims []Claim
	var ignored []Ignored
	var fields []apperr.FieldError
	add := func(field, typ, raw string, norm func(string) (string, error)) {
		if raw == "" {
			return
		}
		v, err := norm(raw)
		var junk ErrJunk
		switch {
		case errors.As(err, &junk):
			ignored = append(ignored, Ignored{Field: field, Value: raw, Reason: "junk", Detail: junk.Why})
		case err != nil:
			fields = append(fields, apperr.FieldError{Location: field, Message: err.Error(), Value: raw})
		default:
			claims = append(claims, Claim{Identifier: Identifier{Type: typ, Value: v}, Field: field})
		}
	}
	add("body.identifiers.email", TypeEmail, in.Email, NormalizeEmail)
	add("body.identifiers.phone", TypePhone, in.Phone, func(s string) (string, error) { return NormalizePhone(s, defaultCountry) })
	add("body.identifiers.card_number", TypeCardNumber, in.CardNumber, NormalizeToken)
	for i, e := range in.External {
		field := fmt.Sprintf("body.identifiers.external[%d]", i)
		t, err := NormalizeExternalType(e.Type)
		if err != nil {
			fields = append(fields, apperr.FieldError{Location: field + ".type", Message: err.Error(), Value: e.Type})
			continue
		}
		if strings.TrimSpace(e.Value) == "" {
			fields = append(fields, apperr.FieldError{Location: field + ".value", Message: "value is empty", Value: e.Value})
			continue
		}
		add(field+".value", externalPrefix+t, e.Value, NormalizeToken)
	}
	if len(fields) > 0 {
		return nil, nil, &apperr.Error{Kind: apperr.Invalid, Message: "some identifiers are malformed", Fields: fields}
	}
	return dedupeClaims(claims), ignored, nil
}

func dedupeClaims(cs []Claim) []Claim {
	seen := map[Identifier]bool{}
	out := cs[:0]
	for _, c := range cs {
		if !seen[c.Identifier] {
			seen[c.Identifier] = true
			out = append(out, c)
		}
	}
	return out
}

// Owner is a live customer that owns some of the claimed identifiers.
type Owner struct {
	ID        string
	CreatedAt time.Time
	// Counts is how many identifiers of each limit class the customer holds.
	Counts map[string]int
}

// Match is a claim with the live customer that owns it ("" when unowned).
type Match struct {
	Claim
	OwnerID string
}

// Plan is what an identify request will do.
type Plan struct {
	TargetID string   // the customer the request resolves to; "" means create one
	MergeIDs []string // customers merged into TargetID, oldest first
	// Linkers are, per merged customer, the identifiers that tied it to the
	// survivor: the request's identifiers owned by either of the two. A shared
	// identifier (a shop's phone) shows up in many merges and gets flagged.
	Linkers map[string][]Identifier
	Attach  []Identifier // unowned identifiers to give the target
	Ignored []Ignored
}

// PlanIdentify decides which customer a request resolves to. The oldest
// matched customer survives; the others merge into it unless that would
// break a per-type identifier limit, in which case nothing merges and the
// request resolves to the customer matched by its most precise identifier.
func PlanIdentify(matches []Match, owners map[string]Owner, limit func(class string) int) Plan {
	ownerIDs := distinctOwners(matches, owners)
	var p Plan
	switch {
	case len(ownerIDs) == 0:
	case len(ownerIDs) == 1 || mergeFits(ownerIDs, matches, owners, limit):
		p.TargetID = ownerIDs[0]
		p.MergeIDs = ownerIDs[1:]
		p.Linkers = linkers(matches, p.TargetID, p.MergeIDs)
	default:
		p.TargetID = mostPrecise(matches)
		for _, m := range matches {
			if m.OwnerID != "" && m.OwnerID != p.TargetID {
				p.Ignored = append(p.Ignored, Ignored{Field: m.Field, Value: m.Value, Reason: "merge_blocked",
					Detail: "belongs to another customer; merging them would exceed a per-customer identifier limit"})
			}
		}
	}
	counts := map[string]int{}
	for _, id := range append([]string{p.TargetID}, p.MergeIDs...) {
		for k, v := range owners[id].Counts {
			counts[k] += v
		}
	}
	for _, m := range matches {
		if m.OwnerID != "" {
			continue
		}
		class := m.LimitClass()
		if counts[class]+1 > limit(class) {
			p.Ignored = append(p.Ignored, Ignored{Field: m.Field, Value: m.Value, Reason: "limit_reached",
				Detail: fmt.Sprintf("the customer already holds %d %s identifiers, the limit", counts[class], class)})
			continue
		}
		counts[class]++
		p.Attach = append(p.Attach, m.Identifier)
	}
	return p
}

// distinctOwners lists the matched live customers, oldest first (ties by id).
func distinctOwners(matches []Match, owners map[string]Owner) []string {
	seen := map[string]bool{}
	var ids []string
	for _, m := range matches {
		if m.OwnerID != "" && !seen[m.OwnerID] {
			seen[m.OwnerID] = true
			ids = append(ids, m.OwnerID)
		}
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := owners[ids[i]], owners[ids[j]]
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.Before(b.CreatedAt)
		}
		return ids[i] < ids[j]
	})
	return ids
}

func mergeFits(ids []string, matches []Match, owners map[string]Owner, limit func(string) int) bool {
	total := map[string]int{}
	for _, id := range ids {
		for k, v := range owners[id].Counts {
			total[k] += v
		}
	}
	for k, v := range total {
		if v > limit(k) {
			return false
		}
	}
	return true
}

func linkers(matches []Match, survivor string, merged []string) map[string][]Identifier {
	out := map[string][]Identifier{}
	for _, id := range merged {
		for _, m := range matches {
			if m.OwnerID == id || m.OwnerID == survivor {
				out[id] = append(out[id], m.Identifier)
			}
		}
	}
	return out
}

// precision orders identifier types from most to least specific to a person.
func precision(i Identifier) int {
	if _, ok := i.IsExternal(); ok {
		return 1
	}
	switch i.Type {
	case TypeCardNumber:
		return 0
	case TypeEmail:
		return 2
	}
	return 3
}

func mostPrecise(matches []Match) string {
	best, rank := "", 99
	for _, m := range matches {
		if m.OwnerID != "" && precision(m.Identifier) < rank {
			best, rank = m.OwnerID, precision(m.Identifier)
		}
	}
	return best
}
