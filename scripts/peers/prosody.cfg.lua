-- Prosody 0.12 (Debian) set up the way the comparison in docs/benchmarks.md
-- runs every server: loopback, plaintext PLAIN allowed, in-band
-- registration open, no rate limits, stream management on.
-- MUC (the groups scenario with --muc-service conference.localhost): no
-- occupant limit (Prosody has none by default), no discussion history.
-- PEERS_DIR is replaced by run.sh.
pidfile = "PEERS_DIR/prosody/prosody.pid"
data_path = "PEERS_DIR/prosody/data"
log = { warn = "PEERS_DIR/prosody/prosody.log" }
interfaces = { "127.0.0.1" }
-- The listen backlog (Prosody's default is 128), as large as the others'.
network_settings = { tcp_backlog = 4096 }
c2s_ports = { 5422 }
s2s_ports = { }
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
allow_registration = true
min_seconds_between_registrations = 0
registration_throttle_max = 1000000
modules_enabled = { "roster"; "saslauth"; "disco"; "ping"; "register"; "smacks"; "offline"; "lastactivity"; "posix" }
modules_disabled = { "s2s"; "limits" }
VirtualHost "localhost"
Component "conference.localhost" "muc"
	max_history_messages = 0
	muc_room_default_history_length = 0
	muc_room_default_persistent = true
	muc_room_default_members_only = true
	muc_room_cache_size = 1000
