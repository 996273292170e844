#!/usr/bin/env bash
# A rolling upgrade of a three-node cluster under load: three `parley serve`
# nodes on one PostgreSQL schema, each on its own server of a three-server
# NATS cluster; `parley bench --scenarios upgrade` with --server and
# --server2 (every pair of devices spans nodes 1 and 2) upgrades node 1,
# then 2, then 3 (`--upgrade-socket` with the three admin sockets,
# --upgrade-gap between them) while it offers the load, and reports refused
# connections, lost and duplicated messages, the longest delivery gap and
# the time until every device was back. Loopback only.
#
#   scripts/rolling-bench.sh [--devices N] [--rate R] [--duration D] [--gap G] [--drain W] [--logs DIR]
#
# --logs keeps the nodes' and NATS servers' logs in DIR (the run's work
# directory is deleted at the end).
# --drain is how long the bench waits after the traffic for every message to
# arrive (default 1m): what is still missing then is late or lost.
#
# Needs PostgreSQL at $PARLEY_BENCH_POSTGRES (default: the test database on
# 127.0.0.1:5432, trust auth). Nodes and NATS on core 1, the generator on
# core 0 (taskset), as in docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
devices=2000 rate=1000 duration=60s gap=10s drain=1m logs=""
while [ $# -gt 0 ]; do
  case "$1" in
    --devices) devices=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --gap) gap=$2; shift 2 ;;
    --drain) drain=$2; shift 2 ;;
    --logs) logs=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
base=${PARLEY_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
work=$(mktemp -d /tmp/parley-rolling-bench.XXXXXX)
schema=bench_rolling_$(date +%s)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for n in node1 node2 node3; do # the upgraded processes are not our children
    [ -f "$work/$n/parley.pid" ] && kill "$(cat "$work/$n/parley.pid")" 2>/dev/null || true
  done
  sleep 2
  if [ -n "$logs" ]; then mkdir -p "$logs" && cp "$work"/*.log "$logs"/; fi
  psql "$base" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/parley" ./cmd/parley
go build -o "$work/nats-server" github.com/nats-io/nats-server/v2
psql "$base" -qc "CREATE SCHEMA $schema" >/dev/null
dsn="$base&search_path=$schema"
"$work/parley" db migrate --store "$dsn" >/dev/null

# Three NATS servers in one cluster (ports away from a system NATS on 4222).
for i in 1 2 3; do
  routes=""
  for j in 1 2 3; do if [ "$j" != "$i" ]; then routes+="nats://127.0.0.1:2622$j,"; fi; done
  taskset -c 1 "$work/nats-server" -a 127.0.0.1 -p "2422$i" --cluster "nats://127.0.0.1:2622$i" --cluster_name rolling \
    --routes "${routes%,}" >"$work/nats$i.log" 2>&1 & pids+=($!)
done

serve() { # name c2s http nats
  local name=$1 c2s=$2 http=$3 nats=$4
  mkdir -p "$work/$name"
  taskset -c 1 "$work/parley" serve --data "$work/$name" --store "$dsn" --c2s "$c2s" --c2s-tls "" --native "" --turn "" \
    --http "$http" --media "" --allow-plaintext-auth --no-server-history --log-level "${PARLEY_LOG_LEVEL:-info}" --min-free-disk-mb 0 \
    --nats "$nats" --node-id "$name" >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 200); do
    kill -0 "${pids[-1]}" 2>/dev/null || break
    curl -sf "http://$http/healthz" | grep -q "\"pid\":${pids[-1]}\b" && return
    sleep 0.1
  done
  echo "$name did not start:"; cat "$work/$name.log"; exit 1
}
serve node1 127.0.0.1:27222 127.0.0.1:27280 nats://127.0.0.1:24221
serve node2 127.0.0.1:27322 127.0.0.1:27380 nats://127.0.0.1:24222
serve node3 127.0.0.1:27422 127.0.0.1:27480 nats://127.0.0.1:24223
sleep 2
for h in 27280 27380 27480; do curl -s "http://127.0.0.1:$h/healthz"; done

echo "== rolling upgrade of three nodes, $devices devices, $rate msg/s, $(date -u +%FT%TZ)"
taskset -c 0 "$work/parley" bench --tls plain --mechanism PLAIN --devices "$devices" --quiet \
  --server 127.0.0.1:27222 --server2 127.0.0.1:27322 --create-users --data "$work/node1" \
  --scenarios upgrade --upgrade-at 10s --upgrade-rate "$rate" --upgrade-duration "$duration" --upgrade-drain "$drain" \
  --upgrade-socket "$work/node1/admin.sock,$work/node2/admin.sock,$work/node3/admin.sock" --upgrade-gap "$gap" \
  --upgrade-dial 127.0.0.1:27422,127.0.0.1:27280,127.0.0.1:27380,127.0.0.1:27480
for h in 27280 27380 27480; do curl -s "http://127.0.0.1:$h/healthz"; done
grep -h "old process left\|another node runs\|node restarted" "$work"/node*.log || true
