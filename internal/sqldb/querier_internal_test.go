package sqldb

import "testing"

// A querier keeps its dialect when it drops cancellation (readPoint): the
// quote's member read is written per engine.
func TestEngineOfSeesThroughUncancelled(t *testing.T) {
	for _, tc := range []struct {
		q    Querier
		want Engine
	}{
		{pgxQuerier{}, Postgres},
		{&pgTxQuerier{}, Postgres},
		{uncancelled{pgxQuerier{}}, Postgres},
		{sqlQuerier{}, SQLite},
		{uncancelled{sqlQuerier{}}, SQLite},
	} {
		if got := engineOf(tc.q); got != tc.want {
			t.Errorf("engineOf(%T) = %s, want %s", tc.q, got, tc.want)
		}
	}
}
