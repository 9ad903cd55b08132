package main

import (
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/omo-platform/omo/internal/customer"
)

// maxCustomers is how many distinct synthetic customers one tenant can hold:
// phone numbers are drawn from the Hong Kong mobile ranges 94, 96 and 97
// (3 × 10^6 numbers), which are valid for libphonenumber, never a run of one
// digit and never a 6+ digit sequence, so none is judged junk.
const maxCustomers = 3_000_000

// retailCustomer is one customer of the UCI Online Retail data set.
type retailCustomer struct {
	ID      string // CustomerID as an integer, e.g. "17850"
	Country string
}

// spec is everything the bench sends about customer number idx of a tenant.
// It is a pure function of idx (and of the retail ids), so any phase can
// rebuild the identifiers of a customer another phase created.
type spec struct {
	Email     string
	Phone     string // E.164
	FirstName string
	LastName  string
	POS       string // external {"type":"pos"} id, from the retail data; may be empty
	Country   string // attributes.country, from the retail data; may be empty
}

var (
	firstNames = []string{"Ka Yan", "Wing", "Mei Ling", "Chi Ho", "Siu Ming", "Hoi Lam", "Tsz Kin", "Yuen Ting",
		"Oliver", "Amelia", "Grace", "Ethan", "Sophie", "Jacob", "Chloe", "Lucas"}
	lastNames = []string{"Chan", "Wong", "Lee", "Cheung", "Lau", "Ng", "Ho", "Leung", "Tam", "Yip",
		"Smith", "Jones", "Taylor", "Brown", "Evans", "Walker", "Wright", "Green"}
)

// email is customer idx's address.
func email(idx int) string { return fmt.Sprintf("cust%07d@mail.omobench.hk", idx) }

// phone is customer idx's mobile number in E.164.
func phone(idx int) string {
	if idx < 0 || idx >= maxCustomers {
		panic(fmt.Sprintf("omobench: customer index %d out of range", idx))
	}
	return fmt.Sprintf("+8529%c%06d", "467"[idx/1_000_000], idx%1_000_000)
}

func customerSpec(idx int, retail []retailCustomer) spec {
	s := spec{Email: email(idx), Phone: phone(idx),
		FirstName: firstNames[idx%len(firstNames)], LastName: lastNames[(idx/len(firstNames))%len(lastNames)]}
	if idx < len(retail) {
		s.POS, s.Country = retail[idx].ID, retail[idx].Country
	}
	return s
}

// identifiers is the identify input for a spec; emailOnly sends just the email
// (a returning customer recognised by it).
func (s spec) identifiers(emailOnly bool) customer.IdentifierInput {
	in := customer.IdentifierInput{Email: s.Email}
	if emailOnly {
		return in
	}
	in.Phone = s.Phone
	if s.POS != "" {
		in.External = []customer.ExternalID{{Type: "pos", Value: s.POS}}
	}
	return in
}

func (s spec) traits() customer.Traits {
	t := customer.Traits{FirstName: &s.FirstName, LastName: &s.LastName}
	if s.Country != "" {
		t.Attributes = map[string]any{"country": s.Country}
	}
	return t
}

// loadRetail reads the distinct CustomerIDs of the Online Retail data set in
// order of first appearance, with the country of that first line. A missing
// file gives none (the bench then uses only synthetic customers).
func loadRetail(path string) ([]retailCustomer, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r := csv.NewReader(zr)
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", path, err)
	}
	idCol, countryCol := -1, -1
	for i, h := range header {
		switch strings.TrimSpace(h) {
		case "CustomerID":
			idCol = i
		case "Country":
			countryCol = i
		}
	}
	if idCol < 0 || countryCol < 0 {
		return nil, fmt.Errorf("%s: no CustomerID or Country column", path)
	}
	seen := map[string]bool{}
	var out []retailCustomer
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		raw := strings.TrimSpace(rec[idCol])
		if raw == "" {
			continue // a guest line
		}
		v, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: CustomerID %q: %w", path, raw, err)
		}
		id := strconv.FormatInt(int64(v), 10)
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, retailCustomer{ID: id, Country: strings.TrimSpace(rec[countryCol])})
	}
	return out, nil
}
