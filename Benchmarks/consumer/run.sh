#!/usr/bin/env bash
# Reading a JetStream stream: subscribe --stream and the raw consumer API beside the raw stream read rate.
#
# Usage: Benchmarks/consumer/run.sh [MESSAGES] [ROUNDS]   (defaults 50000 3)
#
# Builds the benchmark in release; it starts its own nats-server (JetStream, file storage) on a free
# loopback port, stores MESSAGES signed status events once, and reads them back in each mode per round.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
(cd "$here" && swift build -c release --product consumer-benchmark >&2)
bin="$(cd "$here" && swift build -c release --show-bin-path)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin/consumer-benchmark" "${1:-50000}" "${2:-3}"
