#!/usr/bin/env bash
# Runs `parley bench` with the same settings against Parley, ejabberd and
# Prosody on this machine, one after the other (Parley three times: XMPP in
# plaintext as the peers, XMPP over TLS, and its binary protocol over TLS),
# each server pinned to core 1
# and the generator to core 0, and writes each report to $OUT/<server>.json
# and .txt. Installs the Debian packages ejabberd and prosody when they are
# missing, and needs root for that, the open-file limit and Prosody's user.
#
#   scripts/peers/run.sh [parley bench flags...]
#
# for example: scripts/peers/run.sh --devices 1000 --rates 2500,5000,10000,20000
#
# Groups: parley and parley-binary run Parley's group protocol; parley-muc,
# ejabberd and prosody run the same scenario over XEP-0045 rooms (MUC
# service groups.localhost, Parley's MUC view, or conference.localhost):
#   SERVERS="parley-binary parley-muc ejabberd prosody" scripts/peers/run.sh \
#     --scenarios groups --devices 1024 --group-sizes 10,100,1024
set -euo pipefail
cd "$(dirname "$0")/../.."
PEERS_DIR=${PEERS_DIR:-/tmp/parley-peers}
OUT=${OUT:-$PEERS_DIR/out}
SERVERS=${SERVERS:-parley parley-xml-tls parley-binary ejabberd prosody}
# The peers from Debian's packages, installed when missing (as root).
need=()
case " $SERVERS " in *" ejabberd "*) command -v ejabberdctl >/dev/null || need+=(ejabberd) ;; esac
case " $SERVERS " in *" prosody "*) command -v prosody >/dev/null || need+=(prosody) ;; esac
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]} from Debian's packages"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
rm -rf "$PEERS_DIR"; mkdir -p "$PEERS_DIR" "$OUT"
ulimit -n "$(ulimit -Hn)" # 20,000 on the machines here
go build -o "$PEERS_DIR/parley" ./cmd/parley

wait_port() { for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.2; done; echo "port $1 never opened" >&2; return 1; }

start_parley() {
  rm -rf "$PEERS_DIR/parley-data"
  taskset -c 1 "$PEERS_DIR/parley" serve --data "$PEERS_DIR/parley-data" --c2s 127.0.0.1:5522 --c2s-tls 127.0.0.1:5523 \
    --native 127.0.0.1:5524 --http "" --media "" --allow-plaintext-auth --allow-registration \
    --no-server-history `# the peers keep no archive either (no mod_mam)` \
    --registrations-per-hour 1000000 --log-level warn "$@" >"$PEERS_DIR/parley.log" 2>&1 &
  echo $! >"$PEERS_DIR/pid"; wait_port 5522; PORT=5522
  # SCRAM with the keys derived once by the generator, as a phone keeps its
  # salted password (issue 5's login figure): Parley stores no plaintext
  # password, so PLAIN makes its server derive a PBKDF2 key at every login,
  # which a real client never asks of it (see docs/benchmarks.md).
  CLIENT=(--tls plain --mechanism SCRAM-SHA-256 --precompute-keys); MUC=()
}
# Its MUC view of groups (XEP-0045), for the groups scenario.
# A device joining a room gets every occupant's presence at once: Parley's
# default mailbox (1,024 stanzas) is smaller than a 1,024-member room's
# join, so this run gives it room, as the peers' MUC get large limits.
start_parley-muc() { start_parley; MUC=(--muc-service groups.localhost); }
# The same server, measured with Parley's binary protocol (always TLS, on the native port).
start_parley-binary() { start_parley; PORT=5524; CLIENT=(--binary --insecure --precompute-keys); }
# ... and with XMPP over TLS (direct TLS), to compare the two encodings under the same encryption.
start_parley-xml-tls() { start_parley; PORT=5523; CLIENT=(--tls direct --insecure --mechanism SCRAM-SHA-256 --precompute-keys); }
# Logins with SASL2 + Bind 2 (XEP-0388/0386) pipelined, two round trips (not in the default SERVERS: the peers
# here have no SASL2); then the same over direct TLS, a full handshake each:
#   SERVERS="parley-sasl2 parley-sasl2-tls" scripts/peers/run.sh --scenarios login
start_parley-sasl2() { start_parley; CLIENT=(--tls plain --mechanism SCRAM-SHA-256 --precompute-keys --pipeline --sasl2); }
start_parley-sasl2-tls() { start_parley; PORT=5523; CLIENT=(--tls direct --insecure --mechanism SCRAM-SHA-256 --precompute-keys --pipeline --sasl2); }
start_ejabberd() {
  mkdir -p "$PEERS_DIR/ejabberd"
  cp scripts/peers/ejabberd.yml "$PEERS_DIR/ejabberd/"
  chown -R ejabberd "$PEERS_DIR/ejabberd"
  taskset -c 1 setpriv --reuid=ejabberd --regid=ejabberd --init-groups env HOME="$PEERS_DIR/ejabberd" ejabberdctl --config-dir "$PEERS_DIR/ejabberd" \
    --spool "$PEERS_DIR/ejabberd/db" --logs "$PEERS_DIR/ejabberd" --node "bench@localhost" foreground \
    >"$PEERS_DIR/ejabberd.out" 2>&1 &
  wait_port 5322; PORT=5322; CLIENT=(--tls plain --mechanism PLAIN); MUC=(--muc-service conference.localhost)
  echo "$(pgrep -u ejabberd -f beam.smp | head -1)" >"$PEERS_DIR/pid"
}
start_prosody() {
  mkdir -p "$PEERS_DIR/prosody/data"
  sed "s#PEERS_DIR#$PEERS_DIR#g" scripts/peers/prosody.cfg.lua >"$PEERS_DIR/prosody/prosody.cfg.lua"
  chown -R prosody "$PEERS_DIR/prosody"
  taskset -c 1 setpriv --reuid=prosody --regid=prosody --init-groups prosody --config "$PEERS_DIR/prosody/prosody.cfg.lua" -F >"$PEERS_DIR/prosody.out" 2>&1 &
  wait_port 5422; PORT=5422; CLIENT=(--tls plain --mechanism PLAIN); MUC=(--muc-service conference.localhost)
  echo "$(pgrep -u prosody -f 'lua.*prosody' | head -1)" >"$PEERS_DIR/pid"
}
stop_server() {
  local pid; pid=$(cat "$PEERS_DIR/pid")
  case $1 in
    ejabberd) setpriv --reuid=ejabberd --regid=ejabberd --init-groups env HOME="$PEERS_DIR/ejabberd" ejabberdctl --config-dir "$PEERS_DIR/ejabberd" --node bench@localhost stop >/dev/null 2>&1 || kill "$pid" ;;
    *) kill "$pid" ;;
  esac
  sleep 2
  # Prosody leaving a 1,024-member room tells every occupant about every
  # other one: give a server 30 s to exit, then kill it.
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || return 0; sleep 1; done
  echo "    $1 (pid $pid) still running 30 s after stop: killed"; kill -9 "$pid" 2>/dev/null || true
}

for s in $SERVERS; do
  echo "==> $s"
  "start_$s"
  pid=$(cat "$PEERS_DIR/pid")
  # every server gets the same open-file limit (setpriv keeps this shell's; runuser would give PAM's 1,024)
  if [ "$(awk '/open files/ {print $4}' /proc/"$pid"/limits)" != "$(ulimit -Hn)" ]; then
    prlimit --nofile="$(ulimit -Hn)" --pid "$pid" || echo "    warning: could not raise the open-file limit of pid $pid"
  fi
  echo "    pid $pid, open files: $(grep 'open files' /proc/"$pid"/limits | awk '{print $4}')"
  taskset -c 0 "$PEERS_DIR/parley" bench --server 127.0.0.1:"$PORT" "${CLIENT[@]}" "${MUC[@]}" --register --register-in-flight 10 \
    --server-pid "$pid" --json "$OUT/$s.json" "$@" | tee "$OUT/$s.txt" || echo "    parley bench failed against $s (its report holds what was measured)"
  stop_server "$s"
done

# The side-by-side table (docs/benchmarks.md takes it with the date and the flags).
args=()
for s in $SERVERS; do [ -f "$OUT/$s.json" ] && args+=("$s=$OUT/$s.json"); done
"$PEERS_DIR/parley" bench compare "${args[@]}" | tee "$OUT/table.md"
