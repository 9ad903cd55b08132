package event

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// BenchmarkDecodeBatch decodes a /v1/batch body of 100 calls shaped as
// analytics.js sends them (page, track and identify with full context), the
// body omobench's batch scenario posts. Reports events/s of one core.
func BenchmarkDecodeBatch(b *testing.B) {
	body := benchBatch()
	at := time.Now()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		got, err := DecodeBatch(body, at)
		if err != nil || len(got.Events) != 100 {
			b.Fatal(err, len(got.Events), got.Dropped)
		}
	}
	b.ReportMetric(float64(100*b.N)/b.Elapsed().Seconds(), "events/s")
}

func benchBatch() []byte {
	const ctx = `"context":{"library":{"name":"analytics.js","version":"next-1.70.0"},"locale":"zh-HK",` +
		`"page":{"path":"/","referrer":"https://www.google.com/","url":"https://shop.example.hk/"},` +
		`"userAgent":"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",` +
		`"ip":"203.0.113.7"},"integrations":{"All":true}`
	var b bytes.Buffer
	b.WriteString(`{"batch":[`)
	for i := range 100 {
		if i > 0 {
			b.WriteByte(',')
		}
		anon, ts := fmt.Sprintf("anon-%d", i/10), "2026-12-07T05:00:00.123Z"
		switch {
		case i%10 == 9:
			fmt.Fprintf(&b, `{"type":"identify","messageId":"m-%d","anonymousId":%q,"userId":"user-%d","timestamp":%q,`+
				`"traits":{"email":"visitor%d@bench.omo.hk","firstName":"Mei"},%s}`, i, anon, i, ts, i, ctx)
		case i%10 == 0:
			fmt.Fprintf(&b, `{"type":"page","messageId":"m-%d","anonymousId":%q,"timestamp":%q,"name":"Home",`+
				`"properties":{"path":"/","url":"https://shop.example.hk/","title":"OMO Shop"},%s}`, i, anon, ts, ctx)
		default:
			fmt.Fprintf(&b, `{"type":"track","messageId":"m-%d","anonymousId":%q,"timestamp":%q,"event":"Product Viewed",`+
				`"properties":{"product_id":"P-%d","sku":"SKU-%d","name":"Linen shirt","category":"tops","price":129.9,"currency":"HKD"},%s}`,
				i, anon, ts, i, i, ctx)
		}
	}
	b.WriteString(`],"sentAt":"2026-12-07T05:00:01Z"}`)
	return b.Bytes()
}

func TestDecodeErrorsSayWhere(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"batch":[{"type":5,"userId":"u","messageId":"m"}]}`, "type must not be a JSON number"},
		{`{"batch":[{"type":"track","userId":"u","event":"e","properties":[1]}]}`, "properties must be a JSON object"},
	} {
		b, err := DecodeBatch([]byte(tc.body), time.Now())
		if err != nil || len(b.Dropped) != 1 || !strings.Contains(b.Dropped[0].Reason, tc.want) {
			t.Errorf("%s: %v %+v, want a drop saying %q", tc.body, err, b.Dropped, tc.want)
		}
	}
	for _, tc := range []struct{ body, want string }{
		{`{"batch":[{"type":"track"},}`, "invalid JSON at byte 26"},
		{`{"batch":{"a":1}}`, "batch must not be a JSON object"},
	} {
		if _, err := DecodeBatch([]byte(tc.body), time.Now()); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.body, err, tc.want)
		}
	}
}
