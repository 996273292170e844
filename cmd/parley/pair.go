package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/mdp/qrterminal/v3"
	"github.com/spf13/cobra"

	"github.com/parley-im/parley/client"
)

// pairFlags are the flags of parley pair.
type pairFlags struct {
	domain, server, file string
	insecure             bool
	timeout              time.Duration
}

func newPairCmd(a *app) *cobra.Command {
	var pf pairFlags
	cmd := &cobra.Command{
		Use:   "pair",
		Short: "Make this terminal a new device of an account, by QR code",
		Long: `Pair this terminal as a new linked device of an account, without its
password: parley pair shows a QR code (and its text); on a device already
logged in to the account, scan it and confirm (the web client, or "parley
link PAYLOAD"). The code changes every 20 seconds, as the server rotates
it; parley pair prints each new one, and starts a new pairing when the
server ends one unused (after 2 minutes), until --timeout.

Once linked, the device credential (an id and a secret token, sent by the
server encrypted to a key this command generated) is saved in the client
configuration file (--client-config, default ~/.config/parley/client.toml,
mode 0600) with the account's JID and the server; "parley send",
"parley listen" and "parley chat" then log in with it when no password is
given. The token is never printed. "parley devices revoke" unlinks it.`,
		Example: `  # This machine's development server (self-signed certificate)
  parley pair --domain localhost --insecure

  # Save the credential in another file
  parley pair --domain example.org --server chat.example.org:5224 --client-config ./laptop.toml`,
		Args: exactArgs(0, "no argument"),
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			ctx, cancel := context.WithTimeout(ctx, pf.timeout)
			defer cancel()
			return pair(ctx, a, pf)
		}),
	}
	fs := cmd.Flags()
	fs.StringVar(&pf.domain, "domain", "localhost", "the server's domain (the part after @ of the account)")
	fs.StringVar(&pf.server, "server", "", "the server's host:port for the binary protocol (default: the domain, port 5224; 127.0.0.1 for localhost)")
	fs.BoolVar(&pf.insecure, "insecure", false, "accept any server certificate, such as a self-signed one")
	fs.StringVar(&pf.file, "client-config", "", "save the credential in this TOML file (default ~/.config/parley/client.toml)")
	fs.DurationVar(&pf.timeout, "timeout", 5*time.Minute, "give up after this long")
	return cmd
}

// pair runs the pairing and saves the credential.
func pair(ctx context.Context, a *app, pf pairFlags) error {
	path, err := pf.configPath()
	if err != nil {
		return err
	}
	if pf.server == "" {
		host := pf.domain
		if host == "localhost" {
			host = "127.0.0.1"
		}
		pf.server = net.JoinHostPort(host, "5224")
	}
	o := client.Options{Addr: pf.server}
	if pf.insecure {
		o.TLS = &tls.Config{InsecureSkipVerify: true}
		fmt.Fprintln(a.stderr, "parley: warning: --insecure: the server's certificate is not checked")
	}
	cred, err := waitLinked(ctx, a, pf, o)
	if err != nil {
		return err
	}
	if err := saveCredential(path, cred, pf); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "linked as %s/%s; credential saved in %s\n", cred.JID, cred.DeviceID, path)
	return nil
}

// waitLinked runs pairings, a new one each time the server ends one
// unlinked, until a device links this one or ctx ends.
func waitLinked(ctx context.Context, a *app, pf pairFlags, o client.Options) (*client.DeviceCredential, error) {
	for {
		p, err := client.StartPairing(ctx, pf.domain, o)
		if err != nil {
			return nil, fmt.Errorf("starting the pairing with %s: %w", pf.server, err)
		}
		go showCodes(a, p)
		cred, err := p.Wait(ctx)
		_ = p.Close()
		if !errors.Is(err, client.ErrPairingExpired) || ctx.Err() != nil {
			return cred, err
		}
		fmt.Fprintln(a.stdout, "The code expired unused; here is a new one.")
	}
}

// showCodes prints each QR code and its text as the server rotates it.
func showCodes(a *app, p *client.Pairing) {
	for code := range p.Codes {
		var qr bytes.Buffer
		qrterminal.GenerateWithConfig(code, qrterminal.Config{Level: qrterminal.L, Writer: &qr,
			HalfBlocks: true, BlackChar: qrterminal.BLACK_BLACK, WhiteChar: qrterminal.WHITE_WHITE,
			BlackWhiteChar: qrterminal.BLACK_WHITE, WhiteBlackChar: qrterminal.WHITE_BLACK, QuietZone: 2})
		fmt.Fprintf(a.stdout, "%s\nScan with a logged-in device, or run there: parley link '%s'\n", qr.String(), code)
	}
}

func (pf pairFlags) configPath() (string, error) {
	if pf.file != "" {
		return pf.file, nil
	}
	if v := os.Getenv(envClientConfig); v != "" {
		return v, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", usagef("no configuration directory here (%v): give --client-config FILE", err)
	}
	return filepath.Join(dir, "parley", "client.toml"), nil
}

// saveCredential writes the credential into the client configuration file
// (mode 0600), keeping its other settings; the account's password, if the
// file had one, is dropped: the device logs in with its credential.
func saveCredential(path string, cred *client.DeviceCredential, pf pairFlags) error {
	var s loginSettings
	if _, err := os.Stat(path); err == nil {
		if _, err := toml.DecodeFile(path, &s); err != nil {
			return fmt.Errorf("client configuration %s: %w", path, err)
		}
	}
	s.JID, s.Password, s.Server, s.Encoding = cred.JID, "", pf.server, encodingBinary
	s.DeviceID, s.DeviceToken = cred.DeviceID, cred.Token
	s.Insecure = s.Insecure || pf.insecure
	var b bytes.Buffer
	b.WriteString("# parley client settings; device_token is a secret (written by parley pair)\n")
	if err := toml.NewEncoder(&b).Encode(s); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
