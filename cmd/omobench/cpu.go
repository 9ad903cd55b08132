package main

import (
	"fmt"
	"runtime"
	"time"
)

// cpuProbe reads, at one instant, the CPU time used so far by the omo server
// (pid, when non-zero), by the PostgreSQL backends serving database db (when
// set), by this bench, and by every process on the machine.
type cpuProbe struct {
	pid int
	db  string
}

type cpuSample struct{ server, db, self, all time.Duration }

func (p cpuProbe) read() cpuSample {
	s := cpuSample{db: backendCPU(p.db), self: selfCPU(), all: systemCPU()}
	if p.pid != 0 {
		s.server, _ = procCPU(p.pid)
	}
	return s
}

// cpuUse is the average number of cores each party used over a run.
type cpuUse struct {
	Server, DB, Bench, Other float64
	hasServer, hasDB         bool
}

func (s cpuSample) since(before cpuSample, elapsed time.Duration) cpuUse {
	sec := elapsed.Seconds()
	if sec <= 0 {
		return cpuUse{}
	}
	server, db, self, all := s.server-before.server, s.db-before.db, s.self-before.self, s.all-before.all
	return cpuUse{Server: server.Seconds() / sec, DB: db.Seconds() / sec, Bench: self.Seconds() / sec,
		Other: max(0, all-server-db-self).Seconds() / sec, hasServer: s.server > 0, hasDB: s.db > 0}
}

func (u cpuUse) String() string {
	out := ""
	if u.hasServer {
		out += fmt.Sprintf("omo serve %.2f, ", u.Server)
	}
	if u.hasDB {
		out += fmt.Sprintf("PostgreSQL backends %.2f, ", u.DB)
	}
	return out + fmt.Sprintf("bench %.2f, other processes %.2f (cores of %d)", u.Bench, u.Other, runtime.NumCPU())
}

// label names the parties in the order String lists them.
func (u cpuUse) label() string {
	out := "CPU: "
	if u.hasServer {
		out += "omo serve / "
	}
	if u.hasDB {
		out += "PostgreSQL backends of the bench database / "
	}
	return out + "bench (load generator or in-process OMO) / other processes"
}
