package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"

	"github.com/omo-platform/omo/internal/apperr"
)

// PageParams are the query parameters of every list.
type PageParams struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"200" default:"50" doc:"how many items to return"`
	Cursor string `query:"cursor" maxLength:"200" doc:"next_cursor of the previous page"`
}

// Page is the envelope of every list.
type Page[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor" doc:"pass as cursor for the next page; null on the last page"`
}

// after decodes the cursor: an opaque, URL-safe token of the last item's key.
func (p PageParams) after() (string, error) {
	if p.Cursor == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(p.Cursor)
	if err != nil || len(b) == 0 {
		return "", apperr.Field("query.cursor", "not a cursor returned by this API", p.Cursor)
	}
	return string(b), nil
}

func (p PageParams) limit() int {
	if p.Limit <= 0 {
		return 50
	}
	return p.Limit
}

// paginate builds a page from limit+1 fetched items.
func paginate[S, T any](items []S, limit int, key func(S) string, show func(S) T) Page[T] {
	page := Page[T]{Data: make([]T, 0, min(len(items), limit))}
	for i, it := range items {
		if i == limit {
			c := base64.RawURLEncoding.EncodeToString([]byte(key(items[i-1])))
			page.NextCursor = &c
			break
		}
		page.Data = append(page.Data, show(it))
	}
	return page
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
