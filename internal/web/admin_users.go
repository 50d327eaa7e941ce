package web

// adminUserRoutes registers the user administration pages for organisation
// and national admins: lists, search, export, suspension and roles.
func (s *Server) adminUserRoutes(r *router) {}
