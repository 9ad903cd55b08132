package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/omo-platform/omo/internal/customer"
)

// Identity is who an event is about: the identifiers it names and the
// traits it brings for the profile.
type Identity struct {
	Identifiers customer.IdentifierInput
	Traits      customer.Traits
	// Personal are the identifiers that came from traits (email, phone,
	// card number): when one is malformed, the event is kept and recorded on
	// its Segment ids alone.
	Personal bool
	Warnings []string
}

// maxAttributes bounds the free-form traits an event may set, as the
// customers API does.
const maxAttributes = 100

// IdentityOf maps an event to OMO identifiers and traits: userId to the
// external id user_id, anonymousId to anonymous_id, and the traits of an
// identify call and of context.traits on any call (Segment's reserved
// traits to OMO's: email and phone become identifiers, firstName and
// lastName names, birthday a date; the rest are attributes). Group traits
// describe the group, not the person, and are not applied.
func (e Event) IdentityOf() Identity {
	var id Identity
	if e.UserID != "" {
		id.Identifiers.External = append(id.Identifiers.External, customer.ExternalID{Type: IdentifierUserID, Value: e.UserID})
	}
	anon := e.AnonymousID
	if e.Type == TypeAlias {
		anon = e.PreviousID
	}
	if anon != "" {
		id.Identifiers.External = append(id.Identifiers.External, customer.ExternalID{Type: IdentifierAnonymousID, Value: anon})
	}
	var traits map[string]any
	if ct := contextTraits(e.Context); ct != nil {
		traits = ct
	}
	if e.Type == TypeIdentify {
		var own map[string]any
		if json.Unmarshal(e.Traits, &own) == nil {
			if traits == nil {
				traits = own
			} else {
				for k, v := range own {
					traits[k] = v
				}
			}
		}
	}
	if len(traits) > 0 {
		id.applyTraits(traits)
	}
	return id
}

// contextTraits reads context.traits, without decoding the whole context
// when it has none.
func contextTraits(ctx json.RawMessage) map[string]any {
	if !bytes.Contains(ctx, []byte(`"traits"`)) {
		return nil
	}
	var c struct {
		Traits map[string]any `json:"traits"`
	}
	if json.Unmarshal(ctx, &c) != nil {
		return nil
	}
	return c.Traits
}

var birthday = regexp.MustCompile(`^([0-9]{4})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])`)

// reservedSkipped are Segment traits that are ids, not profile data.
var reservedSkipped = map[string]bool{"id": true, "userId": true, "user_id": true, "anonymousId": true, "anonymous_id": true}

func (id *Identity) applyTraits(m map[string]any) {
	str := func(k string) (string, bool) {
		s, ok := m[k].(string)
		return strings.TrimSpace(s), ok && strings.TrimSpace(s) != ""
	}
	set := func(dst **string, max int, keys ...string) {
		for _, k := range keys {
			if v, ok := str(k); ok {
				if len(v) > max || strings.ContainsRune(v, 0) {
					id.Warnings = append(id.Warnings, fmt.Sprintf("trait %s is longer than %d bytes and was not applied", k, max))
					return
				}
				*dst = &v
				return
			}
		}
	}
	handled := map[string]bool{}
	for _, k := range []string{"email", "phone", "card_number", "cardNumber", "firstName", "first_name", "lastName", "last_name", "gender", "birthday"} {
		handled[k] = true
	}
	if v, ok := str("email"); ok {
		id.Identifiers.Email, id.Personal = v, true
	}
	if v, ok := str("phone"); ok {
		id.Identifiers.Phone, id.Personal = v, true
	}
	for _, k := range []string{"card_number", "cardNumber"} {
		if v, ok := str(k); ok {
			id.Identifiers.CardNumber, id.Personal = v, true
			break
		}
	}
	t := &id.Traits
	set(&t.FirstName, 200, "firstName", "first_name")
	set(&t.LastName, 200, "lastName", "last_name")
	set(&t.Gender, 50, "gender")
	if v, ok := str("birthday"); ok {
		if p := birthday.FindStringSubmatch(v); p != nil {
			d := p[0]
			t.Birthday = &d
		} else {
			id.Warnings = append(id.Warnings, "trait birthday is not an ISO 8601 date and was not applied")
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		if !handled[k] && !reservedSkipped[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "" || len(k) > 64 || strings.ContainsRune(k, 0) {
			id.Warnings = append(id.Warnings, "trait names must be 1 to 64 bytes; one was not applied")
			continue
		}
		if len(t.Attributes) == maxAttributes {
			id.Warnings = append(id.Warnings, fmt.Sprintf("at most %d traits are kept as attributes; the rest were not applied", maxAttributes))
			break
		}
		if t.Attributes == nil {
			t.Attributes = map[string]any{}
		}
		t.Attributes[k] = m[k]
	}
}

// WithoutPersonal is the identity with the identifiers that came from
// traits removed, for an event whose email or phone was malformed.
func (id Identity) WithoutPersonal() Identity {
	id.Identifiers.Email, id.Identifiers.Phone, id.Identifiers.CardNumber = "", "", ""
	id.Personal = false
	return id
}
