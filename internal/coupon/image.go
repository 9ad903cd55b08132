package coupon

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/code128"
	"github.com/boombuler/barcode/qr"
)

// Image limits.
const (
	MaxImageSize  = 4096 // pixels per side: bounds the memory one request can ask for
	maxImageInput = 64   // characters; longer than any canonical code
	qrQuietZone   = 4    // modules of white around a QR code (ISO/IEC 18004)
	barQuietZone  = 10   // modules of white left and right of Code 128 (ISO/IEC 15417)
)

// QRPNG draws code as a QR code (error correction level M, about 15% of the
// symbol may be damaged) in a size×size black-and-white PNG, the symbol
// centred with its 4-module quiet zone. Each module is a whole number of
// pixels, so size must leave at least one pixel per module; 8 or more per
// module scan well from paper. code must be a canonical code (A–Z, 0–9 and
// hyphens), which QR encodes compactly in its alphanumeric mode.
func QRPNG(code string, size int) ([]byte, error) {
	if err := checkImageInput(code, size, size); err != nil {
		return nil, err
	}
	bc, err := qr.Encode(code, qr.M, qr.Auto)
	if err != nil {
		return nil, fmt.Errorf("coupon: QR code for %q: %w", code, err)
	}
	modules := bc.Bounds().Dx()
	scale := size / (modules + 2*qrQuietZone)
	if scale < 1 {
		return nil, fmt.Errorf("coupon: a %d px QR code is too small for %q: it needs at least %d px",
			size, code, modules+2*qrQuietZone)
	}
	offset := (size - modules*scale) / 2
	return encodePNG(draw(bc, size, size, image.Pt(offset, offset), scale, scale))
}

// BarcodePNG draws code as a Code 128 barcode in a width×height PNG, bars
// spanning the full height and centred with a 10-module quiet zone each
// side. The hyphens of code are left out of the barcode: they would make it
// a third wider, and Normalize reads the code without them. Each module is
// a whole number of pixels, so width must leave at least one per module;
// 2 or more scan reliably from print.
func BarcodePNG(code string, width, height int) ([]byte, error) {
	if err := checkImageInput(code, width, height); err != nil {
		return nil, err
	}
	content := strings.ReplaceAll(code, "-", "")
	if content == "" {
		return nil, fmt.Errorf("coupon: code %q has nothing but hyphens", code)
	}
	bc, err := code128.Encode(content)
	if err != nil {
		return nil, fmt.Errorf("coupon: Code 128 for %q: %w", code, err)
	}
	modules := bc.Bounds().Dx()
	scale := width / (modules + 2*barQuietZone)
	if scale < 1 {
		return nil, fmt.Errorf("coupon: a %d px wide barcode is too narrow for %q: it needs at least %d px",
			width, code, modules+2*barQuietZone)
	}
	return encodePNG(draw(bc, width, height, image.Pt((width-modules*scale)/2, 0), scale, height))
}

// checkImageInput keeps image requests to codes and sizes that make sense:
// the API may pass both straight from a client.
func checkImageInput(code string, width, height int) error {
	if width < 1 || height < 1 || width > MaxImageSize || height > MaxImageSize {
		return fmt.Errorf("coupon: image size %d×%d is outside 1..%d", width, height, MaxImageSize)
	}
	if code == "" || len(code) > maxImageInput {
		return fmt.Errorf("coupon: code for an image must have 1 to %d characters", maxImageInput)
	}
	for i := range len(code) {
		if !isUpperAlnum(code[i]) && code[i] != '-' {
			return fmt.Errorf("coupon: code %q for an image may hold only A-Z, 0-9 and hyphens", code)
		}
	}
	return nil
}

// palette is white then black, so a new image is all white and the PNG
// encoder writes one bit per pixel.
var palette = color.Palette{color.White, color.Black}

// draw paints the dark modules of bc on a white width×height canvas, each
// module scaleX×scaleY pixels, the symbol's top left at origin.
func draw(bc barcode.Barcode, width, height int, origin image.Point, scaleX, scaleY int) *image.Paletted {
	img := image.NewPaletted(image.Rect(0, 0, width, height), palette)
	b := bc.Bounds()
	for my := b.Min.Y; my < b.Max.Y; my++ {
		for mx := b.Min.X; mx < b.Max.X; mx++ {
			if !isDark(bc.At(mx, my)) {
				continue
			}
			x0, y0 := origin.X+(mx-b.Min.X)*scaleX, origin.Y+(my-b.Min.Y)*scaleY
			fill(img, image.Rect(x0, y0, x0+scaleX, y0+scaleY))
		}
	}
	return img
}

func isDark(c color.Color) bool { return color.GrayModel.Convert(c).(color.Gray).Y < 128 }

func fill(img *image.Paletted, r image.Rectangle) {
	r = r.Intersect(img.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := img.Pix[img.PixOffset(r.Min.X, y):img.PixOffset(r.Max.X, y)]
		for i := range row {
			row[i] = 1
		}
	}
}

func encodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("coupon: encoding PNG: %w", err)
	}
	return buf.Bytes(), nil
}
