#!/usr/bin/env bash
# The server's own part of a delivery's latency at an offered rate, beside
# the end-to-end figure `parley bench` measures: a fresh `parley serve` on
# core 1 (plain TCP, the flags of the peers' run), 1,000 devices registered
# and logged in, then one throughput step on core 0 (a 5 s warm-up, then a
# 12 s step); /metrics is scraped 8 s into that run and at its end, and the
# quantiles of parley_delivery_wait_seconds (hand-over to a device's session
# until the end of the write) and of go_sched_latencies_seconds (runnable
# goroutines' wait for a CPU) are read from the histograms' differences.
# Each quantile is the upper bound of its bucket.
#
#   scripts/delivery-wait.sh [--rate R] [--devices N]
#
# Loopback only; builds parley into the run's work directory.
set -euo pipefail
cd "$(dirname "$0")/.."
rate=5000 devices=1000
while [ $# -gt 0 ]; do
  case "$1" in
    --rate) rate=$2; shift 2 ;;
    --devices) devices=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/parley" ./cmd/parley
taskset -c 1 "$work/parley" serve --data "$work/data" --c2s 127.0.0.1:31600 --c2s-tls "" --native "" \
  --http 127.0.0.1:31610 --media "" --turn "" --allow-plaintext-auth --allow-registration --no-server-history \
  --registrations-per-hour 1000000 --log-level warn > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 50); do curl -s -o /dev/null 127.0.0.1:31610/metrics && break; sleep 0.2; done
bench=(taskset -c 0 "$work/parley" bench --server 127.0.0.1:31600 --tls plain --mechanism SCRAM-SHA-256
  --precompute-keys --devices "$devices" --quiet --server-pid "$server")
"${bench[@]}" --register --register-in-flight 10 --scenarios login > /dev/null
"${bench[@]}" --scenarios throughput --rates "$rate" --warmup 5s --step 12s > "$work/bench.out" &
sleep 8
curl -s 127.0.0.1:31610/metrics > "$work/before"
wait $!
curl -s 127.0.0.1:31610/metrics > "$work/after"
grep -A1 one-to-one "$work/bench.out"
python3 - "$work/before" "$work/after" <<'EOF'
import re, sys

def buckets(path, name):
    out = {}
    for line in open(path):
        m = re.match(name + r'_bucket\{le="([^"]+)"\} (\S+)', line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out

for name, what in (("parley_delivery_wait_seconds", "delivery wait over {} writes"),
                   ("go_sched_latencies_seconds", "scheduling latency over {} goroutine runs")):
    before, after = buckets(sys.argv[1], name), buckets(sys.argv[2], name)
    bounds = sorted((k for k in after if k != "+Inf"), key=float) + ["+Inf"]
    counts = [(k, after[k] - before.get(k, 0)) for k in bounds]
    total = counts[-1][1]
    print(what.format(int(total)) + ":", end="")
    for q in (0.5, 0.9, 0.99, 0.999):
        bound = next(k for k, c in counts if c >= q * total)
        print(f"  p{q * 100:g} <= {float(bound) * 1000:.3g} ms", end="")
    print()
EOF
