#!/usr/bin/env bash
# Cross-node delivery latency: two `parley serve` nodes on one PostgreSQL
# schema, each on its own server of a two-server NATS cluster, and `parley
# bench` with --server2 so that every pair of devices spans the two nodes
# (every message crosses the bus). Then the same load against one node
# alone on the same store, for the cost of the bus. Loopback only.
#
#   scripts/cluster-bench.sh [--devices N] [--rates R1,R2] [--step D]
#
# Needs PostgreSQL at $PARLEY_BENCH_POSTGRES (default: the test database
# on 127.0.0.1:5432, trust auth). The nodes and NATS run on core 1, the
# generator on core 0 (taskset), as in docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
devices=1000 rates=1000,2500,5000 step=10s
while [ $# -gt 0 ]; do
  case "$1" in
    --devices) devices=$2; shift 2 ;;
    --rates) rates=$2; shift 2 ;;
    --step) step=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
base=${PARLEY_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
work=$(mktemp -d /tmp/parley-cluster-bench.XXXXXX)
schema=bench_cluster_$(date +%s)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$base" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/parley" ./cmd/parley
go build -o "$work/nats-server" github.com/nats-io/nats-server/v2
psql "$base" -qc "CREATE SCHEMA $schema" >/dev/null
dsn="$base&search_path=$schema"

# Two NATS servers in one cluster (ports away from a system NATS on 4222).
taskset -c 1 "$work/nats-server" -a 127.0.0.1 -p 24222 --cluster nats://127.0.0.1:26222 --cluster_name bench \
  --routes nats://127.0.0.1:26223 >"$work/nats1.log" 2>&1 & pids+=($!)
taskset -c 1 "$work/nats-server" -a 127.0.0.1 -p 24223 --cluster nats://127.0.0.1:26223 --cluster_name bench \
  --routes nats://127.0.0.1:26222 >"$work/nats2.log" 2>&1 & pids+=($!)

serve() { # name c2s http nats [extra...]
  local name=$1 c2s=$2 http=$3 nats=$4; shift 4
  mkdir -p "$work/$name"
  taskset -c 1 "$work/parley" serve --data "$work/$name" --store "$dsn" --c2s "$c2s" --c2s-tls "" --native "" --turn "" \
    --http "$http" --media "" --allow-plaintext-auth --no-server-history --log-level warn ${nats:+--nats "$nats" --node-id "$name"} \
    "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    kill -0 "${pids[-1]}" 2>/dev/null || break
    curl -sf "http://$http/healthz" | grep -q "\"pid\":${pids[-1]}\b" && return
    sleep 0.1
  done
  echo "$name did not start:"; cat "$work/$name.log"; exit 1
}
serve node1 127.0.0.1:27222 127.0.0.1:27280 nats://127.0.0.1:24222
serve node2 127.0.0.1:27322 127.0.0.1:27380 nats://127.0.0.1:24223
sleep 1
curl -s http://127.0.0.1:27280/healthz; echo

bench() { taskset -c 0 "$work/parley" bench --tls plain --mechanism PLAIN --devices "$devices" --quiet \
  --scenarios throughput --rates "$rates" --step "$step" "$@"; }
echo "== two nodes, every pair spans them (cross-node), $(date -u +%FT%TZ)"
bench --server 127.0.0.1:27222 --server2 127.0.0.1:27322 --create-users --data "$work/node1" \
  --server-pid "$(pgrep -f "serve --data $work/node1")"
curl -s http://127.0.0.1:27280/metrics | grep -E '^parley_cluster_(bus_messages_total|remote_deliveries_total|directory_remote_devices|members)'

for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
wait 2>/dev/null || true
pids=()
serve single 127.0.0.1:27422 127.0.0.1:27480 ""
echo "== one node on the same PostgreSQL (no bus), $(date -u +%FT%TZ)"
bench --server 127.0.0.1:27422 --server-pid "$(pgrep -f "serve --data $work/single")"
