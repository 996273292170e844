package config

import (
	"fmt"
	"net/url"
	"strings"
)

// WebOriginList returns the origins of --web-origins, each in the form
// scheme://host[:port], lowercased, without empty entries.
func WebOriginList(c Config) []string {
	var out []string
	for _, o := range strings.Split(c.WebOrigins, ",") {
		if o = strings.ToLower(strings.TrimSpace(o)); o != "" {
			out = append(out, strings.TrimSuffix(o, "/"))
		}
	}
	return out
}

// validateWeb checks --web-origins: each entry is an http(s) origin with
// no path, query or fragment.
func (c *Config) validateWeb() []error {
	var errs []error
	for _, o := range WebOriginList(*c) {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" ||
			u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			errs = append(errs, fmt.Errorf("--web-origins %s: %q is not an origin (want http(s)://host[:port])", quote(c.WebOrigins), o))
		}
	}
	return errs
}
