package sqldb

import (
	"testing"
	"time"
)

// The writer counts as having time to spare only over a full period in
// which it was busy less than half the time.
func TestWriterLoad_SpareOnlyWhenBusyLessThanHalf(t *testing.T) {
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		busy  time.Duration // of every 10 ms
		spare bool
	}{
		{"idle-ish", 2 * time.Millisecond, true},
		{"half", 5 * time.Millisecond, false},
		{"saturated", 10 * time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l writerLoad
			if l.spare() {
				t.Fatal("spare before a period was measured")
			}
			for i := range 12 { // 120 ms: one full period
				start := at.Add(time.Duration(i) * 10 * time.Millisecond)
				l.add(start, start.Add(tc.busy))
			}
			if got := l.spare(); got != tc.spare {
				t.Errorf("spare = %v, want %v (busy %s of every 10 ms)", got, tc.spare, tc.busy)
			}
		})
	}
}
