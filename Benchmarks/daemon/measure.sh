#!/usr/bin/env bash
# Resident memory and idle CPU of the release `wazuh-nats-gateway run` with simulated agents and
# keepalive churn, against a local JetStream nats-server (loopback only).
#
#   swift build -c release --product wazuh-nats-gateway
#   Benchmarks/daemon/measure.sh [--agents 1000] [--warmup 10] [--duration 60] [--gateway PATH]
#       [--scenario steady|keepalive|churn] [--simulator PATH (default: the gateway binary)]
#
# The simulator (`wazuh-nats-gateway simulate`, steady scenario: keepalives plus rare
# disconnections, commit timers 200ms idle / 1s max) writes global.db; the gateway watches it. After
# the warm-up, /proc/PID/stat (utime+stime) and /proc/PID/status (VmRSS, VmHWM) of the gateway are
# sampled every second for the duration. Only the gateway process is measured.
set -euo pipefail

agents=1000
warmup=10
duration=60
root="$(cd "$(dirname "$0")/../.." && pwd)"
. "$root/Benchmarks/lib.sh"
gateway="$root/.build/release/wazuh-nats-gateway"
while [ $# -gt 0 ]; do
    case "$1" in
        --agents) agents="$2"; shift 2 ;;
        --warmup) warmup="$2"; shift 2 ;;
        --duration) duration="$2"; shift 2 ;;
        --gateway) gateway="$2"; shift 2 ;;
        --simulator) simulator_bin="$2"; shift 2 ;;
        --scenario) scenario="$2"; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
bench_require_gateway "$gateway"
nats_server="$(bench_nats_server)"

bench_workdir /tmp/daemon-footprint.XXXXXX
nats_port="$(free_port)"
bench_start_nats "$nats_server" "$nats_port"

mkdir -m 700 "$work/keys"
"$gateway" keygen --out "$work/keys/signing.key" 2>/dev/null

total=$((warmup + duration + 5))
"${simulator_bin:-$gateway}" simulate --db "$work/global.db" --agents "$agents" --scenario "${scenario:-steady}" \
    --commit-idle 200ms --commit-max 1s --duration "${total}s" > "$work/simulate.log" 2>&1 &
simulator=$!
pids+=($simulator)
wait_for 10 "the simulator's global.db" test -f "$work/global.db"
# Let the simulator finish populating, so the gateway's baseline is the whole fleet.
sleep 2

cat > "$work/gateway.yaml" <<CONF
wazuh:
  db_path: "$work/global.db"
  poll_interval: "5s"
  manager_node: "bench-manager"
$(bench_gateway_config_tail "$nats_port" "$work/keys/signing.key" "$work/state/outbox.db")
CONF
bench_run_gateway "$gateway" "$work/gateway.yaml" "$work/gateway.log" 20

sleep "$warmup"
sample_process "$gw" "$duration"
curl -s "http://127.0.0.1:$http_port/metrics" > "$work/metrics.txt" || true

kill -TERM "$gw"
exit_status=0
wait "$gw" || exit_status=$?

echo "scenario: ${scenario:-steady}"
python3 - "$start_ticks" "$end_ticks" "$start_ns" "$end_ns" "$ticks_per_second" "$max_rss" "$last_rss" "$hwm" \
    "$agents" "$warmup" "$exit_status" "$work/metrics.txt" <<'PY'
import sys
start_ticks, end_ticks, start_ns, end_ns, hz, max_rss, last_rss, hwm, agents, warmup, status, path = sys.argv[1:13]
metrics = open(path).read()
def total(name):
    s = 0.0
    for line in metrics.splitlines():
        if line.startswith("#"): continue
        parts = line.split()
        if len(parts) >= 2 and (parts[0] == name or parts[0].startswith(name + "{")):
            s += float(parts[1])
    return s
seconds = (int(end_ns) - int(start_ns)) / 1e9
cpu = (int(end_ticks) - int(start_ticks)) / int(hz)
print(f"agents: {agents}, measured over {seconds:.1f} s after {warmup} s warm-up")
print(f"CPU: {cpu:.2f} s over {seconds:.1f} s = {cpu / seconds * 100:.2f} % of one core")
print(f"VmRSS: max {int(max_rss) / 1024:.1f} MiB, last {int(last_rss) / 1024:.1f} MiB; VmHWM {int(hwm) / 1024:.1f} MiB")
print(f"source reads ok/errors: {total('wazuh_nats_gateway_source_read_duration_seconds_count'):.0f}/{total('wazuh_nats_gateway_source_read_errors_total'):.0f}, "
      f"events detected: {total('wazuh_nats_gateway_events_detected_total'):.0f}, "
      f"messages published: {total('wazuh_nats_gateway_messages_published_total'):.0f}")
print(f"gateway exit status after SIGTERM: {status}")
PY
