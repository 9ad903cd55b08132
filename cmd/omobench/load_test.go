package main

import (
	"context"
	"testing"
	"time"
)

// At a fixed offered rate every call due before the end is made, and a
// server slower than the rate shows its queue in the latencies (timed from
// each call's due time), where a closed loop would show only its service
// time: 2 clients, 60 calls/s offered for 1 s, 50 ms a call (capacity
// 40/s), so the last calls answer about half a second after they were due.
func TestRunLoadAt_CountsTheQueueOfASlowServer(t *testing.T) {
	slow := func(ctx context.Context, w *worker, seq int) outcome {
		time.Sleep(50 * time.Millisecond)
		return outcome{status: 200}
	}
	r := runLoadAt(context.Background(), 2, time.Second, 1000, 60, cpuProbe{}, slow)
	if r.Requests != 60 || r.Errors != 0 {
		t.Errorf("%d calls, %d errors; want the 60 due in the second, none failed", r.Requests, r.Errors)
	}
	if r.Lat.P99 < 300*time.Millisecond {
		t.Errorf("p99 %s: the queue of calls waiting for a client is not counted", r.Lat.P99)
	}
	closed := runLoad(context.Background(), 2, 300*time.Millisecond, 1000, cpuProbe{}, slow)
	if closed.Lat.P99 > 400*time.Millisecond {
		t.Errorf("closed loop p99 %s, want about the 50 ms a call takes", closed.Lat.P99)
	}
}
