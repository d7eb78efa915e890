# Shell helpers shared by the benchmark scripts (suite.sh, daemon/measure.sh, managers/measure.sh,
# wazuhdb/freshness.sh). Source it; it defines functions and runs nothing:
#
#   . "$(cd "$(dirname "$0")" && pwd)/lib.sh"        (from Benchmarks/)
#   . "$(cd "$(dirname "$0")/.." && pwd)/lib.sh"     (from a folder below it)
#
# Conventions: a script keeps the pids it starts in the array `pids` and its temporary directory in
# `work` (made by bench_workdir); bench_cleanup, installed as the EXIT trap by bench_workdir, stops
# those processes and removes the directory (kept when `keep=1`).

# The nats-server executable (PATH, else /usr/sbin); exits the script when there is none.
bench_nats_server() {
    local server
    server="$(command -v nats-server || true)"
    for candidate in /usr/sbin/nats-server /usr/bin/nats-server; do
        [ -z "$server" ] && [ -x "$candidate" ] && server="$candidate"
    done
    [ -n "$server" ] || { echo "nats-server is not installed" >&2; exit 2; }
    echo "$server"
}

# Exits the script unless $1 is an executable gateway.
bench_require_gateway() {
    [ -x "$1" ] || { echo "no gateway executable at $1 (build it in release first)" >&2; exit 2; }
}

# Makes the temporary directory `work` (mktemp template $1), empties `pids`, installs the cleanup.
bench_workdir() {
    work="$(mktemp -d "$1")"
    pids=()
    trap bench_cleanup EXIT
}

bench_cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ "${keep:-0}" = 1 ]; then echo "work directory kept: $work" >&2; else rm -rf "$work"; fi
}

# A TCP port free on the loopback right now.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Runs `command...` every 0.1 s until it succeeds; fails after `seconds`, naming `description`.
wait_for() {  # seconds description command...
    local limit="$1" what="$2"; shift 2
    for _ in $(seq $((limit * 10))); do "$@" && return 0; sleep 0.1; done
    echo "timed out waiting for $what" >&2
    return 1
}

# Starts a JetStream nats-server (file storage under $work/jetstream) on the loopback `port`, with
# any further configuration lines given, and waits until it accepts connections. Sets `nats_pid`.
bench_start_nats() {  # nats-server port [configuration line...]
    local server="$1" port="$2"; shift 2
    {
        echo "listen: 127.0.0.1:$port"
        for line in "$@"; do echo "$line"; done
        echo "jetstream { store_dir: \"$work/jetstream\" }"
    } > "$work/nats.conf"
    "$server" -c "$work/nats.conf" > "$work/nats.log" 2>&1 &
    nats_pid=$!
    pids+=("$nats_pid")
    wait_for 30 "nats-server on port $port" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null
}

# The sections every benchmark gateway configuration shares after `wazuh:`/`managers:`: NATS at
# `port` (optional subject prefix and stream), the signing key, the outbox, metrics on a free port.
bench_gateway_config_tail() {  # nats-port signing-key outbox-path [subject-prefix stream]
    echo "nats:"
    echo "  url: \"nats://127.0.0.1:$1\""
    if [ $# -ge 5 ]; then
        echo "  subject_prefix: \"$4\""
        echo "  stream: \"$5\""
    fi
    cat <<CONF
security:
  signing_key_path: "$2"
  encrypt_messages: false
outbox:
  path: "$3"
monitoring:
  enable_metrics: true
  metrics_address: "127.0.0.1"
  metrics_port: 0
  log_level: "info"
CONF
}

# Waits (up to `seconds`) for the gateway to log its HTTP port and prints it; prints the log and
# exits the script when it never does.
gateway_http_port() {  # gateway-log seconds
    local port=""
    for _ in $(seq $(($2 * 10))); do
        port="$(grep -o '"http.port":"[0-9]*"' "$1" | head -1 | grep -o '[0-9]*' || true)"
        [ -n "$port" ] && { echo "$port"; return 0; }
        sleep 0.1
    done
    echo "the gateway did not start:" >&2
    cat "$1" >&2
    exit 1
}

# Starts `gateway run --config config` in the background (stderr to `log`) and waits up to `seconds`
# for its HTTP port; sets `gw` (its pid, also added to `pids`) and `http_port`.
bench_run_gateway() {  # gateway config log seconds
    "$1" run --config "$2" 2> "$3" &
    gw=$!
    pids+=("$gw")
    http_port="$(gateway_http_port "$3" "$4")"
}

# CPU time (utime + stime, in clock ticks) of `pid`.
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }

# A field of /proc/PID/status in KiB (VmRSS, VmHWM).
status_kib() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"; }

# Samples `pid` once a second for `seconds`: sets start_ticks/end_ticks (CPU), start_ns/end_ns (wall),
# max_rss, last_rss and hwm (KiB), and ticks_per_second.
sample_process() {  # pid seconds
    ticks_per_second="$(getconf CLK_TCK)"
    start_ticks="$(cpu_ticks "$1")"
    start_ns="$(date +%s%N)"
    max_rss=0
    local rss
    for _ in $(seq "$2"); do
        sleep 1
        rss="$(status_kib "$1" VmRSS)"
        [ "$rss" -gt "$max_rss" ] && max_rss="$rss"
    done
    end_ticks="$(cpu_ticks "$1")"
    end_ns="$(date +%s%N)"
    hwm="$(status_kib "$1" VmHWM)"
    last_rss="$(status_kib "$1" VmRSS)"
}
