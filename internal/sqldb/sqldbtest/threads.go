package sqldbtest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// ThreadNices counts the threads of process pid by nice value, from
// /proc/PID/task/*/stat (Linux; the test is skipped elsewhere). Threads that
// end while being read are left out.
func ThreadNices(t testing.TB, pid int) map[int]int {
	t.Helper()
	tasks, err := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "stat"))
	if err != nil || len(tasks) == 0 {
		t.Skipf("no /proc/%d/task here: thread priorities are read on Linux only", pid)
	}
	nices := map[int]int{}
	for _, path := range tasks {
		raw, err := os.ReadFile(path)
		if err != nil {
			continue // the thread ended
		}
		// "tid (comm) state ppid ...": comm may hold spaces, so the fields
		// are counted from the last ')'; nice is field 19, the 17th after it.
		i := strings.LastIndexByte(string(raw), ')')
		fields := strings.Fields(string(raw[i+1:]))
		if i < 0 || len(fields) < 17 {
			t.Fatalf("%s: unexpected format %q", path, raw)
		}
		n, err := strconv.Atoi(fields[16])
		if err != nil {
			t.Fatalf("%s: nice %q: %v", path, fields[16], err)
		}
		nices[n]++
	}
	return nices
}
