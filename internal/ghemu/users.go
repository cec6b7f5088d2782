package ghemu

import (
	"net/http"
	"strings"
)

// userRoutes serves GET /user (not in the OpenAPI subset: recorded as
// unchecked). As on GitHub, a personal access token gets its user; an
// installation token (GITHUB_TOKEN or a GitHub App's, whose login ends in
// "[bot]") is refused with "Resource not accessible by integration".
func (s *Server) userRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /user", func(w http.ResponseWriter, r *http.Request) {
		const route = "GET /user"
		entry := LoggedRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Route: route}
		rec := &recorder{header: http.Header{}, status: 200}
		f := s.takeFault(route)
		if s.inject(w, f, &entry) {
			return
		}
		if f != nil && f.afterWork() {
			sp := spoil(w, f)
			defer sp.send()
			w = sp
		}
		s.mu.Lock()
		s.uncheckedSeen = append(s.uncheckedSeen, route)
		tok := s.tokens[strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(r.Header.Get("Authorization"), "token "), "Bearer "))]
		s.mu.Unlock()
		switch {
		case tok == nil:
			s.writeJSON(w, rec, 401, apiError{Message: "Bad credentials", DocumentationURL: "https://docs.github.com/rest"}, nil, &entry)
		case strings.HasSuffix(tok.Login, "[bot]"):
			s.writeJSON(w, rec, 403, apiError{Message: "Resource not accessible by integration",
				DocumentationURL: "https://docs.github.com/rest/users/users#get-the-authenticated-user", Status: "403"}, nil, &entry)
		default:
			s.writeJSON(w, rec, 200, s.user(tok.Login), nil, &entry)
		}
	})
}
