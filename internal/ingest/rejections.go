package ingest

import (
	"context"
	"encoding/csv"
	"io"
	"strconv"

	"github.com/omo-platform/omo/internal/sqldb"
)

// WriteRejections writes an import's rejection report as CSV: line, reason,
// and the rejected row as it was in the file. The API and the sFTP outbox
// serve the same report.
func WriteRejections(ctx context.Context, db *sqldb.DB, im sqldb.Import, out io.Writer) error {
	w := csv.NewWriter(out)
	if err := w.Write([]string{"line", "reason", "row"}); err != nil {
		return err
	}
	err := db.EachImportRejection(ctx, im.TenantID, im.ID, func(r sqldb.Rejection) error {
		return w.Write([]string{strconv.FormatInt(r.Line, 10), r.Reason, r.Raw})
	})
	w.Flush()
	if err != nil {
		return err
	}
	return w.Error()
}
