package config

import (
	"maps"
	"strings"
	"testing"
)

func TestValidatePushMessages(t *testing.T) {
	cases := []struct {
		name  string
		tweak func(*Config)
		msg   string
	}{
		{"component bad addr", func(c *Config) { c.Component, c.ComponentSecrets = "nowhere", "p.localhost=f" }, `--component "nowhere": want host:port`},
		{"component without secrets", func(c *Config) { c.Component = "127.0.0.1:5347" }, `--component-secrets "": required with --component`},
		{"secrets not pairs", func(c *Config) { c.ComponentSecrets = "push.localhost" }, `is not domain=secret-file`},
		{"secrets own domain", func(c *Config) { c.ComponentSecrets = "localhost=f" }, `is the server's own domain`},
		{"secrets twice", func(c *Config) { c.ComponentSecrets = "a.localhost=f, a.localhost=g" }, `is given twice`},
		{"secrets bad domain", func(c *Config) { c.ComponentSecrets = "A b=f" }, `is not a domain`},
		{"webhook not http", func(c *Config) { c.PushWebhook, c.PushWebhookSecretFile = "ftp://x/y", "s" }, `--push-webhook "ftp://x/y": want http(s)`},
		{"webhook without secret", func(c *Config) { c.PushWebhook = "https://push.example.org/hook" }, `--push-webhook-secret-file "": required with --push-webhook`},
		{"interval", func(c *Config) { c.PushInterval = 0 }, `--push-interval 0s: must be between 100ms and 1h`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.tweak(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got %v\nwant an error containing %q", err, tc.msg)
			}
		})
	}
	c := Default()
	c.Component, c.ComponentSecrets = "127.0.0.1:5347", " push.localhost = /etc/push.secret ,bots.localhost=/b"
	if err := c.Validate(); err != nil || !PushEnabled(c) {
		t.Fatalf("valid component settings: %v (enabled %v)", err, PushEnabled(c))
	}
	got, _ := ComponentSecretFiles(c)
	if want := map[string]string{"push.localhost": "/etc/push.secret", "bots.localhost": "/b"}; !maps.Equal(got, want) {
		t.Fatalf("ComponentSecretFiles = %v, want %v", got, want)
	}
	if PushEnabled(Default()) {
		t.Fatal("push is on by default")
	}
}
