package coupon

import (
	"bytes"
	"image"
	"image/png"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// decodePNG reads a PNG and checks its size.
func decodePNG(t *testing.T, data []byte, width, height int) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != width || b.Dy() != height {
		t.Fatalf("image is %d×%d, want %d×%d", b.Dx(), b.Dy(), width, height)
	}
	return img
}

// scan decodes img with a ZXing reader (a test-only dependency).
func scan(t *testing.T, reader gozxing.Reader, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := reader.Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: false})
	if err != nil {
		t.Fatalf("scanning: %v", err)
	}
	return res.GetText()
}

func TestQRPNG_Scans(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		spec Spec
		size int
	}{
		{"default code, 200 px", Spec{}, 200},
		{"prefixed code, 300 px", Spec{Prefix: "HK50"}, 300},
		{"longest code, 512 px", Spec{Prefix: "ABCDEFGH", BodyLen: MaxBodyLen, Group: 1}, 512},
		{"smallest size that fits", Spec{}, 29}, // version 1: 21 modules + 8 quiet
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code := mustGenerate(t, tt.spec)
			data, err := QRPNG(code, tt.size)
			if err != nil {
				t.Fatal(err)
			}
			img := decodePNG(t, data, tt.size, tt.size)
			if got := scan(t, qrcode.NewQRCodeReader(), img); got != code {
				t.Errorf("QR code reads %q, want %q", got, code)
			}
			if c := img.At(0, 0); !isWhite(c) {
				t.Errorf("corner pixel is %v, want the white quiet zone", c)
			}
		})
	}
}

func isWhite(c interface{ RGBA() (r, g, b, a uint32) }) bool {
	r, g, b, _ := c.RGBA()
	return r == 0xffff && g == 0xffff && b == 0xffff
}

func TestBarcodePNG_Scans(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		spec          Spec
		width, height int
	}{
		{"default code", Spec{}, 400, 100},
		{"prefixed code", Spec{Prefix: "HK50"}, 600, 120},
		{"ungrouped", Spec{Group: -1}, 500, 80},
		{"one pixel high", Spec{}, 400, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code := mustGenerate(t, tt.spec)
			data, err := BarcodePNG(code, tt.width, tt.height)
			if err != nil {
				t.Fatal(err)
			}
			img := decodePNG(t, data, tt.width, tt.height)
			got := scan(t, oned.NewCode128Reader(), img)
			if want := strings.ReplaceAll(code, "-", ""); got != want {
				t.Errorf("barcode reads %q, want %q", got, want)
			}
			if back, err := Normalize(got, tt.spec); err != nil || back != code {
				t.Errorf("Normalize(scanned %q) = %q, %v; want %q", got, back, err, code)
			}
		})
	}
}

func TestImages_Errors(t *testing.T) {
	t.Parallel()
	code := "7KWT-MX3C-RNAF-9HJW"
	tests := []struct {
		name    string
		draw    func() ([]byte, error)
		message string
	}{
		{"QR too small", func() ([]byte, error) { return QRPNG(code, 28) }, "needs at least 29 px"},
		{"QR zero size", func() ([]byte, error) { return QRPNG(code, 0) }, "outside 1..4096"},
		{"QR huge", func() ([]byte, error) { return QRPNG(code, MaxImageSize+1) }, "outside 1..4096"},
		{"QR lower case", func() ([]byte, error) { return QRPNG(strings.ToLower(code), 200) }, "only A-Z, 0-9 and hyphens"},
		{"QR empty", func() ([]byte, error) { return QRPNG("", 200) }, "1 to 64 characters"},
		{"QR too long", func() ([]byte, error) { return QRPNG(strings.Repeat("A", 65), 200) }, "1 to 64 characters"},
		{"barcode too narrow", func() ([]byte, error) { return BarcodePNG(code, 100, 50) }, "too narrow"},
		{"barcode zero height", func() ([]byte, error) { return BarcodePNG(code, 400, 0) }, "outside 1..4096"},
		{"barcode only hyphens", func() ([]byte, error) { return BarcodePNG("---", 400, 50) }, "nothing but hyphens"},
		{"barcode space", func() ([]byte, error) { return BarcodePNG("AB CD", 400, 50) }, "only A-Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data, err := tt.draw()
			if err == nil || !strings.Contains(err.Error(), tt.message) || data != nil {
				t.Errorf("got %d bytes, %v; want an error containing %q", len(data), err, tt.message)
			}
		})
	}
}
