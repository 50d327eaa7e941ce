package web

// profileRoutes registers the pages where users keep their own details
// current (P14) and record their information governance training (T18).
func (s *Server) profileRoutes(r *router) {}
