package ghclient

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v60/github"
)

// GitHub is a go-github client on hc for the REST API at apiURL, taken as
// given (GitHub Enterprise Server passes https://host/api/v3) rather than
// guessed; empty is api.github.com.
//
// go-github remembers a rate limit and refuses every later call locally
// until its reset. A call that must go out whatever happened before (the
// state write after a deploy) is made on a client of its own, built here
// again, so that memory cannot block it.
func GitHub(hc *http.Client, apiURL, token string) (*github.Client, error) {
	c := github.NewClient(hc)
	if token != "" {
		c = c.WithAuthToken(token)
	}
	if apiURL == "" {
		return c, nil
	}
	u, err := url.Parse(strings.TrimRight(apiURL, "/") + "/")
	if err != nil {
		return nil, fmt.Errorf("GITHUB_API_URL %q: %w", apiURL, err)
	}
	c.BaseURL = u
	return c, nil
}
