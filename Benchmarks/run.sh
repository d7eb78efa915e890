#!/usr/bin/env bash
# Side-by-side publish benchmark: our Swift client vs Debian's C client (nats.c), same server, same workload.
#
# Usage: [MODES="js js-batch js-inbox"] [BASELINE=/path/to/older/NATSPublishBench] \
#        Benchmarks/run.sh [ROUNDS] [MESSAGES] [WINDOWS]
#   ROUNDS    alternating rounds per configuration (default 5)
#   MESSAGES  messages per run (default 100000 acknowledged; 5x that for core publishes)
#   WINDOWS   space-separated pipelining windows of our client (default "256 1024 4000")
#   MODES     acknowledged modes of our bench to run per window (see Sources/NATSPublishBench/main.swift)
#   BASELINE  optional bench binary of an earlier client, run alternately too (mode js and core), so a
#             before/after comparison comes from the same server and the same load
#
# Builds both in release, starts one nats-server (JetStream, file storage) on a free loopback port in a temp
# directory, runs each client alternately, and prints the median rate of each configuration and the ratio
# ours/C. The C client always uses js_PublishAsync with 4000 pending.
set -euo pipefail

rounds="${1:-5}"
messages="${2:-100000}"
windows="${3:-256 1024 4000}"
modes="${MODES:-js js-batch js-inbox}"
baseline="${BASELINE:-}"
core_messages=$((messages * 5))
here="$(cd "$(dirname "$0")" && pwd)"

server="$(command -v nats-server || true)"
for candidate in /usr/sbin/nats-server /usr/bin/nats-server; do
    [[ -z "$server" && -x "$candidate" ]] && server="$candidate"
done
[[ -n "$server" ]] || { echo "nats-server not found" >&2; exit 1; }

echo "== building (release)" >&2
mkdir -p "$here/bin"
cc -O2 -Wall -Wextra -o "$here/bin/js_bench" "$here/c/js_bench.c" $(pkg-config --cflags --libs libnats)
(cd "$here" && swift build -c release --product NATSPublishBench >&2)
swift_bench="$(cd "$here" && swift build -c release --show-bin-path)/NATSPublishBench"
c_bench="$here/bin/js_bench"

work="$(mktemp -d -t nats-bench-XXXXXX)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
cat > "$work/server.conf" <<CONF
listen: 127.0.0.1:$port
jetstream {
  store_dir: "$work/jetstream"
  max_file_store: 4GB
}
CONF
"$server" -c "$work/server.conf" > "$work/server.log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done
url="nats://127.0.0.1:$port"

results="$work/results.txt"
: > "$results"
run() { # label command...
    local label="$1"; shift
    local line
    line="$("$@")"
    echo "$line" >&2
    echo "$label ${line##*rate=}" >> "$results"
}

echo "== $rounds rounds, $messages acknowledged / $core_messages core messages of 400 bytes, server $("$server" --version)" >&2
for round in $(seq "$rounds"); do
    run "c-js-4000" "$c_bench" "$url" js "$messages" "c$round" 4000
    for window in $windows; do
        for mode in $modes; do
            run "swift-$mode-$window" "$swift_bench" "$url" "$mode" "$messages" "s$round-$mode-$window" "$window"
        done
        if [[ -n "$baseline" ]]; then
            run "baseline-js-$window" "$baseline" "$url" js "$messages" "b$round-$window" "$window"
        fi
    done
    run "c-core" "$c_bench" "$url" core "$core_messages" "c$round"
    run "swift-core" "$swift_bench" "$url" core "$core_messages" "s$round"
    if [[ -n "$baseline" ]]; then
        run "baseline-core" "$baseline" "$url" core "$core_messages" "b$round"
    fi
done

median() { grep "^$1 " "$results" | awk '{print $2}' | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

c_js="$(median c-js-4000)"
c_core="$(median c-core)"
echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-34s %12s %10s\n' "configuration" "median msg/s" "ours/C"
printf '%-34s %12.0f %10s\n' "C js (4000 pending)" "$c_js" "-"
row() { # label key reference
    local value
    value="$(median "$2")"
    printf '%-34s %12.0f %9.0f%%\n' "$1" "$value" "$(echo "100 * $value / $3" | bc -l)"
}
for window in $windows; do
    for mode in $modes; do
        row "Swift $mode (window $window)" "swift-$mode-$window" "$c_js"
    done
    if [[ -n "$baseline" ]]; then
        row "baseline js (window $window)" "baseline-js-$window" "$c_js"
    fi
done
printf '%-34s %12.0f %10s\n' "C core" "$c_core" "-"
row "Swift core" swift-core "$c_core"
if [[ -n "$baseline" ]]; then
    row "baseline core" baseline-core "$c_core"
fi
