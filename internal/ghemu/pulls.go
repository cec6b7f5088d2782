package ghemu

// AddForeignPull makes GET commits/{sha}/pulls of the default repository
// list p, a pull request of another base (p.BaseRepo, e.g. a fork's pull
// request into its own default branch), before the repository's own: the
// commit endpoint answers across the fork network. Its number means nothing
// in the default repository.
func (s *Server) AddForeignPull(sha string, p Pull) *Pull {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repo()
	if p.HeadRepo == "" {
		p.HeadRepo = p.BaseRepo
	}
	if p.State == "" {
		p.State = "open"
	}
	if p.User == "" {
		p.User = "contributor"
	}
	if p.BaseRef == "" {
		p.BaseRef = "main"
	}
	if r.foreignPulls == nil {
		r.foreignPulls = map[string][]*Pull{}
	}
	r.foreignPulls[sha] = append(r.foreignPulls[sha], &p)
	return &p
}

// LagAssociation makes the next n lookups of commits/{sha}/pulls answer an
// empty list, as GitHub does until it has associated a pushed commit with
// its pull request.
func (s *Server) LagAssociation(sha string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repo()
	if r.assocLag == nil {
		r.assocLag = map[string]int{}
	}
	r.assocLag[sha] = n
}
