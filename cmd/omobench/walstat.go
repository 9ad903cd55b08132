package main

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
)

// walstat tells which B-trees a SQLite write load dirties: it reads the
// frames of a copy of the -wal file taken during the load (every frame is
// one page written, twice: into the WAL by the writer, into the database
// by a checkpoint) and names each page's table or index from the database
// afterwards (SQLite's dbstat). Frames per commit, divided by the requests
// a commit holds, is the write cost of one request; an index that shows up
// once per request although its key did not change is a statement setting
// a column it need not set (how the review-date index of loyalty members
// was found).
//
//	omobench --keep --scenarios loyalty …   # and, during the run:
//	cp /tmp/omobench-*/omo.db-wal /tmp/wal.copy
//	omobench walstat --wal /tmp/wal.copy --db /tmp/omobench-*/omo.db
func walstat(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("omobench walstat", flag.ContinueOnError)
	walPath := fs.String("wal", "", "a copy of a database's -wal file")
	dbPath := fs.String("db", "", "the database the WAL belongs to (read only, for the page owners)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *walPath == "" || *dbPath == "" {
		return errors.New("walstat needs --wal and --db")
	}
	raw, err := os.ReadFile(*walPath)
	if err != nil {
		return err
	}
	w, err := parseWAL(raw)
	if err != nil {
		return err
	}
	owners, err := pageOwners(context.Background(), *dbPath)
	if err != nil {
		return err
	}
	writeWALStat(stdout, w, owners)
	return nil
}

// walFrames are the valid frames of a WAL: the pages they hold, in order,
// and how many commits they end.
type walFrames struct {
	pageSize int
	pages    []uint32
	commits  int
}

// parseWAL reads the frames that belong to the WAL's current generation
// (their salts match the header's), as recovery would, without checksums.
func parseWAL(raw []byte) (walFrames, error) {
	const headerLen, frameHeaderLen = 32, 24
	if len(raw) < headerLen {
		return walFrames{}, errors.New("not a WAL: shorter than its header")
	}
	if magic := binary.BigEndian.Uint32(raw); magic&^1 != 0x377f0682 {
		return walFrames{}, fmt.Errorf("not a WAL: magic %#x", magic)
	}
	w := walFrames{pageSize: int(binary.BigEndian.Uint32(raw[8:]))}
	if w.pageSize < 512 || w.pageSize > 65536 || w.pageSize&(w.pageSize-1) != 0 {
		return w, fmt.Errorf("not a WAL: page size %d", w.pageSize)
	}
	salt := raw[16:24]
	for off := headerLen; off+frameHeaderLen+w.pageSize <= len(raw); off += frameHeaderLen + w.pageSize {
		h := raw[off : off+frameHeaderLen]
		if string(h[8:16]) != string(salt) {
			break // a frame of an earlier generation: the WAL ends here
		}
		w.pages = append(w.pages, binary.BigEndian.Uint32(h))
		if binary.BigEndian.Uint32(h[4:]) != 0 {
			w.commits++
		}
	}
	return w, nil
}

// pageOwners names the table or index each page of a database belongs to.
func pageOwners(ctx context.Context, path string) (map[uint32]string, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT pageno, name FROM dbstat`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	owners := map[uint32]string{}
	for rows.Next() {
		var page uint32
		var name string
		if err := rows.Scan(&page, &name); err != nil {
			return nil, err
		}
		owners[page] = name
	}
	return owners, rows.Err()
}

func writeWALStat(out io.Writer, w walFrames, owners map[uint32]string) {
	counts := map[string]int{}
	for _, p := range w.pages {
		name, ok := owners[p]
		if !ok {
			name = "(page not in the database now)"
		}
		counts[name]++
	}
	type row struct {
		name   string
		frames int
	}
	var rows []row
	for n, c := range counts {
		rows = append(rows, row{n, c})
	}
	slices.SortFunc(rows, func(a, b row) int { return cmp.Or(b.frames-a.frames, cmp.Compare(a.name, b.name)) })
	perCommit := 0.0
	if w.commits > 0 {
		perCommit = float64(len(w.pages)) / float64(w.commits)
	}
	fmt.Fprintf(out, "%d frames of %d bytes in %d commits (%.1f frames per commit)\n\n", len(w.pages), w.pageSize, w.commits, perCommit)
	fmt.Fprintln(out, "| table or index | frames | per commit |\n|---|---:|---:|")
	for _, r := range rows {
		fmt.Fprintf(out, "| %s | %d | %.2f |\n", r.name, r.frames, float64(r.frames)/float64(max(w.commits, 1)))
	}
}
