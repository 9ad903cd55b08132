package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/omo-platform/omo/internal/apperr"
	"github.com/omo-platform/omo/internal/auth"
	"github.com/omo-platform/omo/internal/id"
	"github.com/omo-platform/omo/internal/ingest"
	"github.com/omo-platform/omo/internal/sqldb"
)

// ImportBody is an import and its progress.
type ImportBody struct {
	ID          string      `json:"id" example:"imp_0190f0c2a1b27c3d8e9f0a1b2c3d4e5f"`
	Kind        string      `json:"kind" enum:"customers,transactions,events,products,prices"`
	Status      string      `json:"status" enum:"queued,running,completed,failed"`
	MappingName string      `json:"mapping_name,omitempty"`
	Origin      string      `json:"origin" enum:"api,sftp"`
	File        FileBody    `json:"file"`
	Counts      CountsBody  `json:"counts"`
	Error       string      `json:"error,omitempty" doc:"why a failed import could not read its file"`
	CreatedAt   time.Time   `json:"created_at"`
	StartedAt   *time.Time  `json:"started_at"`
	FinishedAt  *time.Time  `json:"finished_at"`
	Links       ImportLinks `json:"links"`
}

// FileBody describes an uploaded file.
type FileBody struct {
	Name   string `json:"name"`
	Size   int64  `json:"size" doc:"bytes, as uploaded (compressed if gzipped)"`
	SHA256 string `json:"sha256"`
}

// CountsBody are an import's counts so far.
type CountsBody struct {
	RowsRead            int64 `json:"rows_read"`
	Accepted            int64 `json:"accepted"`
	Rejected            int64 `json:"rejected" doc:"every rejected row is in the rejections report with its reason"`
	Duplicates          int64 `json:"duplicates" doc:"rows of receipts recorded before (a file sent twice applies nothing twice)"`
	CustomersCreated    int64 `json:"customers_created"`
	CustomersMatched    int64 `json:"customers_matched"`
	TransactionsCreated int64 `json:"transactions_created"`
}

// ImportLinks point at an import's reports.
type ImportLinks struct {
	Rejections string `json:"rejections"`
}

func importBody(im sqldb.Import) ImportBody {
	pub := id.Format(id.Import, im.ID)
	return ImportBody{ID: pub, Kind: im.Kind, Status: im.Status, MappingName: im.MappingName, Origin: im.Origin,
		File: FileBody{Name: im.FileName, Size: im.FileSize, SHA256: im.FileSHA256},
		Counts: CountsBody{RowsRead: im.RowsRead, Accepted: im.Accepted, Rejected: im.Rejected, Duplicates: im.Duplicates,
			CustomersCreated: im.CustomersCreated, CustomersMatched: im.CustomersMatched, TransactionsCreated: im.TransactionsCreated},
		Error: im.Error, CreatedAt: im.CreatedAt, StartedAt: im.StartedAt, FinishedAt: im.FinishedAt,
		Links: ImportLinks{Rejections: "/v1/imports/" + pub + "/rejections"}}
}

type createImportInput struct {
	RawBody huma.MultipartFormFiles[struct {
		File        huma.FormFile `form:"file" required:"true" doc:"CSV or JSON Lines, UTF-8 with or without BOM, optionally gzipped"`
		Mapping     string        `form:"mapping" required:"false" doc:"the mapping as JSON; or give mapping_name"`
		MappingName string        `form:"mapping_name" required:"false" doc:"a mapping saved with PUT /v1/import_mappings/{name}"`
	}]
}

type importOutput struct {
	Status int
	Body   ImportBody
}

type importIDInput struct {
	ID string `path:"id" doc:"import id, imp_…"`
}

type listImportsInput struct{ PageParams }

type listImportsOutput struct{ Body Page[ImportBody] }

type rejectionsOutput struct {
	ContentType string `header:"Content-Type"`
	Body        []byte
}

// MappingBody is a saved mapping.
type MappingBody struct {
	Name      string         `json:"name"`
	Mapping   ingest.Mapping `json:"mapping"`
	UpdatedAt *time.Time     `json:"updated_at,omitempty"`
}

type putMappingInput struct {
	Name string         `path:"name" doc:"letters, digits, '.', '_' or '-'"`
	Body ingest.Mapping `json:"mapping"`
}

type mappingNameInput struct {
	Name string `path:"name"`
}

type mappingOutput struct{ Body MappingBody }

type mappingsOutput struct {
	Body struct {
		Data []MappingBody `json:"data"`
	}
}

var mappingName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func (s *server) importRoutes() {
	tags := []string{"Imports"}
	huma.Register(s.api, huma.Operation{OperationID: "create-import", Method: http.MethodPost, Path: "/v1/imports",
		Summary: "Import a file", Tags: tags, DefaultStatus: http.StatusAccepted, MaxBodyBytes: sqldb.MaxImportFile + 1<<20,
		Description: "Stores the file and queues its import: the answer (202) comes once the file is safely stored. Poll " +
			"GET /v1/imports/{id}; rows that cannot be imported are listed with their reason at /v1/imports/{id}/rejections and never " +
			"hold back the good ones. Importing the same file again applies nothing twice."}, s.createImport)
	huma.Register(s.api, huma.Operation{OperationID: "list-imports", Method: http.MethodGet, Path: "/v1/imports",
		Summary: "List imports", Tags: tags, Description: "Newest first."}, s.listImports)
	huma.Register(s.api, huma.Operation{OperationID: "get-import", Method: http.MethodGet, Path: "/v1/imports/{id}",
		Summary: "Get an import", Tags: tags}, s.getImport)
	huma.Register(s.api, huma.Operation{OperationID: "import-rejections", Method: http.MethodGet, Path: "/v1/imports/{id}/rejections",
		Summary: "An import's rejected rows (CSV)", Tags: tags,
		Description: "text/csv with the columns line, reason and row (the rejected row as it was in the file)."}, s.importRejections)
	huma.Register(s.api, huma.Operation{OperationID: "put-import-mapping", Method: http.MethodPut, Path: "/v1/import_mappings/{name}",
		Summary: "Save an import mapping", Tags: tags, Description: "Creates or replaces the mapping of this name."}, s.putMapping)
	huma.Register(s.api, huma.Operation{OperationID: "get-import-mapping", Method: http.MethodGet, Path: "/v1/import_mappings/{name}",
		Summary: "Get an import mapping", Tags: tags}, s.getMapping)
	huma.Register(s.api, huma.Operation{OperationID: "list-import-mappings", Method: http.MethodGet, Path: "/v1/import_mappings",
		Summary: "List import mappings", Tags: tags}, s.listMappings)
	s.sftpKeyRoutes()
}

func (s *server) createImport(ctx context.Context, in *createImportInput) (*importOutput, error) {
	p, err := principal(ctx, auth.ScopeImportsWrite)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	form := in.RawBody.Data()
	raw, name := form.Mapping, form.MappingName
	switch {
	case raw == "" && name == "":
		return nil, s.problem(ctx, apperr.Field("form.mapping", "give mapping (JSON) or mapping_name", nil))
	case raw != "" && name != "":
		return nil, s.problem(ctx, apperr.Field("form.mapping", "give mapping or mapping_name, not both", nil))
	case name != "":
		saved, err := s.db.FindImportMapping(ctx, p.TenantID, name)
		if err != nil {
			if apperr.Is(err, apperr.NotFound) {
				err = apperr.Field("form.mapping_name", "no saved mapping has this name", name)
			}
			return nil, s.problem(ctx, err)
		}
		raw = saved.Mapping
	}
	m, err := parseMapping(raw, "form.mapping")
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	if m.Kind == ingest.KindProducts || m.Kind == ingest.KindPrices {
		if _, err := principal(ctx, auth.ScopeCatalogWrite); err != nil { // an import writes what the catalog API would
			return nil, s.problem(ctx, err)
		}
	}
	canon, _ := json.Marshal(m)
	im, err := s.db.CreateImport(ctx, sqldb.CreateImportParams{TenantID: p.TenantID, Kind: m.Kind, Mapping: string(canon), MappingName: name,
		FileName: form.File.Filename, File: form.File, Actor: p.Actor()})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &importOutput{Status: http.StatusAccepted, Body: importBody(im)}, nil
}

func parseMapping(raw, base string) (ingest.Mapping, error) {
	var m ingest.Mapping
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return m, apperr.Field(base, "not JSON: "+err.Error(), nil)
	}
	return m, m.ValidateAt(base)
}

func (s *server) listImports(ctx context.Context, in *listImportsInput) (*listImportsOutput, error) {
	p, err := principal(ctx, auth.ScopeImportsRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	before, err := in.after()
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	ims, err := s.db.FindImports(ctx, sqldb.ImportFilter{TenantID: p.TenantID, Limit: in.limit() + 1, Before: before})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &listImportsOutput{Body: paginate(ims, in.limit(), func(im sqldb.Import) string { return im.ID }, importBody)}, nil
}

func (s *server) findImport(ctx context.Context, scope, public string) (sqldb.Import, error) {
	p, err := principal(ctx, scope)
	if err != nil {
		return sqldb.Import{}, s.problem(ctx, err)
	}
	iid, err := id.Parse(id.Import, public)
	if err != nil {
		return sqldb.Import{}, s.problem(ctx, err)
	}
	im, err := s.db.FindImportByID(ctx, p.TenantID, iid)
	if err != nil {
		return im, s.problem(ctx, err)
	}
	return im, nil
}

func (s *server) getImport(ctx context.Context, in *importIDInput) (*importOutput, error) {
	im, err := s.findImport(ctx, auth.ScopeImportsRead, in.ID)
	if err != nil {
		return nil, err
	}
	return &importOutput{Status: http.StatusOK, Body: importBody(im)}, nil
}

func (s *server) importRejections(ctx context.Context, in *importIDInput) (*rejectionsOutput, error) {
	im, err := s.findImport(ctx, auth.ScopeImportsRead, in.ID)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := ingest.WriteRejections(ctx, s.db, im, &buf); err != nil {
		return nil, s.problem(ctx, err)
	}
	return &rejectionsOutput{ContentType: "text/csv; charset=utf-8", Body: buf.Bytes()}, nil
}

func (s *server) putMapping(ctx context.Context, in *putMappingInput) (*mappingOutput, error) {
	p, err := principal(ctx, auth.ScopeImportsWrite)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	if !mappingName.MatchString(in.Name) {
		return nil, s.problem(ctx, apperr.Field("path.name", "1 to 64 letters, digits, '.', '_' or '-'", in.Name))
	}
	m := in.Body
	if err := m.ValidateAt("body"); err != nil {
		return nil, s.problem(ctx, err)
	}
	raw, _ := json.Marshal(m)
	if err := s.db.SaveImportMapping(ctx, p.TenantID, in.Name, string(raw)); err != nil {
		return nil, s.problem(ctx, err)
	}
	saved, err := s.db.FindImportMapping(ctx, p.TenantID, in.Name)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &mappingOutput{Body: MappingBody{Name: in.Name, Mapping: m, UpdatedAt: &saved.UpdatedAt}}, nil
}

func (s *server) getMapping(ctx context.Context, in *mappingNameInput) (*mappingOutput, error) {
	p, err := principal(ctx, auth.ScopeImportsRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	saved, err := s.db.FindImportMapping(ctx, p.TenantID, in.Name)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	var m ingest.Mapping
	if err := json.Unmarshal([]byte(saved.Mapping), &m); err != nil {
		return nil, s.problem(ctx, err)
	}
	return &mappingOutput{Body: MappingBody{Name: in.Name, Mapping: m, UpdatedAt: &saved.UpdatedAt}}, nil
}

func (s *server) listMappings(ctx context.Context, _ *struct{}) (*mappingsOutput, error) {
	p, err := principal(ctx, auth.ScopeImportsRead)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	ms, err := s.db.FindImportMappings(ctx, p.TenantID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &mappingsOutput{}
	out.Body.Data = []MappingBody{}
	for _, sm := range ms {
		var m ingest.Mapping
		if err := json.Unmarshal([]byte(sm.Mapping), &m); err != nil {
			return nil, s.problem(ctx, err)
		}
		out.Body.Data = append(out.Body.Data, MappingBody{Name: sm.Name, Mapping: m, UpdatedAt: &sm.UpdatedAt})
	}
	return out, nil
}
