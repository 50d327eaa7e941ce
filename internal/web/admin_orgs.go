package web

// adminOrgRoutes registers the organisation browse and search pages for
// national admins.
func (s *Server) adminOrgRoutes(r *router) {}
