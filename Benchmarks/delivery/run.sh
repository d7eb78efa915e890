#!/usr/bin/env bash
# The 20k-agent restart-storm delivery benchmark beside raw acknowledged publish rates (see README in main.swift).
#
# Usage: Benchmarks/delivery/run.sh [AGENTS] [ROUNDS] [RAW_MESSAGES|same]   (defaults 20000 3 100000)
# The program is the `delivery-benchmark` target of the Benchmarks package (Sources/DeliveryBenchmark);
# `Benchmarks/suite.sh` runs it as one step of `make bench`.
#
# Builds the benchmark in release and, when Benchmarks/c/js_bench.c and libnats are present, the C client
# benchmark; the Swift program starts its own nats-server (JetStream, file storage) on a free loopback port.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
c_bench=""
if [[ -f "$here/../c/js_bench.c" ]] && pkg-config --exists libnats; then
    mkdir -p "$here/bin"
    cc -O2 -Wall -Wextra -o "$here/bin/js_bench" "$here/../c/js_bench.c" $(pkg-config --cflags --libs libnats)
    c_bench="$here/bin/js_bench"
fi
(cd "$here/.." && swift build -c release --product delivery-benchmark >&2)
bin="$(cd "$here/.." && swift build -c release --show-bin-path)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin/delivery-benchmark" "${1:-20000}" "${2:-3}" "${3:-100000}" $c_bench
