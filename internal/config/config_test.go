package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// noEnv is an empty environment, so tests do not see the runner's PARLEY_*.
func noEnv(string) (string, bool) { return "", false }

// env builds an environment from pairs.
func env(kv map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "parley.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// flags binds a fresh flag set and parses args, as a command would.
func flags(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	c := Default()
	Bind(fs, &c)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestDefaultIsValid(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default() is invalid: %v", err)
	}
	if got := StoreDir(c); got != filepath.Join("parley-data", "store") {
		t.Errorf("StoreDir = %q", got)
	}
	if got := AdminSocketPath(c); got != filepath.Join("parley-data", "admin.sock") {
		t.Errorf("AdminSocketPath = %q", got)
	}
	c.AdminSocket = "/run/parley.sock"
	if got := AdminSocketPath(c); got != "/run/parley.sock" {
		t.Errorf("AdminSocketPath = %q", got)
	}
}

func TestPrecedence(t *testing.T) {
	file := writeFile(t, `
domain = "file.example"
mailbox_size = 10
ping_interval = "2m"
c2s_tls = "127.0.0.1:6000"
allow_registration = true
`)
	environ := env(map[string]string{
		"PARLEY_DOMAIN":         "env.example",
		"PARLEY_MAILBOX_SIZE":   "20",
		"PARLEY_HTTP":           "", // set but empty: disables the listener
		"PARLEY_PING_TIMEOUT":   "", // empty non-string: unset
		"PARLEY_RESUME_TIMEOUT": "90s",
	})
	fs := flags(t, "--domain", "flag.example", "--allow-registration=false")

	c, err := load(file, fs, environ)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Domain = "flag.example"        // flag > env > file
	want.MailboxSize = 20               // env > file
	want.PingInterval = 2 * time.Minute // file > default
	want.C2STLS = "127.0.0.1:6000"      // file
	want.AllowRegistration = false      // flag set explicitly beats the file's true
	want.HTTP = ""                      // empty env string
	want.ResumeTimeout = 90 * time.Second
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
}

func TestFlagsNotSetKeepLowerSources(t *testing.T) {
	file := writeFile(t, "domain = \"file.example\"\nmax_stanza_bytes = 50000\n")
	fs := flags(t) // nothing on the command line: flag defaults must not win
	c, err := load(file, fs, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Domain != "file.example" || c.MaxStanzaBytes != 50000 {
		t.Errorf("got domain %q, max stanza %d", c.Domain, c.MaxStanzaBytes)
	}
}

func TestLoadReadsProcessEnvironment(t *testing.T) {
	t.Setenv("PARLEY_DOMAIN", "env.example")
	t.Setenv("PARLEY_ALLOW_PLAINTEXT_AUTH", "1")
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Domain != "env.example" || !c.AllowPlaintextAuth {
		t.Errorf("got %+v", c)
	}
}

func TestEnvParsing(t *testing.T) {
	good := []struct {
		key, val string
		check    func(Config) bool
	}{
		{"PARLEY_ALLOW_REGISTRATION", "true", func(c Config) bool { return c.AllowRegistration }},
		{"PARLEY_ALLOW_REGISTRATION", "1", func(c Config) bool { return c.AllowRegistration }},
		{"PARLEY_ALLOW_REGISTRATION", "false", func(c Config) bool { return !c.AllowRegistration }},
		{"PARLEY_MAX_STANZA_BYTES", "65536", func(c Config) bool { return c.MaxStanzaBytes == 65536 }},
		{"PARLEY_MAILBOX_SIZE", " 42 ", func(c Config) bool { return c.MailboxSize == 42 }},
		{"PARLEY_PING_INTERVAL", "1m30s", func(c Config) bool { return c.PingInterval == 90*time.Second }},
		{"PARLEY_RESUME_TIMEOUT", "0s", func(c Config) bool { return c.ResumeTimeout == 0 }},
	}
	for _, tc := range good {
		c, err := load("", nil, env(map[string]string{tc.key: tc.val}))
		if err != nil {
			t.Errorf("%s=%q: %v", tc.key, tc.val, err)
			continue
		}
		if !tc.check(c) {
			t.Errorf("%s=%q: got %+v", tc.key, tc.val, c)
		}
	}

	bad := []struct{ key, val, msg string }{
		{"PARLEY_ALLOW_REGISTRATION", "yes", `environment variable PARLEY_ALLOW_REGISTRATION: "yes" is not a boolean`},
		{"PARLEY_MAILBOX_SIZE", "1k", `environment variable PARLEY_MAILBOX_SIZE: "1k" is not an integer`},
		{"PARLEY_PING_TIMEOUT", "30", `environment variable PARLEY_PING_TIMEOUT: "30" is not a duration (write it like 300s`},
	}
	for _, tc := range bad {
		_, err := load("", nil, env(map[string]string{tc.key: tc.val}))
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s=%q: got error %v, want one containing %q", tc.key, tc.val, err, tc.msg)
		}
	}
}

func TestFileErrors(t *testing.T) {
	cases := []struct{ body, msg string }{
		{`domian = "x"`, `unknown key "domian"`},
		{`max-stanza-bytes = 20000`, `unknown key "max-stanza-bytes" (did you mean "max_stanza_bytes"?)`},
		{"[server]\ndomain = \"x\"", `unknown key "server"`},
		{`mailbox_size = "10"`, `key "mailbox_size": want an integer, got a string`},
		{`allow_registration = "yes"`, `key "allow_registration": want true or false, got a string`},
		{`resume_timeout = 300`, `key "resume_timeout": want a duration string such as "300s" or "5m", got an integer`},
		{`ping_timeout = "soon"`, `key "ping_timeout": "soon" is not a duration`},
		{`domain = `, `config file`},
	}
	for _, tc := range cases {
		_, err := load(writeFile(t, tc.body), nil, noEnv)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("file %q: got error %v, want one containing %q", tc.body, err, tc.msg)
		}
	}
	_, err := load(filepath.Join(t.TempDir(), "missing.toml"), nil, noEnv)
	if err == nil || !strings.Contains(err.Error(), "missing.toml") {
		t.Errorf("missing file: got %v", err)
	}
}

// TestLoadValidNamesTheSource: every problem is listed, those of values
// from the file under their key, those of values a variable or a flag
// overrode under the flag; what parsed is kept.
func TestLoadValidNamesTheSource(t *testing.T) {
	file := writeFile(t, "domian = \"x\"\nc2s = \"nohostport\"\nmailbox_size = 0\nping_timeout = \"1ms\"\nmax_stanza_bytes = 10\n")
	c, err := loadValid(file, flags(t, "--max-stanza-bytes", "20"), env(map[string]string{"PARLEY_PING_TIMEOUT": "2ms"}))
	want := []string{
		"config file " + file + `: unknown key "domian"`,
		"config file " + file + `: c2s = "nohostport": want host:port`,
		"--max-stanza-bytes 20: must be at least",
		"--ping-timeout 2ms: must be at least 1s",
		"config file " + file + ": mailbox_size = 0: must be positive",
	}
	lines := strings.Split(fmt.Sprint(err), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(lines), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("problem %d: %q, want %q...", i, lines[i], w)
		}
	}
	if c.C2S != "nohostport" || c.MailboxSize != 0 {
		t.Errorf("the configuration as loaded: c2s %q, mailbox_size %d", c.C2S, c.MailboxSize)
	}
}

func TestValidateMessages(t *testing.T) {
	cases := []struct {
		name  string
		tweak func(*Config)
		msg   string
	}{
		{"domain with space", func(c *Config) { c.Domain = "a b" }, `--domain "a b": invalid domain`},
		{"empty domain", func(c *Config) { c.Domain = "" }, `--domain "": invalid domain`},
		{"uppercase domain", func(c *Config) { c.Domain = "Example.ORG" }, `--domain "Example.ORG": write the domain in its canonical form "example.org"`},
		{"no data", func(c *Config) { c.Data = "" }, `--data "": a data directory is required`},
		{"c2s no port", func(c *Config) { c.C2S = "localhost" }, `--c2s "localhost": want host:port`},
		{"c2s-tls bad port", func(c *Config) { c.C2STLS = "127.0.0.1:99999" }, `--c2s-tls "127.0.0.1:99999": port "99999" is not a number`},
		{"http named port", func(c *Config) { c.HTTP = "127.0.0.1:http" }, `--http "127.0.0.1:http": port "http"`},
		{"no listener", func(c *Config) { c.C2S, c.C2STLS, c.Native, c.HTTP = "", "", "", "" }, "no listener: set at least one of --c2s, --c2s-tls, --native, --http"},
		{"cert without key", func(c *Config) { c.TLSCert = "cert.pem" }, `--tls-cert "cert.pem" and --tls-key "": set both`},
		{"key without cert", func(c *Config) { c.TLSKey = "key.pem" }, `--tls-cert "" and --tls-key "key.pem": set both`},
		{"log level", func(c *Config) { c.LogLevel = "verbose" }, `--log-level "verbose": unknown log level (want one of debug, info, warn, error)`},
		{"log format", func(c *Config) { c.LogFormat = "xml" }, `--log-format "xml": unknown log format`},
		{"stanza size", func(c *Config) { c.MaxStanzaBytes = 100 }, `--max-stanza-bytes 100: must be at least 10000`},
		{"resume negative", func(c *Config) { c.ResumeTimeout = -time.Second }, `--resume-timeout -1s: must be 0 (no resumption) or at least 1s`},
		{"ping interval", func(c *Config) { c.PingInterval = 0 }, `--ping-interval 0s: must be at least 1s`},
		{"archive retention", func(c *Config) { c.ArchiveRetention = time.Minute }, `--archive-retention 1m0s: must be 0 (keep forever) or at least 1h`},
		{"ping timeout", func(c *Config) { c.PingTimeout = time.Millisecond }, `--ping-timeout 1ms: must be at least 1s`},
		{"mailbox", func(c *Config) { c.MailboxSize = 0 }, `--mailbox-size 0: must be positive`},
		{"auth failures", func(c *Config) { c.AuthFailuresPerMinute = -1 }, `--auth-failures-per-minute -1: must be positive`},
		{"registrations", func(c *Config) { c.RegistrationsPerHour = 0 }, `--registrations-per-hour 0: must be positive`},
		{"long socket", func(c *Config) { c.Data = "/" + strings.Repeat("d", 120) }, "use a shorter --data"},
		{"long admin socket", func(c *Config) { c.AdminSocket = "/" + strings.Repeat("s", 120) }, "use a shorter --admin-socket"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.tweak(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got %v\nwant an error containing %q", err, tc.msg)
			}
		})
	}

	// Every problem is reported, one per line.
	c := Default()
	c.Domain, c.MailboxSize = "a b", 0
	if err := c.Validate(); err == nil || strings.Count(err.Error(), "\n") != 1 {
		t.Errorf("want two problems on two lines, got %v", err)
	}

	// Valid variations.
	for _, tweak := range []func(*Config){
		func(c *Config) { c.C2S, c.C2STLS, c.HTTP = "127.0.0.1:0", "", "[::1]:5280" },
		func(c *Config) { c.C2S = ":5222" },
		func(c *Config) { c.TLSCert, c.TLSKey = "c.pem", "k.pem" },
		func(c *Config) { c.ResumeTimeout = 0 },
		func(c *Config) { c.Domain = "chat.example.org" },
	} {
		c := Default()
		tweak(&c)
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

func TestBindRegistersEveryField(t *testing.T) {
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	c := Default()
	c.Domain = "shown.example"
	Bind(fs, &c)
	for _, f := range fields() {
		fl := fs.Lookup(f.flag)
		if fl == nil {
			t.Errorf("no flag --%s", f.flag)
			continue
		}
		if fl.DefValue != f.format(&c) {
			t.Errorf("--%s default %q, want %q", f.flag, fl.DefValue, f.format(&c))
		}
		if !strings.Contains(fl.Usage, f.env) {
			t.Errorf("--%s usage does not name %s", f.flag, f.env)
		}
	}
	if err := fs.Parse([]string{"--mailbox-size", "7", "--resume-timeout", "5m"}); err != nil {
		t.Fatal(err)
	}
	if c.MailboxSize != 7 || c.ResumeTimeout != 5*time.Minute {
		t.Errorf("flags not written to the bound config: %+v", c)
	}

	some := pflag.NewFlagSet("some", pflag.ContinueOnError)
	BindSome(some, &c, "data", "domain")
	if some.Lookup("data") == nil || some.Lookup("domain") == nil || some.Lookup("c2s") != nil {
		t.Error("BindSome registered the wrong flags")
	}
}

func TestTOMLRoundTrip(t *testing.T) {
	c := Default()
	c.Domain = "chat.example.org"
	c.TLSCert, c.TLSKey = `/etc/parley/"cert".pem`, `C:\keys\key.pem`
	c.AllowRegistration = true
	c.ResumeTimeout = 90 * time.Minute
	c.PingTimeout = 1500 * time.Millisecond
	c.HTTP = ""
	got, err := load(writeFile(t, c.TOML()), nil, noEnv)
	if err != nil {
		t.Fatalf("%v\n%s", err, c.TOML())
	}
	if !reflect.DeepEqual(got, c) {
		t.Errorf("round trip:\ngot  %+v\nwant %+v\n%s", got, c, c.TOML())
	}
	if !strings.Contains(Default().TOML(), "resume_timeout = \"5m\"\n") {
		t.Errorf("durations should render compactly:\n%s", Default().TOML())
	}
}
