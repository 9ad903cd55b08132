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

func TestNiceFlag(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    int
		wantErr bool
	}{
		{"-10", -10, false},
		{" 0 ", 0, false},
		{"19", 19, false},
		{"-20", -20, false},
		{"20", 0, true},
		{"-21", 0, true},
		{"high", 0, true},
		{"", 0, true},
	} {
		var v int
		err := niceFlag{&v}.Set(tc.in)
		if (err != nil) != tc.wantErr || v != tc.want {
			t.Errorf("Set(%q) = %d, %v; want %d, error %v", tc.in, v, err, tc.want, tc.wantErr)
		}
	}
}
