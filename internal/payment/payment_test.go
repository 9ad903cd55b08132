package payment_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/payment"
)

// validIntent is an intent every check accepts; cases change one thing.
func validIntent(m payment.Method) payment.Intent {
	in := payment.Intent{OrderID: "ord_1", Currency: "HKD", Amount: 12900, Method: m,
		IdempotencyKey: "chk_1", Metadata: map[string]string{"cart_id": "crt_1"}}
	switch m {
	case payment.PaidAtPOS:
		in.PaymentMethod = "R-0042"
	case payment.Alipay:
		in.ReturnURL = "https://shop.example/return"
	}
	return in
}

// fieldLocations lists the field locations of an apperr Invalid error.
func fieldLocations(t *testing.T, err error) []string {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Kind != apperr.Invalid {
		t.Fatalf("error %v is not apperr Invalid", err)
	}
	var locs []string
	for _, f := range e.Fields {
		locs = append(locs, f.Location)
	}
	return locs
}

func TestIntentValidate_Cases(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 501)
	many := map[string]string{}
	for i := range 50 {
		many[fmt.Sprintf("k%d", i)] = "v"
	}
	cases := []struct {
		name string
		edit func(*payment.Intent)
		want []string // field locations; none: valid
	}{
		{"valid", func(*payment.Intent) {}, nil},
		{"lower-case currency", func(in *payment.Intent) { in.Currency = "hkd" }, nil},
		{"no order", func(in *payment.Intent) { in.OrderID = " " }, []string{"payment.order_id"}},
		{"zero amount", func(in *payment.Intent) { in.Amount = 0 }, []string{"payment.amount"}},
		{"negative amount", func(in *payment.Intent) { in.Amount = -5 }, []string{"payment.amount"}},
		{"huge amount", func(in *payment.Intent) { in.Amount = 1e15 + 1 }, []string{"payment.amount"}},
		{"bad currency", func(in *payment.Intent) { in.Currency = "XXY" }, []string{"payment.currency"}},
		{"unknown method", func(in *payment.Intent) { in.Method = "bitcoin" }, []string{"payment.method"}},
		{"POS without reference", func(in *payment.Intent) { in.Method, in.PaymentMethod = payment.PaidAtPOS, "" },
			[]string{"payment.payment_method"}},
		{"Alipay without return URL", func(in *payment.Intent) { in.Method = payment.Alipay }, []string{"payment.return_url"}},
		{"long metadata value", func(in *payment.Intent) { in.Metadata["note"] = long }, []string{"payment.metadata.note"}},
		{"bracket in metadata key", func(in *payment.Intent) { in.Metadata["a[b]"] = "v" }, []string{"payment.metadata"}},
		{"too many metadata keys", func(in *payment.Intent) { in.Metadata = many }, []string{"payment.metadata"}},
		{"several at once", func(in *payment.Intent) { in.Amount, in.Currency = 0, "" },
			[]string{"payment.amount", "payment.currency"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			in := validIntent(payment.Card)
			c.edit(&in)
			err := in.Validate()
			if c.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if got := fieldLocations(t, err); !slices.Equal(got, c.want) {
				t.Fatalf("fields %v, want %v", got, c.want)
			}
		})
	}
}

func TestParseMethod_KnownAndUnknown(t *testing.T) {
	t.Parallel()
	for _, m := range payment.Methods() {
		got, err := payment.ParseMethod(" " + string(m) + " ")
		if err != nil || got != m {
			t.Errorf("ParseMethod(%q) = %q, %v", m, got, err)
		}
	}
	_, err := payment.ParseMethod("paypal")
	if got := fieldLocations(t, err); !slices.Equal(got, []string{"payment.method"}) {
		t.Fatalf("fields %v", got)
	}
	if !strings.Contains(apperr.Summary(err), "wechat_pay") {
		t.Errorf("error %q does not list the methods", apperr.Summary(err))
	}
}

func TestOffline_Pay(t *testing.T) {
	t.Parallel()
	cases := []struct {
		method   payment.Method
		status   payment.Status
		ref      string
		captured int64
	}{
		{payment.PayInStore, payment.Pending, "pay_in_store:ord_1", 0},
		{payment.CashOnDelivery, payment.Pending, "cash_on_delivery:ord_1", 0},
		{payment.PaidAtPOS, payment.Succeeded, "paid_at_pos:R-0042", 12900},
	}
	var off payment.Offline
	for _, c := range cases {
		t.Run(string(c.method), func(t *testing.T) {
			t.Parallel()
			in := validIntent(c.method)
			res, err := off.Pay(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			want := payment.Result{Provider: "offline", Reference: c.ref, Method: c.method, Status: c.status, Captured: c.captured}
			if res != want {
				t.Fatalf("Pay = %+v, want %+v", res, want)
			}
			again, err := off.Pay(context.Background(), in)
			if err != nil || again != res {
				t.Fatalf("a retried Pay answered %+v, %v; want the same %+v", again, err, res)
			}
		})
	}
}

func TestOffline_RefusesOnlineMethodsAndBadIntents(t *testing.T) {
	t.Parallel()
	var off payment.Offline
	for _, m := range []payment.Method{payment.Card, payment.Alipay, payment.WeChatPay} {
		_, err := off.Pay(context.Background(), validIntent(m))
		if got := fieldLocations(t, err); !slices.Equal(got, []string{"payment.method"}) {
			t.Errorf("%s: fields %v", m, got)
		}
	}
	in := validIntent(payment.CashOnDelivery)
	in.Amount = 0
	if _, err := off.Pay(context.Background(), in); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("zero amount: %v", err)
	}
}

func TestOffline_RefundAndCancel(t *testing.T) {
	t.Parallel()
	var off payment.Offline
	ctx := context.Background()
	r := payment.Refund{Reference: "paid_at_pos:R-0042", Amount: 5000, Reason: "wrong size", IdempotencyKey: "rfd_1"}
	got, err := off.Refund(ctx, r)
	want := payment.RefundResult{Reference: "refund:paid_at_pos:R-0042:rfd_1", Status: payment.Succeeded, Amount: 5000}
	if err != nil || got != want {
		t.Fatalf("Refund = %+v, %v; want %+v", got, err, want)
	}
	r.IdempotencyKey = ""
	a, _ := off.Refund(ctx, r)
	b, _ := off.Refund(ctx, r)
	if a.Reference == b.Reference {
		t.Errorf("two refunds without keys share reference %q", a.Reference)
	}
	if _, err := off.Refund(ctx, payment.Refund{Reference: "x", Amount: 0}); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("zero refund: %v", err)
	}
	if err := off.Cancel(ctx, "cash_on_delivery:ord_1"); err != nil {
		t.Errorf("Cancel: %v", err)
	}
}

func TestRegistry_OfflineOnly(t *testing.T) {
	t.Parallel()
	r, err := payment.NewRegistry(payment.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Stripe() != nil {
		t.Fatal("Stripe configured without a key")
	}
	if got := r.Methods(); !slices.Equal(got, []payment.Method{payment.PayInStore, payment.CashOnDelivery, payment.PaidAtPOS}) {
		t.Fatalf("Methods = %v", got)
	}
	p, err := r.ForMethod(payment.CashOnDelivery)
	if err != nil || p.Name() != payment.OfflineName {
		t.Fatalf("ForMethod(cash) = %v, %v", p, err)
	}
	_, err = r.ForMethod(payment.Card)
	if got := fieldLocations(t, err); !slices.Equal(got, []string{"payment.method"}) {
		t.Fatalf("ForMethod(card): fields %v", got)
	}
	if _, err := r.Provider(payment.StripeName); !apperr.Is(err, apperr.Internal) {
		t.Fatalf("Provider(stripe) = %v", err)
	}
}

func TestRegistry_WithStripe(t *testing.T) {
	t.Parallel()
	r, err := payment.NewRegistry(payment.Config{StripeSecretKey: "sk_test_123", StripeWebhookSecret: "whsec_x",
		StripeAPIBase: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Stripe() == nil {
		t.Fatal("no Stripe provider")
	}
	for _, m := range payment.Methods() {
		p, err := r.ForMethod(m)
		if err != nil {
			t.Fatalf("ForMethod(%s): %v", m, err)
		}
		if !slices.Contains(p.Methods(), m) {
			t.Errorf("ForMethod(%s) answered %s, which does not take it", m, p.Name())
		}
	}
	if p, _ := r.ForMethod(payment.WeChatPay); p != payment.Provider(r.Stripe()) {
		t.Errorf("WeChat Pay goes to %v", p)
	}
	if p, err := r.Provider(payment.StripeName); err != nil || p.Name() != payment.StripeName {
		t.Errorf("Provider(stripe) = %v, %v", p, err)
	}
}

func TestNewRegistry_RefusesBadStripeSettings(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cfg  payment.Config
		want string
	}{
		{"publishable key", payment.Config{StripeSecretKey: "pk_test_1", StripeWebhookSecret: "whsec_x"}, "sk_"},
		{"no webhook secret", payment.Config{StripeSecretKey: "sk_test_1"}, "webhook signing secret"},
		{"webhook secret alone", payment.Config{StripeWebhookSecret: "whsec_x"}, "secret key"},
		{"base not a URL", payment.Config{StripeSecretKey: "sk_test_1", StripeWebhookSecret: "whsec_x", StripeAPIBase: "localhost:12111"}, "API base"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := payment.NewRegistry(c.cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("NewRegistry = %v, want an error about %q", err, c.want)
			}
		})
	}
}

// errorsIsUnavailable is errors.Is(err, payment.ErrUnavailable), named for
// table readability.
func errorsIsUnavailable(err error) bool { return errors.Is(err, payment.ErrUnavailable) }
