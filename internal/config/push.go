package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/parley-im/parley/internal/jid"
)

// ComponentSecretFiles parses --component-secrets: domain -> secret file.
func ComponentSecretFiles(c Config) (map[string]string, error) {
	out := make(map[string]string)
	if strings.TrimSpace(c.ComponentSecrets) == "" {
		return out, nil
	}
	for _, pair := range strings.Split(c.ComponentSecrets, ",") {
		domain, file, ok := strings.Cut(strings.TrimSpace(pair), "=")
		domain, file = strings.TrimSpace(domain), strings.TrimSpace(file)
		if !ok || domain == "" || file == "" {
			return nil, fmt.Errorf("%q is not domain=secret-file", pair)
		}
		d, err := jid.New("", domain, "")
		if err != nil || d.Domain() != domain {
			return nil, fmt.Errorf("%q is not a domain in canonical form", domain)
		}
		if domain == c.Domain {
			return nil, fmt.Errorf("%q is the server's own domain", domain)
		}
		if _, dup := out[domain]; dup {
			return nil, fmt.Errorf("%q is given twice", domain)
		}
		out[domain] = file
	}
	return out, nil
}

// PushEnabled reports whether push notifications (XEP-0357) are offered:
// when some app server can be reached, through a component or the webhook.
func PushEnabled(c Config) bool {
	return (c.Component != "" && strings.TrimSpace(c.ComponentSecrets) != "") || c.PushWebhook != ""
}

// validatePush checks the component and push settings.
func (c *Config) validatePush() []error {
	var errs []error
	bad := func(flag string, value any, format string, args ...any) {
		errs = append(errs, badSetting(flag, value, format, args...))
	}
	if c.Component != "" {
		if err := checkAddr(c.Component); err != nil {
			bad("component", c.Component, "%v", err)
		}
	}
	secrets, err := ComponentSecretFiles(*c)
	switch {
	case err != nil:
		bad("component-secrets", c.ComponentSecrets, "%v", err)
	case c.Component != "" && len(secrets) == 0:
		bad("component-secrets", c.ComponentSecrets, "required with --component: no component could authenticate")
	}
	if c.PushWebhook != "" {
		if u, err := url.Parse(c.PushWebhook); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("push-webhook", redactURL(c.PushWebhook), "want http(s)://host[:port]/path")
		}
		if c.PushWebhookSecretFile == "" {
			bad("push-webhook-secret-file", "", "required with --push-webhook")
		}
	}
	if c.PushInterval < 100*time.Millisecond || c.PushInterval > time.Hour {
		bad("push-interval", c.PushInterval, "must be between 100ms and 1h")
	}
	return errs
}
