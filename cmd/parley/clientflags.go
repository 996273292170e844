package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/parley-im/parley/client"
	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/wire/binary"
)

// loginSettings are how the client commands (send, listen, chat) reach and
// log in to a server. Each comes from a flag, a PARLEY_* variable or the
// client configuration file, in that order of precedence.
type loginSettings struct {
	JID      string `toml:"jid"`
	Password string `toml:"password"`
	Server   string `toml:"server"`
	TLS      string `toml:"tls"`
	Encoding string `toml:"encoding"`
	Insecure bool   `toml:"insecure"`
	// DeviceID and DeviceToken are a linked device's credential, saved by
	// "parley pair": without a password, the commands log in with them.
	DeviceID    string `toml:"device_id,omitempty"`
	DeviceToken string `toml:"device_token,omitempty"`
}

// Encodings of --encoding.
const (
	encodingBinary = "binary"
	encodingXML    = "xml"
)

// TLS modes of --tls.
const (
	tlsStartTLS = "starttls"
	tlsDirect   = "direct"
	tlsPlain    = "plain"
)

// Environment variables of the client commands.
const (
	envJID          = "PARLEY_JID"
	envPassword     = "PARLEY_PASSWORD"
	envServer       = "PARLEY_SERVER"
	envTLS          = "PARLEY_TLS"
	envEncoding     = "PARLEY_ENCODING"
	envInsecure     = "PARLEY_INSECURE"
	envClientConfig = "PARLEY_CLIENT_CONFIG"
)

// loginFlags are the flags shared by the client commands.
type loginFlags struct {
	flags         loginSettings
	passwordStdin bool
	file          string
	verbose       bool
}

// loginHelp is the part of the client commands' --help about logging in.
const loginHelp = `Logging in: --jid (or PARLEY_JID) names the account. The password comes
from --password-stdin (one line; asked without echo on a terminal), the
PARLEY_PASSWORD variable, the "password" key of the client configuration
file, or, on a terminal, a prompt; --password works too but shows in the
process list. The password is never printed or logged.

--encoding is binary (default: Parley's compact protocol, on port 5224,
always over TLS) or xml (standard XMPP, to talk to any XMPP server; port
5222, or 5223 with --tls direct). The server is --server host:port, by
default the JID's domain on that port, and 127.0.0.1 for the domain
localhost. With xml, --tls is starttls (default), direct or plain (loopback
tests against a server run with --allow-plaintext-auth). --insecure accepts
any certificate, such as the self-signed one "parley serve" creates.

Every setting can also be a key of a TOML file given with --client-config
(or PARLEY_CLIENT_CONFIG; default: ~/.config/parley/client.toml when it
exists): jid, password, server, encoding, tls, insecure, and device_id and
device_token, the credential "parley pair" saves for a linked device (used
when no password is given). Flags win over the
environment (PARLEY_JID, PARLEY_PASSWORD, PARLEY_SERVER, PARLEY_ENCODING,
PARLEY_TLS, PARLEY_INSECURE), which wins over the file.`

func (f *loginFlags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.flags.JID, "jid", "", "the account to log in as, alice@localhost (env "+envJID+")")
	fs.BoolVar(&f.passwordStdin, "password-stdin", false,
		"read the password from standard input, one line; on a terminal, ask for it without echo")
	fs.StringVar(&f.flags.Password, "password", "",
		"the password (other local users can see it in the process list: prefer --password-stdin or "+envPassword+")")
	fs.StringVar(&f.flags.Server, "server", "",
		"the server's host:port (default: the JID's domain, port 5224 for binary, 5222 for xml; 127.0.0.1 for localhost) (env "+envServer+")")
	fs.StringVar(&f.flags.Encoding, "encoding", "", "binary (default, Parley's own protocol) or xml (XMPP, any server) (env "+envEncoding+")")
	fs.StringVar(&f.flags.TLS, "tls", "", "how to secure the connection: starttls (default), direct or plain (env "+envTLS+")")
	fs.BoolVar(&f.flags.Insecure, "insecure", false,
		"accept any server certificate, such as a self-signed one (env "+envInsecure+"=1)")
	fs.StringVar(&f.file, "client-config", "", "read these settings from this TOML file (env "+envClientConfig+")")
	fs.BoolVar(&f.verbose, "verbose", false, "log connection events to standard error")
}

// settings merges the flags set on the command line, the environment and
// the configuration file, and checks the result. The password is not
// resolved here (see password).
func (f *loginFlags) settings(cmd *cobra.Command, a *app) (loginSettings, error) {
	s, err := f.fileSettings(a)
	if err != nil {
		return s, err
	}
	if err := applyEnv(&s); err != nil {
		return s, err
	}
	f.applyFlags(cmd.Flags(), &s)
	return s, s.check()
}

// fileSettings reads the client configuration file, if any.
func (f *loginFlags) fileSettings(a *app) (loginSettings, error) {
	var s loginSettings
	path, explicit := f.file, f.file != ""
	if !explicit {
		path, explicit = os.Getenv(envClientConfig), os.Getenv(envClientConfig) != ""
	}
	if !explicit {
		dir, err := os.UserConfigDir()
		if err != nil {
			return s, nil
		}
		path = filepath.Join(dir, "parley", "client.toml")
		if _, err := os.Stat(path); err != nil {
			return s, nil
		}
	}
	md, err := toml.DecodeFile(path, &s)
	if err != nil {
		return s, fmt.Errorf("client configuration %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return s, fmt.Errorf("client configuration %s: unknown key %q (known: jid, password, server, encoding, tls, insecure, device_id, device_token)", path, und[0].String())
	}
	switch {
	case s.Password != "":
		warnReadable(a, path, "a password")
	case s.DeviceToken != "":
		warnReadable(a, path, "a device token")
	}
	return s, nil
}

// warnReadable warns when a file holding a secret (a password, a device
// token) can be read by others.
func warnReadable(a *app, path, secret string) {
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(a.stderr, "parley: warning: %s holds %s and other users can read it (chmod 600 %s)\n", path, secret, path)
	}
}

func applyEnv(s *loginSettings) error {
	for _, e := range []struct {
		name string
		dst  *string
	}{{envJID, &s.JID}, {envPassword, &s.Password}, {envServer, &s.Server}, {envTLS, &s.TLS}, {envEncoding, &s.Encoding}} {
		if v := os.Getenv(e.name); v != "" {
			*e.dst = v
		}
	}
	if v := os.Getenv(envInsecure); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%s=%q: want true or false", envInsecure, v)
		}
		s.Insecure = b
	}
	return nil
}

func (f *loginFlags) applyFlags(fs *pflag.FlagSet, s *loginSettings) {
	set := func(name string, dst *string, v string) {
		if fs.Changed(name) {
			*dst = v
		}
	}
	set("jid", &s.JID, f.flags.JID)
	set("password", &s.Password, f.flags.Password)
	set("server", &s.Server, f.flags.Server)
	set("tls", &s.TLS, f.flags.TLS)
	set("encoding", &s.Encoding, f.flags.Encoding)
	if fs.Changed("insecure") {
		s.Insecure = f.flags.Insecure
	}
}

// check validates the settings (but not the password).
func (s *loginSettings) check() error {
	if s.JID == "" {
		return usagef("missing the account: add --jid alice@localhost (or set %s)", envJID)
	}
	j, err := jid.Parse(s.JID)
	if err != nil || j.Local() == "" {
		return usagef("invalid --jid %q: an account address looks like alice@localhost", s.JID)
	}
	switch s.TLS {
	case "":
		s.TLS = tlsStartTLS
	case tlsStartTLS, tlsDirect, tlsPlain:
	default:
		return usagef("invalid --tls %q: want starttls, direct or plain", s.TLS)
	}
	switch s.Encoding {
	case "":
		s.Encoding = encodingBinary
	case encodingBinary, encodingXML:
	default:
		return usagef("invalid --encoding %q: want binary or xml", s.Encoding)
	}
	if s.Server == "" && j.Domain() == "localhost" {
		port := "5222"
		switch {
		case s.Encoding == encodingBinary:
			port = "5224"
		case s.TLS == tlsDirect:
			port = "5223"
		}
		s.Server = net.JoinHostPort("127.0.0.1", port)
	}
	if s.Server != "" {
		if _, _, err := net.SplitHostPort(s.Server); err != nil {
			return usagef("invalid --server %q: want host:port, for example 127.0.0.1:5222", s.Server)
		}
	}
	return nil
}

// password returns the password to log in with: from --password-stdin,
// else the settings (--password, PARLEY_PASSWORD, the file), else a prompt
// on a terminal.
func (f *loginFlags) password(cmd *cobra.Command, a *app, s loginSettings) (string, error) {
	if f.passwordStdin && cmd.Flags().Changed("password") {
		return "", usagef("use either --password or --password-stdin, not both")
	}
	pw := s.Password
	if pw == "" && !f.passwordStdin && s.DeviceID != "" && s.DeviceToken != "" {
		return "", nil // a linked device: see options
	}
	if f.passwordStdin || (pw == "" && isTerminal(a.stdin)) {
		var err error
		if pw, err = readPassword(a, s.JID, false); err != nil {
			return "", err
		}
	}
	if pw == "" {
		return "", usagef("missing the password: add --password-stdin, or set %s, or a password in --client-config", envPassword)
	}
	return pw, nil
}

// isTerminal reports whether v (a.stdin, a.stdout, a.stderr) is a
// terminal.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// login resolves the settings and the password and dials the server. The
// caller closes the client.
func (f *loginFlags) login(ctx context.Context, cmd *cobra.Command, a *app, reconnect bool) (*client.Client, loginSettings, error) {
	s, err := f.settings(cmd, a)
	if err != nil {
		return nil, s, err
	}
	pw, err := f.password(cmd, a, s)
	if err != nil {
		return nil, s, err
	}
	o := f.options(a, s, pw)
	o.Reconnect = reconnect
	c, err := client.Dial(ctx, o)
	if err != nil {
		return nil, s, explainDial(s, err)
	}
	return c, s, nil
}

// options turns settings into client options, warning on stderr about
// what weakens security.
func (f *loginFlags) options(a *app, s loginSettings, password string) client.Options {
	o := client.Options{JID: s.JID, Password: password, Addr: s.Server}
	if password == "" && s.DeviceToken != "" {
		o.JID, o.Device = "", &client.DeviceCredential{JID: bareJID(s.JID), DeviceID: s.DeviceID, Token: s.DeviceToken}
	}
	if s.Encoding == encodingXML {
		o.Encoding = client.XML
	}
	switch s.TLS {
	case tlsDirect:
		o.Transport = client.DirectTLS
	case tlsPlain:
		o.Transport = client.Plaintext
		fmt.Fprintln(a.stderr, "parley: warning: --tls plain: the connection is not encrypted")
	}
	if s.Insecure && s.TLS != tlsPlain {
		o.TLS = &tls.Config{InsecureSkipVerify: true}
		fmt.Fprintln(a.stderr, "parley: warning: --insecure: the server's certificate is not checked")
	}
	if f.verbose {
		o.Logger = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return o
}

// explainDial says what a failed login means and what to try.
func explainDial(s loginSettings, err error) error {
	addr := s.Server
	if addr == "" {
		addr = "the JID's domain"
	}
	var ae *client.AuthError
	if errors.As(err, &ae) {
		return fmt.Errorf("logging in as %s: %w%s", s.JID, err, authHint(ae))
	}
	if hint := connectHint(s, err); hint != "" {
		return fmt.Errorf("connecting to %s: %w (%s)", addr, err, hint)
	}
	return fmt.Errorf("connecting to %s as %s: %w", addr, s.JID, err)
}

// authHint is what to try after the server refused the login.
func authHint(ae *client.AuthError) string {
	switch ae.Condition {
	case "not-authorized":
		return " (wrong password or no such account?)"
	case "temporary-auth-failure": // the server limits failed logins per address
		return " (wait a minute before trying again: the server limits failed logins per address)"
	}
	return ""
}

// connectHint is what to try after a connection failed before the login,
// mostly the mistakes of --server, --encoding and --tls: what each one
// gives is raw (EOF, a TLS record error), so it is named here. "" when
// nothing useful can be said.
func connectHint(s loginSettings, err error) string {
	var ua x509.UnknownAuthorityError
	var cv *tls.CertificateVerificationError
	var rh tls.RecordHeaderError
	var se *stanza.StreamError // the binary port's answer to XML after TLS
	xml := s.Encoding == encodingXML
	switch {
	case errors.As(err, &ua), errors.As(err, &cv):
		return "a self-signed certificate? --insecure accepts it"
	case errors.Is(err, syscall.ECONNREFUSED):
		return `is "parley serve" running there? see --server`
	case errors.As(err, &rh) && !xml:
		return "the server does not speak TLS first: is this an XMPP port? Parley's binary protocol is on port 5224, or use --encoding xml"
	case errors.As(err, &rh):
		return "the server does not speak TLS first: is this the STARTTLS port? use --tls starttls, or the direct-TLS port 5223"
	case errors.Is(err, binary.ErrBadMagic):
		return "the server does not speak Parley's binary protocol: is this an XMPP port? use --encoding xml, with --tls direct on 5223"
	case xml && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)):
		return "the server hung up at once: is this Parley's binary port? use --encoding binary; a direct-TLS port? use --tls direct"
	case xml && errors.As(err, &se) && se.Condition == stanza.StreamNotWellFormed:
		return "the server does not take XMPP here: is this Parley's binary port? use --encoding binary"
	case s.TLS == tlsPlain && strings.Contains(err.Error(), "no supported SASL mechanism offered"):
		// The client's error is untyped: its text is all there is to go by.
		return "the server offers no login without TLS: use --tls starttls; a server allows plain only with --allow-plaintext-auth"
	}
	return ""
}

// bareJID returns the bare form of a full or bare JID, as given when it
// does not parse.
func bareJID(s string) string {
	j, err := jid.Parse(s)
	if err != nil {
		return strings.ToLower(s)
	}
	return j.Bare().String()
}
