package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parley-im/parley/internal/jid"
)

// Config is the configuration of one Parley server. The zero value is not
// usable: start from Default.
//
// Tags: toml is the key in the configuration file, flag the command-line
// flag (without "--"), env the environment variable, help the one-line
// description shown by --help and in docs/configuration.md.
type Config struct {
	Data   string `toml:"data" flag:"data" env:"PARLEY_DATA" help:"data directory: the store, the TLS certificate created on first start, the admin socket"`
	Domain string `toml:"domain" flag:"domain" env:"PARLEY_DOMAIN" help:"the XMPP domain served (the part after @ in user addresses)"`
	Store  string `toml:"store" flag:"store" env:"PARLEY_STORE" help:"where accounts, rosters, queued messages and archives live: empty for the embedded store in the data directory, or a PostgreSQL URL (postgres://user@host:5432/db) shared by a cluster's nodes; its schema is migrated at start"`

	NATS             string        `toml:"nats" flag:"nats" env:"PARLEY_NATS" help:"run as a node of a cluster: the NATS servers between the nodes, comma-separated URLs (nats://host:4222 or tls://user:password@host:4222), or 'embedded' for a NATS server inside this process (one node); empty: a single server with no bus (docs/cluster.md)"`
	NodeID           string        `toml:"node_id" flag:"node-id" env:"PARLEY_NODE_ID" help:"this node's name in the cluster, unique: letters, digits, '-' and '_' (required with --nats URLs)"`
	ClusterHeartbeat time.Duration `toml:"cluster_heartbeat" flag:"cluster-heartbeat" env:"PARLEY_CLUSTER_HEARTBEAT" help:"how often a node tells the others it is alive; a node silent for three intervals is dropped from the directory"`

	C2S    string `toml:"c2s" flag:"c2s" env:"PARLEY_C2S" help:"XMPP client listener, host:port, with STARTTLS (TLS required before authentication); empty disables"`
	C2STLS string `toml:"c2s_tls" flag:"c2s-tls" env:"PARLEY_C2S_TLS" help:"XMPP client listener with direct TLS (XEP-0368), host:port; empty disables"`
	Native string `toml:"native" flag:"native" env:"PARLEY_NATIVE" help:"Parley binary-protocol listener for Parley's own clients, host:port, TLS from the first byte; empty disables"`
	HTTP   string `toml:"http" flag:"http" env:"PARLEY_HTTP" help:"HTTP listener, host:port: the web client at / (docs/web.md), XMPP over WebSocket at /xmpp-websocket, the binary protocol over WebSocket at /ws, /healthz, /metrics (to --metrics-allow); empty disables"`

	TLSCert string `toml:"tls_cert" flag:"tls-cert" env:"PARLEY_TLS_CERT" help:"TLS certificate chain, a PEM file (set together with --tls-key); when both are empty, a self-signed certificate is created in the data directory"`
	TLSKey  string `toml:"tls_key" flag:"tls-key" env:"PARLEY_TLS_KEY" help:"TLS private key (PEM file) of --tls-cert"`

	AllowRegistration  bool `toml:"allow_registration" flag:"allow-registration" env:"PARLEY_ALLOW_REGISTRATION" help:"let clients create accounts themselves (XEP-0077 in-band registration)"`
	AllowPlaintextAuth bool `toml:"allow_plaintext_auth" flag:"allow-plaintext-auth" env:"PARLEY_ALLOW_PLAINTEXT_AUTH" help:"allow authentication before TLS (for loopback benchmarks only; never on a network)"`

	LogLevel  string `toml:"log_level" flag:"log-level" env:"PARLEY_LOG_LEVEL" help:"log level: debug, info, warn or error"`
	LogFormat string `toml:"log_format" flag:"log-format" env:"PARLEY_LOG_FORMAT" help:"log format: text or json (logs go to stderr)"`
	Pprof     bool   `toml:"pprof" flag:"pprof" env:"PARLEY_PPROF" help:"serve Go's profiler at /debug/pprof/ on the HTTP listener, to the clients of --metrics-allow only"`
	GCPacing  bool   `toml:"gc_pacing" flag:"gc-pacing" env:"PARLEY_GC_PACING" help:"set the garbage collector's GOGC between 25 and 100 from what collection costs: little heap headroom while idle, Go's default under load; off when the environment sets GOGC (docs/operations.md)"`

	WebOrigins     string `toml:"web_origins" flag:"web-origins" env:"PARLEY_WEB_ORIGINS" help:"comma-separated origins (https://chat.example.org) besides the HTTP listener's own whose pages may open the WebSocket endpoints; browsers from any other origin get 403 (docs/web.md)"`
	TrustedProxies string `toml:"trusted_proxies" flag:"trusted-proxies" env:"PARLEY_TRUSTED_PROXIES" help:"comma-separated networks (CIDR: 10.0.0.0/8, ::1/128) of the reverse proxies in front of --http; a request from one of them comes from the right-most X-Forwarded-For address that is not itself in these networks, for the per-address limits (logins, registrations, pairings) and --metrics-allow; empty: every client is its socket's address and X-Forwarded-For is ignored (docs/web.md)"`
	MetricsAllow   string `toml:"metrics_allow" flag:"metrics-allow" env:"PARLEY_METRICS_ALLOW" help:"comma-separated networks (CIDR) of the clients that may read /metrics and, with --pprof, /debug/pprof/ on --http, by their address as --trusted-proxies resolves it; others get 403; empty allows none (docs/operations.md)"`

	MaxStanzaBytes int           `toml:"max_stanza_bytes" flag:"max-stanza-bytes" env:"PARLEY_MAX_STANZA_BYTES" help:"largest stanza accepted from a client, in bytes; larger ones end the stream with policy-violation"`
	MinFreeDiskMB  int           `toml:"min_free_disk_mb" flag:"min-free-disk-mb" env:"PARLEY_MIN_FREE_DISK_MB" help:"refuse new messages (resource-constraint, wait) while the embedded store's disk has less free space than this, in MiB, instead of failing when it is full; reads and deliveries go on; 0 disables the check"`
	ResumeTimeout  time.Duration `toml:"resume_timeout" flag:"resume-timeout" env:"PARLEY_RESUME_TIMEOUT" help:"how long a dropped session may be resumed (XEP-0198); 0 disables resumption"`
	PingInterval   time.Duration `toml:"ping_interval" flag:"ping-interval" env:"PARLEY_PING_INTERVAL" help:"the server pings a session that has been quiet this long (XEP-0199)"`
	PingTimeout    time.Duration `toml:"ping_timeout" flag:"ping-timeout" env:"PARLEY_PING_TIMEOUT" help:"a session that does not answer a ping within this is closed"`
	AckWindow      time.Duration `toml:"ack_window" flag:"ack-window" env:"PARLEY_ACK_WINDOW" help:"a message to a user whose devices are all connected reaches them before it is stored, and is stored only if none acknowledges it within this; the sender's sent tick waits for that ack or for the durable write; 0 stores every message before delivering it"`
	MailboxSize    int           `toml:"mailbox_size" flag:"mailbox-size" env:"PARLEY_MAILBOX_SIZE" help:"stanzas queued per session; a session whose client reads too slowly is disconnected with a clear error and its unacknowledged messages go back to the offline queue"`

	AuthFailuresPerMinute int `toml:"auth_failures_per_minute" flag:"auth-failures-per-minute" env:"PARLEY_AUTH_FAILURES_PER_MINUTE" help:"failed logins allowed per client IP per minute"`
	RegistrationsPerHour  int `toml:"registrations_per_hour" flag:"registrations-per-hour" env:"PARLEY_REGISTRATIONS_PER_HOUR" help:"in-band registrations allowed per client IP per hour"`

	MaxLinkedDevices int           `toml:"max_linked_devices" flag:"max-linked-devices" env:"PARLEY_MAX_LINKED_DEVICES" help:"devices an account may link by QR-code pairing besides its password logins (docs/protocol/devices.md)"`
	PairingRotation  time.Duration `toml:"pairing_rotation" flag:"pairing-rotation" env:"PARLEY_PAIRING_ROTATION" help:"how long a pairing reference (the QR code a new device shows) stays valid before the server pushes a new one"`
	GroupMaxMembers  int           `toml:"group_max_members" flag:"group-max-members" env:"PARLEY_GROUP_MAX_MEMBERS" help:"the most members a group may have (docs/protocol/groups.md)"`
	PairingTimeout   time.Duration `toml:"pairing_timeout" flag:"pairing-timeout" env:"PARLEY_PAIRING_TIMEOUT" help:"how long a new device may wait on its pairing stream for a logged-in device to link it"`

	Media                string        `toml:"media" flag:"media" env:"PARLEY_MEDIA" help:"media HTTP listener, host:port: file uploads and downloads (XEP-0363 slots); empty disables it here (slots still point to --media-url)"`
	MediaURL             string        `toml:"media_url" flag:"media-url" env:"PARLEY_MEDIA_URL" help:"public URL of the media listener as clients reach it (https://media.example.org); empty means http://<--media>"`
	MediaSecretFile      string        `toml:"media_secret_file" flag:"media-secret-file" env:"PARLEY_MEDIA_SECRET_FILE" help:"file holding the secret that signs upload and download URLs, shared by every chat and media server of a deployment; empty means <data>/media/secret, created on first start"`
	MediaMaxFileSize     int           `toml:"media_max_file_size" flag:"media-max-file-size" env:"PARLEY_MEDIA_MAX_FILE_SIZE" help:"largest file a user may upload, in bytes"`
	MediaQuota           int           `toml:"media_quota" flag:"media-quota" env:"PARLEY_MEDIA_QUOTA" help:"most bytes of files one user may have stored at a time, unfinished uploads included; 0 means no limit"`
	MediaRetention       time.Duration `toml:"media_retention" flag:"media-retention" env:"PARLEY_MEDIA_RETENTION" help:"how long an uploaded file is kept; a background sweeper deletes older ones"`
	MediaS3Endpoint      string        `toml:"media_s3_endpoint" flag:"media-s3-endpoint" env:"PARLEY_MEDIA_S3_ENDPOINT" help:"URL of an S3-compatible object store for media files (https://host:port); empty keeps them in <data>/media/blobs"`
	MediaS3Bucket        string        `toml:"media_s3_bucket" flag:"media-s3-bucket" env:"PARLEY_MEDIA_S3_BUCKET" help:"S3 bucket of the media files (it must exist)"`
	MediaS3Region        string        `toml:"media_s3_region" flag:"media-s3-region" env:"PARLEY_MEDIA_S3_REGION" help:"S3 region; empty means us-east-1"`
	MediaS3AccessKey     string        `toml:"media_s3_access_key" flag:"media-s3-access-key" env:"PARLEY_MEDIA_S3_ACCESS_KEY" help:"S3 access key id"`
	MediaS3SecretKeyFile string        `toml:"media_s3_secret_key_file" flag:"media-s3-secret-key-file" env:"PARLEY_MEDIA_S3_SECRET_KEY_FILE" help:"file holding the S3 secret access key (kept out of the configuration and the logs)"`

	NoServerHistory  bool          `toml:"no_server_history" flag:"no-server-history" env:"PARLEY_NO_SERVER_HISTORY" help:"privacy mode: keep no message archive and do not offer MAM (XEP-0313); messages are erased once delivered, as in WhatsApp"`
	ArchiveRetention time.Duration `toml:"archive_retention" flag:"archive-retention" env:"PARLEY_ARCHIVE_RETENTION" help:"how long archived messages (MAM, XEP-0313) are kept; a background sweeper deletes older ones; 0 keeps them forever"`

	Component             string        `toml:"component" flag:"component" env:"PARLEY_COMPONENT" help:"XEP-0114 component listener, host:port, for external services such as a push gateway; empty disables (see docs/push.md)"`
	ComponentSecrets      string        `toml:"component_secrets" flag:"component-secrets" env:"PARLEY_COMPONENT_SECRETS" help:"the components allowed to connect, as domain=secret-file pairs separated by commas (push.example.org=/etc/parley/push.secret); each file holds that component's shared secret"`
	PushWebhook           string        `toml:"push_webhook" flag:"push-webhook" env:"PARLEY_PUSH_WEBHOOK" help:"URL that gets a signed JSON POST per push notification (XEP-0357) for app servers that are not components; empty disables"`
	PushWebhookSecretFile string        `toml:"push_webhook_secret_file" flag:"push-webhook-secret-file" env:"PARLEY_PUSH_WEBHOOK_SECRET_FILE" help:"file holding the secret that signs webhook requests (HMAC-SHA256 in X-Parley-Signature); required with --push-webhook"`
	PushIncludeBody       bool          `toml:"push_include_body" flag:"push-include-body" env:"PARLEY_PUSH_INCLUDE_BODY" help:"put the last message's text in push notifications (off: the app server and the phone vendor never see message text)"`
	PushInterval          time.Duration `toml:"push_interval" flag:"push-interval" env:"PARLEY_PUSH_INTERVAL" help:"shortest time between two push notifications of one account; messages in between are counted into the next"`

	TURN               string        `toml:"turn" flag:"turn" env:"PARLEY_TURN" help:"TURN/STUN relay for calls, host:port, on UDP and TCP (docs/calls.md); empty disables the embedded relay"`
	TURNTLS            string        `toml:"turn_tls" flag:"turn-tls" env:"PARLEY_TURN_TLS" help:"TURN over TLS (turns:) listener, host:port, with the server's certificate; empty disables"`
	TURNPublic         string        `toml:"turn_public" flag:"turn-public" env:"PARLEY_TURN_PUBLIC" help:"host[:port] of the relay as clients reach it, announced through XEP-0215; empty means the --turn address; set it alone to announce a relay run elsewhere with 'parley turn'"`
	TURNRelayIP        string        `toml:"turn_relay_ip" flag:"turn-relay-ip" env:"PARLEY_TURN_RELAY_IP" help:"the relay's public IP address, given to clients as their relayed address (required when --turn listens on every interface)"`
	TURNPorts          string        `toml:"turn_ports" flag:"turn-ports" env:"PARLEY_TURN_PORTS" help:"UDP port range of relayed addresses, min-max (open it in the firewall); empty lets the system choose"`
	TURNSecretFile     string        `toml:"turn_secret_file" flag:"turn-secret-file" env:"PARLEY_TURN_SECRET_FILE" help:"file holding the secret shared by chat servers and relays, from which short-lived TURN credentials are derived; empty means <data>/turn/secret, created on first start"`
	TURNCredentialTTL  time.Duration `toml:"turn_credential_ttl" flag:"turn-credential-ttl" env:"PARLEY_TURN_CREDENTIAL_TTL" help:"how long a TURN credential handed to a client stays valid (a call longer than this loses its relay at the next refresh)"`
	TURNMaxAllocations int           `toml:"turn_max_allocations" flag:"turn-max-allocations" env:"PARLEY_TURN_MAX_ALLOCATIONS" help:"relay allocations one user may hold at a time"`
	TURNBandwidth      int           `toml:"turn_bandwidth" flag:"turn-bandwidth" env:"PARLEY_TURN_BANDWIDTH" help:"bytes per second one relay allocation may carry in each direction (packets over it are dropped); 0 means no limit"`
	CallRingTimeout    time.Duration `toml:"call_ring_timeout" flag:"call-ring-timeout" env:"PARLEY_CALL_RING_TIMEOUT" help:"how long a call rings before it ends as a missed call (a message in the chat)"`

	AdminSocket string `toml:"admin_socket" flag:"admin-socket" env:"PARLEY_ADMIN_SOCKET" help:"unix socket of the local admin API used by 'parley user' while the server runs; empty means <data>/admin.sock"`
}

// Default returns the configuration of "parley serve" with no flags: data in
// ./parley-data, domain localhost, listeners on loopback.
func Default() Config {
	return Config{
		Data:                  "./parley-data",
		Domain:                "localhost",
		C2S:                   "127.0.0.1:5222",
		C2STLS:                "127.0.0.1:5223",
		Native:                "127.0.0.1:5224",
		HTTP:                  "127.0.0.1:5280",
		LogLevel:              "info",
		LogFormat:             "text",
		MaxStanzaBytes:        256 << 10,
		MinFreeDiskMB:         64,
		ResumeTimeout:         300 * time.Second,
		GCPacing:              true,
		PingInterval:          60 * time.Second,
		PingTimeout:           30 * time.Second,
		MailboxSize:           1024,
		AckWindow:             100 * time.Millisecond,
		AuthFailuresPerMinute: 5,
		RegistrationsPerHour:  10,
		MaxLinkedDevices:      4,
		GroupMaxMembers:       1024,
		PairingRotation:       20 * time.Second,
		PairingTimeout:        2 * time.Minute,
		Media:                 "127.0.0.1:5281",
		MediaMaxFileSize:      100 << 20,
		MediaQuota:            1 << 30,
		MediaRetention:        30 * 24 * time.Hour,
		PushInterval:          5 * time.Second,
		ClusterHeartbeat:      time.Second,
		TURN:                  "127.0.0.1:3478",
		TURNPorts:             "49152-65535",
		TURNCredentialTTL:     6 * time.Hour,
		TURNMaxAllocations:    8,
		TURNBandwidth:         1 << 20,
		CallRingTimeout:       45 * time.Second,
		MetricsAllow:          "127.0.0.0/8,::1/128",
	}
}

// StoreDir is the directory of the embedded store inside the data directory.
// The server and "parley user" both use it.
func StoreDir(c Config) string { return filepath.Join(c.Data, "store") }

// AdminSocketPath is the admin socket's path: c.AdminSocket, or admin.sock in
// the data directory when that is empty.
func AdminSocketPath(c Config) string {
	if c.AdminSocket != "" {
		return c.AdminSocket
	}
	return filepath.Join(c.Data, "admin.sock")
}

// PIDFilePath is the file in the data directory where a running "parley
// serve" writes its process id (for live upgrades).
func PIDFilePath(c Config) string { return filepath.Join(c.Data, "parley.pid") }

// MediaSecretPath is the media signing secret's file: c.MediaSecretFile,
// or media/secret in the data directory when that is empty.
func MediaSecretPath(c Config) string {
	if c.MediaSecretFile != "" {
		return c.MediaSecretFile
	}
	return filepath.Join(c.Data, "media", "secret")
}

// MediaBaseURL is the public URL of the media listener: c.MediaURL, or
// http://<c.Media> when that is empty.
func MediaBaseURL(c Config) string {
	if c.MediaURL != "" {
		return strings.TrimSuffix(c.MediaURL, "/")
	}
	return "http://" + c.Media
}

// Limits enforced by Validate.
const (
	// MinStanzaBytes is the smallest --max-stanza-bytes: RFC 6120 section
	// 13.12 requires servers to accept stanzas of at least 10000 bytes.
	MinStanzaBytes = 10000
	// maxSocketPath is the longest unix socket path Linux accepts
	// (sizeof(sun_path) - 1).
	maxSocketPath = 107
)

// Log levels and formats Validate accepts.
var (
	logLevels  = []string{"debug", "info", "warn", "error"}
	logFormats = []string{"text", "json"}
)

// Validate checks c and returns every problem found, one per line, each
// naming the flag to change (for example `--domain "a b": invalid domain`).
func (c *Config) Validate() error {
	var errs []error
	bad := func(flag string, value any, format string, args ...any) {
		errs = append(errs, badSetting(flag, value, format, args...))
	}

	if c.Data == "" {
		bad("data", c.Data, "a data directory is required")
	}
	if d, err := jid.New("", c.Domain, ""); err != nil {
		bad("domain", c.Domain, "invalid domain (%s)", strings.TrimPrefix(err.Error(), "jid: "))
	} else if d.Domain() != c.Domain {
		bad("domain", c.Domain, "write the domain in its canonical form %q", d.Domain())
	}

	for _, a := range []struct{ flag, addr string }{{"c2s", c.C2S}, {"c2s-tls", c.C2STLS}, {"native", c.Native}, {"http", c.HTTP}, {"media", c.Media}} {
		if a.addr == "" {
			continue
		}
		if err := checkAddr(a.addr); err != nil {
			bad(a.flag, a.addr, "%v", err)
		}
	}
	if c.C2S == "" && c.C2STLS == "" && c.Native == "" && c.HTTP == "" {
		errs = append(errs, errors.New("no listener: set at least one of --c2s, --c2s-tls, --native, --http"))
	}
	if c.Store != "" && !strings.HasPrefix(c.Store, "postgres://") && !strings.HasPrefix(c.Store, "postgresql://") {
		errs = append(errs, fmt.Errorf("--store %s: want empty (the embedded store) or a PostgreSQL URL, postgres://user@host:5432/database", redactURL(c.Store)))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, fmt.Errorf("--tls-cert %s and --tls-key %s: set both (your own certificate) or neither (a self-signed one)",
			quote(c.TLSCert), quote(c.TLSKey)))
	}

	if !slices.Contains(logLevels, c.LogLevel) {
		bad("log-level", c.LogLevel, "unknown log level (want one of %s)", strings.Join(logLevels, ", "))
	}
	if !slices.Contains(logFormats, c.LogFormat) {
		bad("log-format", c.LogFormat, "unknown log format (want one of %s)", strings.Join(logFormats, ", "))
	}

	if c.MinFreeDiskMB < 0 {
		bad("min-free-disk-mb", c.MinFreeDiskMB, "must be 0 (no check) or more")
	}
	if c.MaxStanzaBytes < MinStanzaBytes {
		bad("max-stanza-bytes", c.MaxStanzaBytes, "must be at least %d (RFC 6120 section 13.12)", MinStanzaBytes)
	}
	if c.ResumeTimeout < 0 || (c.ResumeTimeout > 0 && c.ResumeTimeout < time.Second) {
		bad("resume-timeout", c.ResumeTimeout, "must be 0 (no resumption) or at least 1s")
	}
	if c.AckWindow < 0 || c.AckWindow > time.Minute {
		bad("ack-window", c.AckWindow, "must be between 0 (store every message first) and 1m")
	}
	if c.PingInterval < time.Second {
		bad("ping-interval", c.PingInterval, "must be at least 1s")
	}
	if c.PingTimeout < time.Second {
		bad("ping-timeout", c.PingTimeout, "must be at least 1s")
	}
	for _, l := range []struct {
		flag string
		n    int
	}{
		{"mailbox-size", c.MailboxSize},
		{"auth-failures-per-minute", c.AuthFailuresPerMinute},
		{"registrations-per-hour", c.RegistrationsPerHour},
		{"max-linked-devices", c.MaxLinkedDevices},
		{"group-max-members", c.GroupMaxMembers},
	} {
		if l.n <= 0 {
			bad(l.flag, l.n, "must be positive")
		}
	}

	if c.PairingRotation < 100*time.Millisecond || c.PairingTimeout < c.PairingRotation {
		bad("pairing-timeout", c.PairingTimeout, "must be at least --pairing-rotation, itself at least 100ms")
	}
	errs = append(errs, c.validateMedia()...)
	errs = append(errs, c.validatePush()...)
	errs = append(errs, c.validateWeb()...)
	errs = append(errs, c.validateCluster()...)
	errs = append(errs, c.validateTURN()...)
	if c.ArchiveRetention < 0 || (c.ArchiveRetention > 0 && c.ArchiveRetention < time.Hour) {
		bad("archive-retention", c.ArchiveRetention, "must be 0 (keep forever) or at least 1h")
	}

	if c.Data != "" {
		if p := AdminSocketPath(*c); len(p) > maxSocketPath {
			flag := "admin-socket"
			if c.AdminSocket == "" {
				flag = "data"
			}
			errs = append(errs, fmt.Errorf("admin socket path %q is %d bytes, longer than the %d a unix socket allows: use a shorter --%s",
				p, len(p), maxSocketPath, flag))
		}
	}
	return errors.Join(errs...)
}

// checkAddr checks a listener address: host:port with a numeric port.
func checkAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("want host:port, for example 127.0.0.1:5222 or :5222 for every interface")
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || (n == 0 && port != "0") {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	if strings.ContainsAny(host, " /@") {
		return fmt.Errorf("host %q is not a host name or IP address", host)
	}
	return nil
}

// settingError is a problem with the value of one setting. It names the
// flag; LoadValid names the file's key instead when the value came from
// the configuration file, where the user has to change it.
type settingError struct {
	flag  string
	value any
	msg   string
}

func (e *settingError) Error() string {
	return fmt.Sprintf("--%s %s: %s", e.flag, quote(e.value), e.msg)
}

// badSetting reports the value of the setting of flag as wrong.
func badSetting(flag string, value any, format string, args ...any) error {
	return &settingError{flag: flag, value: value, msg: fmt.Sprintf(format, args...)}
}

// quote renders a value in an error message: strings quoted, the rest as is.
func quote(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}

// validateMedia checks the media settings.
func (c *Config) validateMedia() []error {
	var errs []error
	bad := func(flag string, value any, format string, args ...any) {
		errs = append(errs, badSetting(flag, value, format, args...))
	}
	if c.MediaURL != "" {
		if u, err := url.Parse(c.MediaURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.RawQuery != "" || u.Fragment != "" {
			bad("media-url", c.MediaURL, "want http(s)://host[:port][/path]")
		}
	}
	if c.MediaMaxFileSize <= 0 {
		bad("media-max-file-size", c.MediaMaxFileSize, "must be positive")
	}
	if c.MediaQuota < 0 {
		bad("media-quota", c.MediaQuota, "must be 0 (no limit) or positive")
	}
	if c.MediaRetention < time.Hour {
		bad("media-retention", c.MediaRetention, "must be at least 1h")
	}
	if c.MediaS3Endpoint == "" {
		return errs
	}
	if u, err := url.Parse(c.MediaS3Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("media-s3-endpoint", c.MediaS3Endpoint, "want http(s)://host[:port]")
	}
	for _, f := range []struct{ flag, v string }{
		{"media-s3-bucket", c.MediaS3Bucket}, {"media-s3-access-key", c.MediaS3AccessKey}, {"media-s3-secret-key-file", c.MediaS3SecretKeyFile},
	} {
		if f.v == "" {
			bad(f.flag, f.v, "required with --media-s3-endpoint")
		}
	}
	return errs
}

// redactURL hides a password in a URL, for messages and logs.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		return u.Redacted()
	}
	return s
}

// StoreDescription names the store for logs and messages, without secrets.
func StoreDescription(c Config) string {
	if c.Store == "" {
		return "embedded store in " + StoreDir(c)
	}
	return "PostgreSQL " + redactURL(c.Store)
}
