package payment_test

import (
	"os"
	"testing"

	"github.com/omo-platform/omo/internal/payment/paymenttest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	paymenttest.Stop()
	os.Exit(code)
}
