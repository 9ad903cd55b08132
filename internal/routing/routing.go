// Package routing decides where each line of an order is fulfilled from: the
// sourcing engine of order management. Route is a plain function over values
// (an order, the brand's locations, a stock snapshot and the brand's rule
// set) that answers a plan: shipments per location, the lines nobody can
// fill, and a trace of why each location was chosen or skipped. Simulate
// compares two rule sets over a set of cases. Nothing here touches storage.
package routing

import "math"

// Delivery methods. A line may override its order's method, so one order can
// take one item now at the store and ship another (a mixed basket).
const (
	MethodShip         = "ship"          // to the customer's address
	MethodClickCollect = "click_collect" // picked up at a location, from that location's stock
	MethodShipToStore  = "ship_to_store" // sent from any location to a store for pickup
	MethodTakeNow      = "take_now"      // handed over at the store of the sale
)

// Methods lists the delivery methods.
var Methods = []string{MethodShip, MethodClickCollect, MethodShipToStore, MethodTakeNow}

// Point is a WGS 84 position in degrees.
type Point struct {
	Latitude  float64 `json:"latitude" minimum:"-90" maximum:"90"`
	Longitude float64 `json:"longitude" minimum:"-180" maximum:"180"`
}

// Order is what to route.
type Order struct {
	// SaleLocationID is the location where an associate sells (a POS or
	// endless-aisle sale); take_now lines come from it. When empty, take_now
	// lines come from Delivery.LocationID.
	SaleLocationID string   `json:"sale_location_id,omitempty"`
	Delivery       Delivery `json:"delivery"`
	Lines          []Line   `json:"lines"`
}

// Delivery is where the order goes.
type Delivery struct {
	Method string `json:"method"`
	// Point is the delivery address's position, for distances of ship lines.
	Point *Point `json:"point,omitempty"`
	// Country (ISO 3166-1 alpha-2) of the delivery address: the market of
	// ship lines.
	Country string `json:"country,omitempty"`
	// LocationID is the pickup location (click_collect) or the destination
	// store (ship_to_store).
	LocationID string `json:"location_id,omitempty"`
}

// Line is one line of an order, or the part of it a shipment carries.
type Line struct {
	Key      string `json:"key"`
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
	// Method overrides the order's delivery method for this line.
	Method string `json:"method,omitempty"`
}

// Location is a location as routing sees it.
type Location struct {
	ID      string `json:"id"`
	Code    string `json:"code"`
	Type    string `json:"type"`              // one of location.Types
	Country string `json:"country,omitempty"` // ISO 3166-1 alpha-2 of its address
	Point   *Point `json:"point,omitempty"`
	// Active is false for locations that do not trade now (closed, planned).
	Active bool `json:"active"`
	// DailyCapacity is how many orders the location fulfils a day; 0 is no limit.
	DailyCapacity int64 `json:"daily_capacity,omitempty"`
	// UsedToday is how many orders it took on its local day so far.
	UsedToday int64 `json:"used_today,omitempty"`
}

// Stock is the units available to sell: location id → SKU → units.
type Stock map[string]map[string]int64

// Plan is the answer of Route.
type Plan struct {
	Shipments []Shipment     `json:"shipments"`
	Unfilled  []UnfilledLine `json:"unfilled"`
	Trace     []Decision     `json:"trace"`
	// RuleVersion is the version of the brand's rule set that decided, at
	// checkout (0: the default rules); Route leaves it to the caller.
	RuleVersion int `json:"rule_version,omitempty"`
}

// Shipment is what one location sends (or hands over) by one method.
type Shipment struct {
	LocationID   string `json:"location_id"`
	LocationCode string `json:"location_code"`
	Method       string `json:"method"`
	Lines        []Line `json:"lines"`
	// DistanceKm is from the location to the delivery point or destination
	// store; nil when either position is unknown or nothing travels
	// (click_collect, take_now).
	DistanceKm *float64 `json:"distance_km"`
}

// UnfilledLine is the part of a line no location could fill, and why.
type UnfilledLine struct {
	Line
	Reason string `json:"reason"`
}

// Decision outcomes.
const (
	Chosen  = "chosen"
	Skipped = "skipped"
)

// Decision says why a location was chosen or skipped for the lines of one
// delivery method.
type Decision struct {
	LocationID   string `json:"location_id"`
	LocationCode string `json:"location_code"`
	Method       string `json:"method"`
	Outcome      string `json:"outcome"`
	Reason       string `json:"reason"`
}

// Split reports whether the lines of one delivery method leave from more than
// one location.
func (p Plan) Split() bool {
	seen := map[string]bool{}
	for _, s := range p.Shipments {
		if seen[s.Method] {
			return true
		}
		seen[s.Method] = true
	}
	return false
}

// DistanceKm sums the known distances of the shipments.
func (p Plan) DistanceKm() float64 {
	var d float64
	for _, s := range p.Shipments {
		if s.DistanceKm != nil {
			d += *s.DistanceKm
		}
	}
	return d
}

// CapacityLocationIDs lists, once each, the locations whose daily capacity
// the plan uses: every shipment but take_now (a counter sale is no
// fulfilment work).
func (p Plan) CapacityLocationIDs() []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range p.Shipments {
		if s.Method != MethodTakeNow && !seen[s.LocationID] {
			seen[s.LocationID] = true
			out = append(out, s.LocationID)
		}
	}
	return out
}

// earthRadiusKm is the mean Earth radius (IUGG).
const earthRadiusKm = 6371.0088

// DistanceKm is the great-circle (haversine) distance between two points.
func DistanceKm(a, b Point) float64 {
	rad := math.Pi / 180
	dLat := (b.Latitude - a.Latitude) * rad
	dLon := (b.Longitude - a.Longitude) * rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) +
		math.Cos(a.Latitude*rad)*math.Cos(b.Latitude*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadiusKm * math.Asin(math.Sqrt(math.Min(1, h)))
}

// roundKm rounds a distance to 10 m, as plans show it.
func roundKm(d float64) float64 { return math.Round(d*100) / 100 }
