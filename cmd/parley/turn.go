package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/server"
)

// turnFlags are the settings "parley turn" takes.
var turnFlags = []string{
	"data", "domain", "turn", "turn-tls", "turn-relay-ip", "turn-ports", "turn-secret-file",
	"turn-max-allocations", "turn-bandwidth", "tls-cert", "tls-key", "http", "trusted-proxies", "metrics-allow", "log-level", "log-format",
}

// turnHelp describes the settings the relay uses for less than serve.
var turnHelp = map[string]string{
	"data":            "data directory: the TURN secret (turn/secret, created on first start, unless --turn-secret-file) and the self-signed certificate of --turn-tls (unless --tls-cert)",
	"domain":          "the realm of the relay's credentials: the chat servers' XMPP domain",
	"turn":            "the relay's listener, host:port, on UDP and TCP (required)",
	"http":            "HTTP listener, host:port, for /metrics and /healthz; empty disables",
	"tls-cert":        "TLS certificate chain of --turn-tls, a PEM file (set together with --tls-key); when both are empty, a self-signed certificate is created in the data directory",
	"trusted-proxies": "comma-separated networks (CIDR) of the reverse proxies in front of --http; a request from one of them comes from the right-most X-Forwarded-For address that is not itself in these networks, for --metrics-allow; empty: every client is its socket's address",
	"metrics-allow":   "comma-separated networks (CIDR) of the clients that may read /metrics on --http, by their address as --trusted-proxies resolves it; others get 403; empty allows none",
}

func newTurnCmd(a *app) *cobra.Command {
	cfg := config.Default()
	var file string
	cmd := &cobra.Command{
		Use:   "turn",
		Short: "Run a standalone TURN/STUN relay for calls",
		Long: `Run only the TURN/STUN relay that carries call media between devices that
cannot reach each other directly. "parley serve" already runs one on
--turn; run "parley turn" on another host (one with a public address) to
move call traffic off the chat servers, like WhatsApp's separate telephony
servers.

The relay checks credentials with nothing but a secret it shares with the
chat servers (the "TURN REST API" scheme of coturn): copy <data>/turn/secret
from a chat server, or give every server the same --turn-secret-file. Then
set --turn-public on the chat servers (and --turn "" if they should not
relay themselves) so that they announce this relay to clients (XEP-0215).

Open UDP and TCP --turn (3478) and the UDP range --turn-ports in the
firewall. /metrics and /healthz are served on --http. See docs/calls.md.`,
		Example: `  parley turn --data /var/lib/parley-turn --domain chat.example.org \
    --turn 0.0.0.0:3478 --turn-relay-ip 203.0.113.7 --turn-ports 49152-65535 \
    --turn-secret-file /etc/parley/turn-secret --http 127.0.0.1:5282`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			return runTURN(cmd.Context(), a, cfg)
		}),
	}
	addConfigFileFlag(cmd.Flags(), &file)
	config.BindSome(cmd.Flags(), &cfg, turnFlags...)
	for flag, help := range turnHelp {
		config.Describe(cmd.Flags(), flag, help)
	}
	cmd.Flags().SortFlags = false
	return cmd
}

func runTURN(parent context.Context, a *app, cfg config.Config) error {
	return runStandalone(parent, a, cfg, server.RunTURN)
}
