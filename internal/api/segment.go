package api

// segmentRoutes registers the Segment-compatible tracking API (/v1/identify,
// /v1/track, /v1/batch, …). Built in internal/api/segment*.go.
func (s *server) segmentRoutes() {}
