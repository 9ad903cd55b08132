package payment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/stripe/stripe-go/v85"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/money"
)

// StripeName is the Stripe provider's name, stored with its payments.
const StripeName = "stripe"

// StripeConfig configures the Stripe provider.
type StripeConfig struct {
	SecretKey     string // sk_… or a restricted rk_… key
	WebhookSecret string // whsec_…, the signing secret of the webhook endpoint
	// APIBase is Stripe's API address; empty means https://api.stripe.com.
	// Tests and local runs point it at stripe-mock.
	APIBase string
	// HTTPClient is optional; stripe-go's default has an 80-second timeout.
	HTTPClient *http.Client
	// MaxNetworkRetries is how often stripe-go retries a request whose
	// connection failed (and Stripe's lock timeouts), with the same
	// idempotency key: 0 means stripe-go's default (2), a negative number
	// none. Stripe's 5xx answers are not retried by stripe-go v85; they
	// come back as ErrUnavailable.
	MaxNetworkRetries int
	Logger            *slog.Logger // stripe-go's own log lines; nil discards them
}

// Stripe takes card, Alipay and WeChat Pay payments through Stripe's
// PaymentIntents with automatic capture, and refunds through its Refunds API.
type Stripe struct {
	client        *stripe.Client
	webhookSecret string
	account       string // a connected account ("acct_…") every request acts for; "" for the platform's own
}

// ForAccount is the provider acting for a brand's connected Stripe account
// (Stripe Connect): every request carries the Stripe-Account header, so the
// money lands in the brand's account while OMO holds one platform key.
func (s *Stripe) ForAccount(account string) *Stripe {
	c := *s
	c.account = account
	return &c
}

// Account is the connected account the provider acts for, "" for none.
func (s *Stripe) Account() string { return s.account }

// on sets the connected account on a request's parameters.
func (s *Stripe) on(p interface{ SetStripeAccount(string) }) {
	if s.account != "" {
		p.SetStripeAccount(s.account)
	}
}

// NewStripe checks the configuration and builds the provider. It makes no
// request.
func NewStripe(cfg StripeConfig) (*Stripe, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	bc := &stripe.BackendConfig{HTTPClient: cfg.HTTPClient, LeveledLogger: slogLeveled{cfg.Logger}}
	if cfg.APIBase != "" {
		bc.URL = stripe.String(cfg.APIBase)
	}
	switch {
	case cfg.MaxNetworkRetries < 0:
		bc.MaxNetworkRetries = stripe.Int64(0)
	case cfg.MaxNetworkRetries > 0:
		bc.MaxNetworkRetries = stripe.Int64(int64(cfg.MaxNetworkRetries))
	}
	client := stripe.NewClient(cfg.SecretKey, stripe.WithBackends(stripe.NewBackendsWithConfig(bc)))
	return &Stripe{client: client, webhookSecret: cfg.WebhookSecret}, nil
}

func (cfg StripeConfig) check() error {
	if !strings.HasPrefix(cfg.SecretKey, "sk_") && !strings.HasPrefix(cfg.SecretKey, "rk_") {
		return errors.New("stripe: the secret key must start with sk_ or rk_ (a publishable pk_ key cannot take payments)")
	}
	if cfg.WebhookSecret == "" {
		return errors.New("stripe: a webhook signing secret (whsec_…) is required: Alipay, WeChat Pay and 3-D Secure payments are confirmed by webhook")
	}
	if cfg.APIBase != "" {
		u, err := url.Parse(cfg.APIBase)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("stripe: API base %q is not an http(s) URL", cfg.APIBase)
		}
	}
	return nil
}

// Name implements Provider.
func (*Stripe) Name() string { return StripeName }

// Methods implements Provider.
func (*Stripe) Methods() []Method { return []Method{Card, Alipay, WeChatPay} }

// Pay implements Provider. A card with a PaymentMethod token, Alipay and
// WeChat Pay are confirmed at once; a card without a token is created
// unconfirmed and answers RequiresAction with the client secret, for the
// storefront to confirm with Stripe.js.
func (s *Stripe) Pay(ctx context.Context, in Intent) (Result, error) {
	if err := in.Validate(); err != nil {
		return Result{}, err
	}
	if in.Method != Card && in.Method != Alipay && in.Method != WeChatPay {
		return Result{}, notTaken(s, in.Method)
	}
	if err := stripeAmountError(in.Currency, in.Amount); err != nil {
		return Result{}, err
	}
	params := intentParams(in)
	s.on(params)
	pi, err := s.client.V1PaymentIntents.Create(ctx, params)
	if err != nil {
		return declinedOr(in.Method, err)
	}
	return resultOf(pi, in.Method), nil
}

// stripeAmountError refuses amounts whose ISO 4217 minor units Stripe reads
// otherwise. Stripe takes amounts in ISO minor units except for ISK (ISO: no
// decimals; Stripe: two, in multiples of 100), which OMO does not convert,
// and it wants three-decimal currencies rounded to tens.
func stripeAmountError(currency string, amount int64) error {
	c, _ := money.NormalizeCurrency(currency)
	switch {
	case c == "ISK":
		return apperr.Field("payment.currency", "ISK cannot be paid through Stripe in OMO: Stripe counts it in hundredths, OMO in whole krónur", currency)
	case money.Digits(c) == 3 && amount%10 != 0:
		return apperr.Field("payment.amount", "Stripe takes "+c+" amounts in multiples of 10 (the last digit must be 0)", amount)
	}
	return nil
}

// intentParams turns an intent into Stripe's PaymentIntent parameters.
func intentParams(in Intent) *stripe.PaymentIntentCreateParams {
	p := &stripe.PaymentIntentCreateParams{
		Amount:             stripe.Int64(in.Amount),
		Currency:           stripe.String(strings.ToLower(strings.TrimSpace(in.Currency))),
		PaymentMethodTypes: []*string{stripe.String(string(in.Method))},
		CaptureMethod:      stripe.String(string(stripe.PaymentIntentCaptureMethodAutomatic)),
		Description:        stripe.String("OMO order " + in.OrderID),
		Metadata:           make(map[string]string, len(in.Metadata)+1),
	}
	for k, v := range in.Metadata {
		p.Metadata[k] = v
	}
	p.Metadata["omo_order_id"] = in.OrderID // after the caller's, so it always names the order
	if in.IdempotencyKey != "" {
		p.SetIdempotencyKey(in.IdempotencyKey)
	}
	setCustomer(p, in.Customer)
	if in.ReturnURL != "" {
		p.ReturnURL = stripe.String(in.ReturnURL)
	}
	switch {
	case in.PaymentMethod != "":
		p.PaymentMethod = stripe.String(in.PaymentMethod)
		p.Confirm = stripe.Bool(true)
	case in.Method == Alipay:
		p.PaymentMethodData = &stripe.PaymentIntentCreatePaymentMethodDataParams{
			Type: stripe.String(string(Alipay)), Alipay: &stripe.PaymentMethodAlipayParams{}}
		p.Confirm = stripe.Bool(true)
	case in.Method == WeChatPay:
		p.PaymentMethodData = &stripe.PaymentIntentCreatePaymentMethodDataParams{
			Type: stripe.String(string(WeChatPay)), WeChatPay: &stripe.PaymentMethodWeChatPayParams{}}
		p.Confirm = stripe.Bool(true)
	}
	if in.Method == WeChatPay {
		// Stripe requires the client kind for WeChat Pay; OMO's storefronts
		// show the QR code on a web page.
		p.PaymentMethodOptions = &stripe.PaymentIntentCreatePaymentMethodOptionsParams{
			WeChatPay: &stripe.PaymentIntentCreatePaymentMethodOptionsWeChatPayParams{Client: stripe.String("web")}}
	}
	return p
}

// setCustomer passes a Stripe customer id as the customer and an email as
// the receipt address.
func setCustomer(p *stripe.PaymentIntentCreateParams, customer string) {
	switch c := strings.TrimSpace(customer); {
	case strings.HasPrefix(c, "cus_"):
		p.Customer = stripe.String(c)
	case strings.Contains(c, "@"):
		p.ReceiptEmail = stripe.String(c)
	}
}

// resultOf maps a PaymentIntent to a Result.
func resultOf(pi *stripe.PaymentIntent, m Method) Result {
	res := Result{Provider: StripeName, Reference: pi.ID, Method: m, Captured: pi.AmountReceived,
		ClientSecret: pi.ClientSecret, Status: statusOf(pi)}
	if res.Status == Failed && pi.LastPaymentError != nil {
		res.FailureCode = string(pi.LastPaymentError.Code)
		res.FailureMessage = pi.LastPaymentError.Msg
	}
	if res.Status == Canceled {
		res.FailureCode = "canceled"
		res.FailureMessage = string(pi.CancellationReason)
	}
	if res.Status == RequiresAction && pi.NextAction != nil {
		res.NextActionURL, res.QRCodeData = nextAction(pi.NextAction)
	}
	return res
}

// statusOf maps Stripe's PaymentIntent status to ours. A PaymentIntent back
// at requires_payment_method with an error is a failed attempt; without one
// it waits for the storefront to supply a payment method.
func statusOf(pi *stripe.PaymentIntent) Status {
	switch pi.Status {
	case stripe.PaymentIntentStatusSucceeded:
		return Succeeded
	case stripe.PaymentIntentStatusProcessing:
		return Processing
	case stripe.PaymentIntentStatusRequiresAction, stripe.PaymentIntentStatusRequiresConfirmation:
		return RequiresAction
	case stripe.PaymentIntentStatusRequiresCapture:
		return Authorized
	case stripe.PaymentIntentStatusCanceled:
		return Canceled
	case stripe.PaymentIntentStatusRequiresPaymentMethod:
		if pi.LastPaymentError != nil {
			return Failed
		}
		return RequiresAction
	}
	// A status Stripe adds later: not final, a webhook settles it.
	return Processing
}

// nextAction finds where to send the shopper: a redirect (Alipay, 3-D
// Secure) or WeChat Pay's hosted QR page and payload.
func nextAction(na *stripe.PaymentIntentNextAction) (link, qr string) {
	switch {
	case na.RedirectToURL != nil:
		return na.RedirectToURL.URL, ""
	case na.AlipayHandleRedirect != nil:
		return na.AlipayHandleRedirect.URL, ""
	case na.WeChatPayDisplayQRCode != nil:
		return na.WeChatPayDisplayQRCode.HostedInstructionsURL, na.WeChatPayDisplayQRCode.Data
	}
	return "", ""
}

// declinedOr turns a Stripe error about the shopper's payment (a decline, a
// failed authentication, a bad payment method token) into a failed Result,
// and any other error into a Go error.
func declinedOr(m Method, err error) (Result, error) {
	var se *stripe.Error
	if !errors.As(err, &se) || !isDecline(se) {
		return Result{}, classify("payment", err)
	}
	res := Result{Provider: StripeName, Method: m, Status: Failed,
		FailureCode: string(se.Code), FailureMessage: se.Msg}
	if se.DeclineCode != "" {
		res.FailureCode = string(se.DeclineCode)
	}
	if se.PaymentIntent != nil {
		res.Reference = se.PaymentIntent.ID
	}
	return res, nil
}

func isDecline(se *stripe.Error) bool {
	switch {
	case se.Type == stripe.ErrorTypeCard:
		return true
	case se.Type != stripe.ErrorTypeInvalidRequest || se.HTTPStatusCode >= 500:
		return false
	case se.PaymentIntent != nil:
		return true // e.g. payment_intent_authentication_failure
	}
	return se.Param == "payment_method" // a token the storefront sent that Stripe does not know
}

// classify wraps an error from Stripe that is not a decline. what names the
// call ("payment", "refund", "cancel").
func classify(what string, err error) error {
	var se *stripe.Error
	if !errors.As(err, &se) {
		return fmt.Errorf("stripe %s: %w: %w", what, ErrUnavailable, err)
	}
	switch code := se.HTTPStatusCode; {
	case code >= 500 || code == http.StatusTooManyRequests || code == http.StatusConflict || se.Type == stripe.ErrorTypeAPI:
		return fmt.Errorf("stripe %s: %w: %w", what, ErrUnavailable, se)
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return fmt.Errorf("stripe %s: the API key was refused (check the Stripe secret key): %w", what, se)
	case se.Code == stripe.ErrorCodeChargeAlreadyRefunded:
		return &apperr.Error{Kind: apperr.Conflict, Message: "the payment is refunded in full already", Err: fmt.Errorf("%w: %w", ErrAlreadyRefunded, se)}
	case se.Type == stripe.ErrorTypeIdempotency:
		return &apperr.Error{Kind: apperr.Conflict, Message: "this idempotency key was already used for a different payment request", Err: se}
	case what != "payment":
		return &apperr.Error{Kind: apperr.Conflict, Message: "Stripe refused the " + what + ": " + se.Msg, Err: se}
	}
	return fmt.Errorf("stripe %s: request refused: %w", what, se)
}

// Cancel implements Provider: it cancels the PaymentIntent, or refunds it in
// full when it had already succeeded (automatic capture leaves nothing to
// void). The full refund uses a key made from the reference, so a retried
// Cancel never refunds twice.
func (s *Stripe) Cancel(ctx context.Context, reference string) error {
	if strings.TrimSpace(reference) == "" {
		return apperr.Field("payment.reference", "is required", nil)
	}
	cancel := &stripe.PaymentIntentCancelParams{}
	s.on(cancel)
	_, err := s.client.V1PaymentIntents.Cancel(ctx, reference, cancel)
	var se *stripe.Error
	if err == nil || !errors.As(err, &se) || se.Code != stripe.ErrorCodePaymentIntentUnexpectedState {
		return cancelError(err)
	}
	retrieve := &stripe.PaymentIntentRetrieveParams{}
	s.on(retrieve)
	pi, err := s.client.V1PaymentIntents.Retrieve(ctx, reference, retrieve)
	if err != nil {
		return classify("cancel", err)
	}
	switch pi.Status {
	case stripe.PaymentIntentStatusCanceled:
		return nil
	case stripe.PaymentIntentStatusSucceeded:
		params := &stripe.RefundCreateParams{PaymentIntent: stripe.String(reference),
			Metadata: map[string]string{"omo_reason": "order not completed"}}
		params.SetIdempotencyKey("omo-cancel-" + reference)
		s.on(params)
		_, err := s.client.V1Refunds.Create(ctx, params)
		return cancelError(err)
	}
	return &apperr.Error{Kind: apperr.Conflict, Err: se,
		Message: "the payment is " + string(pi.Status) + " and can be neither canceled nor refunded yet; retry once it settles"}
}

func cancelError(err error) error {
	if err == nil {
		return nil
	}
	return classify("cancel", err)
}

// Refund implements Provider.
func (s *Stripe) Refund(ctx context.Context, r Refund) (RefundResult, error) {
	if err := validateRefund(r); err != nil {
		return RefundResult{}, err
	}
	params := &stripe.RefundCreateParams{PaymentIntent: stripe.String(r.Reference), Amount: stripe.Int64(r.Amount)}
	switch reason := stripe.RefundReason(r.Reason); reason {
	case stripe.RefundReasonDuplicate, stripe.RefundReasonFraudulent, stripe.RefundReasonRequestedByCustomer:
		params.Reason = stripe.String(string(reason))
	}
	if r.Reason != "" {
		params.Metadata = map[string]string{"omo_reason": truncate(r.Reason, 500)}
	}
	if r.IdempotencyKey != "" {
		params.SetIdempotencyKey(r.IdempotencyKey)
	}
	s.on(params)
	rf, err := s.client.V1Refunds.Create(ctx, params)
	if err != nil {
		return RefundResult{}, classify("refund", err)
	}
	return RefundResult{Reference: rf.ID, Status: refundStatus(rf.Status), Amount: rf.Amount}, nil
}

func refundStatus(s stripe.RefundStatus) Status {
	switch s {
	case stripe.RefundStatusSucceeded:
		return Succeeded
	case stripe.RefundStatusFailed:
		return Failed
	case stripe.RefundStatusCanceled:
		return Canceled
	case stripe.RefundStatusRequiresAction:
		return RequiresAction
	}
	return Pending
}

// truncate cuts s to at most n bytes on a rune boundary (Stripe's metadata
// values hold 500 characters).
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// slogLeveled feeds stripe-go's log lines to slog; nil discards them.
type slogLeveled struct{ l *slog.Logger }

func (s slogLeveled) log(level slog.Level, format string, v ...any) {
	if s.l != nil {
		s.l.Log(context.Background(), level, fmt.Sprintf(format, v...), "component", "stripe-go")
	}
}

func (s slogLeveled) Debugf(format string, v ...any) { s.log(slog.LevelDebug, format, v...) }
func (s slogLeveled) Infof(format string, v ...any)  { s.log(slog.LevelDebug, format, v...) }
func (s slogLeveled) Warnf(format string, v ...any)  { s.log(slog.LevelWarn, format, v...) }
func (s slogLeveled) Errorf(format string, v ...any) { s.log(slog.LevelWarn, format, v...) }
