package main

import (
	"testing"

	"github.com/omo-platform/omo/internal/sqldb"
)

func TestProcsForSQLite(t *testing.T) {
	for _, c := range []struct {
		name       string
		engine     sqldb.Engine
		gomaxprocs string
		current    int
		want       int
		wantOK     bool
	}{
		{"sqlite gets one spare P", sqldb.SQLite, "", 2, 3, true},
		{"on one core too", sqldb.SQLite, "", 1, 2, true},
		{"the environment wins", sqldb.SQLite, "2", 2, 2, false},
		{"postgres is left alone", sqldb.Postgres, "", 2, 2, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == "GOMAXPROCS" {
					return c.gomaxprocs
				}
				return ""
			}
			n, ok := procsForSQLite(getenv, c.engine, c.current)
			if n != c.want || ok != c.wantOK {
				t.Fatalf("procsForSQLite = %d, %v; want %d, %v", n, ok, c.want, c.wantOK)
			}
		})
	}
}
