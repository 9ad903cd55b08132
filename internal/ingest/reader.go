// Package ingest is OMO's one import pipeline: read a file (CSV of any
// delimiter or JSON Lines, UTF-8 with or without a byte-order mark, gzip or
// not), parse its rows, map them with a saved mapping into customers,
// transactions or events, validate, and load them in chunks that each commit
// with the import's checkpoint, so an import killed at any point resumes
// with nothing lost and nothing applied twice. Rejected rows are kept with
// their line number and reason; they never hold back the good ones.
package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Row is one record of the file: its values by column name, the line it
// starts on, and its raw text for the rejection report.
type Row struct {
	Line   int
	Values map[string]string
	Raw    []string
}

// RowReader yields the rows of a file; Next returns io.EOF at the end. A
// row that cannot be parsed comes back as a *RowError, and reading goes on.
type RowReader interface {
	Next() (Row, error)
}

// RowError is a row the reader could not parse.
type RowError struct {
	Line   int
	Reason string
	Raw    []string
}

func (e *RowError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// Decompress returns r itself, or a gzip reader when r starts with gzip's
// magic bytes, after skipping a UTF-8 byte-order mark.
func Decompress(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(2)
	var out io.Reader = br
	if len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("the file looks gzipped but is not: %w", err)
		}
		out = bufio.NewReaderSize(gz, 64<<10)
	}
	b := out.(*bufio.Reader)
	if bom, _ := b.Peek(3); bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = b.Discard(3)
	}
	return b, nil
}

// NewReader opens a decompressed stream in the mapping's format.
func NewReader(r io.Reader, m Mapping) (RowReader, error) {
	if m.Format == FormatJSONL {
		return &jsonlReader{sc: newLineScanner(r)}, nil
	}
	return newCSVReader(r, m.delimiter())
}

type csvReader struct {
	r      *csv.Reader
	header []string
}

func newCSVReader(r io.Reader, delim rune) (*csvReader, error) {
	cr := csv.NewReader(r)
	cr.Comma = delim
	cr.FieldsPerRecord = -1 // a short or long row is the row's problem, not the file's
	cr.ReuseRecord = false
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("the file is empty: no header row")
	}
	if err != nil {
		return nil, fmt.Errorf("the header row cannot be read: %w", err)
	}
	seen := map[string]bool{}
	for i, h := range header {
		if h == "" {
			return nil, fmt.Errorf("column %d of the header is empty", i+1)
		}
		if seen[h] {
			return nil, fmt.Errorf("the header names column %q twice", h)
		}
		seen[h] = true
	}
	return &csvReader{r: cr, header: header}, nil
}

func (c *csvReader) Next() (Row, error) {
	rec, err := c.r.Read()
	if errors.Is(err, io.EOF) {
		return Row{}, io.EOF
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return Row{}, &RowError{Line: pe.StartLine, Reason: "malformed CSV: " + pe.Err.Error(), Raw: rec}
		}
		return Row{}, err
	}
	line, _ := c.r.FieldPos(0) // a record read without error has a field
	if len(rec) != len(c.header) {
		return Row{}, &RowError{Line: line, Raw: rec,
			Reason: fmt.Sprintf("has %d fields, the header has %d", len(rec), len(c.header))}
	}
	vals := make(map[string]string, len(rec))
	for i, v := range rec {
		if !utf8.ValidString(v) {
			return Row{}, &RowError{Line: line, Raw: rec, Reason: fmt.Sprintf("column %s is not UTF-8", c.header[i])}
		}
		vals[c.header[i]] = v
	}
	return Row{Line: line, Values: vals, Raw: rec}, nil
}

// maxLine bounds one JSON Lines record.
const maxLine = 1 << 20

func newLineScanner(r io.Reader) *bufio.Scanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	return sc
}

type jsonlReader struct {
	sc   *bufio.Scanner
	line int
}

func (j *jsonlReader) Next() (Row, error) {
	for j.sc.Scan() {
		j.line++
		text := bytes.TrimSpace(j.sc.Bytes())
		if len(text) == 0 {
			continue
		}
		raw := []string{string(text)}
		var obj map[string]any
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.UseNumber() // keep amounts exactly as written
		if err := dec.Decode(&obj); err != nil {
			return Row{}, &RowError{Line: j.line, Raw: raw, Reason: "not a JSON object: " + err.Error()}
		}
		vals := make(map[string]string, len(obj))
		for k, v := range obj {
			vals[k] = scalarString(v)
		}
		return Row{Line: j.line, Values: vals, Raw: raw}, nil
	}
	if err := j.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return Row{}, fmt.Errorf("line %d is longer than %d bytes", j.line+1, maxLine)
		}
		return Row{}, err
	}
	return Row{}, io.EOF
}

// scalarString shows a JSON value as the text a CSV cell would hold.
func scalarString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	b, _ := json.Marshal(v)
	return string(b)
}
