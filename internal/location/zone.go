package location

import (
	"sync"
	"time"
)

// zones caches loaded time zones: time.LoadLocation reads and parses the
// zone database on every call, and sales, quotes and expiry dates need a
// location's zone on every request.
var zones sync.Map // name → *time.Location

// Zone loads an IANA time zone once per process. Errors are not cached
// (they are rare and cheap to repeat).
func Zone(name string) (*time.Location, error) {
	if z, ok := zones.Load(name); ok {
		return z.(*time.Location), nil
	}
	z, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, z)
	return z, nil
}
