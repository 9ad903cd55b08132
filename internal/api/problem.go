package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/omo-platform/omo/internal/apperr"
)

// statusOf maps an error kind to its HTTP status: the one place this happens.
func statusOf(kind apperr.Kind) int {
	switch kind {
	case apperr.Invalid:
		return http.StatusBadRequest
	case apperr.NotFound:
		return http.StatusNotFound
	case apperr.Conflict:
		return http.StatusConflict
	case apperr.Unauthorized:
		return http.StatusUnauthorized
	case apperr.Forbidden:
		return http.StatusForbidden
	case apperr.PaymentFailed:
		return http.StatusPaymentRequired
	}
	return http.StatusInternalServerError
}

// problem turns a domain error into an RFC 9457 problem. Internal errors are
// logged with the request id and shown as a generic message.
func (s *server) problem(ctx context.Context, err error) error {
	e, ok := apperr.As(err)
	if !ok || e.Kind == apperr.Internal {
		if errors.Is(err, context.Canceled) {
			return huma.NewError(499, "the client closed the request")
		}
		s.log.ErrorContext(ctx, "internal error", slog.String("error", err.Error()))
		return huma.NewError(http.StatusInternalServerError, "internal error; quote the X-Request-Id header when reporting it")
	}
	details := make([]error, 0, len(e.Fields))
	for _, f := range e.Fields {
		details = append(details, &huma.ErrorDetail{Location: f.Location, Message: f.Message, Value: f.Value})
	}
	return huma.NewError(statusOf(e.Kind), e.Message, details...)
}

// installProblemModel makes every huma error an RFC 9457 problem and reports
// request validation failures as 400, the status clients expect for a bad
// field. 422 is kept for an Idempotency-Key reused with another body.
func installProblemModel() {
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		if status == http.StatusUnprocessableEntity {
			status = http.StatusBadRequest
		}
		return newProblem(status, msg, errs...)
	}
}

func newProblem(status int, msg string, errs ...error) *huma.ErrorModel {
	details := make([]*huma.ErrorDetail, 0, len(errs))
	for _, err := range errs {
		var d *huma.ErrorDetail
		if errors.As(err, &d) {
			details = append(details, d)
			continue
		}
		if err != nil {
			details = append(details, &huma.ErrorDetail{Message: err.Error()})
		}
	}
	title := http.StatusText(status)
	if status == 499 {
		title = "Client Closed Request"
	}
	return &huma.ErrorModel{Type: "about:blank", Title: title, Status: status, Detail: msg, Errors: details}
}
