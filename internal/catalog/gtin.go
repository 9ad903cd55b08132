package catalog

import (
	"errors"
	"strings"
)

// GTIN errors, worded for a client.
var (
	errGTINDigits = errors.New("a GTIN is 8, 12, 13 or 14 digits (EAN-8, UPC-A, EAN-13, GTIN-14)")
	errGTINCheck  = errors.New("the check digit is wrong (GS1 mod 10): a typo or a truncated code")
)

// NormalizeGTIN checks a barcode (GTIN-8, GTIN-12/UPC-A, GTIN-13/EAN-13 or
// GTIN-14, spaces and hyphens allowed) and returns its GTIN-14 form: the
// same item scanned as UPC-A or as EAN-13 has one key.
func NormalizeGTIN(s string) (string, error) {
	d := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, s)
	switch len(d) {
	case 8, 12, 13, 14:
	default:
		return "", errGTINDigits
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return "", errGTINDigits
		}
	}
	if CheckDigit(d[:len(d)-1]) != d[len(d)-1] {
		return "", errGTINCheck
	}
	return strings.Repeat("0", 14-len(d)) + d, nil
}

// CheckDigit computes the GS1 mod-10 check digit of the digits before it:
// from the right, weights 3, 1, 3, … Digits must be ASCII 0-9.
func CheckDigit(body string) byte {
	sum := 0
	for i := 0; i < len(body); i++ {
		n := int(body[len(body)-1-i] - '0')
		if i%2 == 0 {
			n *= 3
		}
		sum += n
	}
	return byte('0' + (10-sum%10)%10)
}
