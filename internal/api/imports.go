package api

// importRoutes registers the batch import API (/v1/imports).
func (s *server) importRoutes() {}
