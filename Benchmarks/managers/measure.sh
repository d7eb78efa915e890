#!/usr/bin/env bash
# Several managers from one gateway (issue #11): per-manager detection latency, the gateway's CPU and
# RSS, and the Wazuh REST API's request rate.
#
#   swift build -c release --product wazuh-nats-gateway
#   Benchmarks/managers/measure.sh [--agents 10000] [--warmup 20] [--duration 60] [--gateway PATH]
#   Benchmarks/managers/measure.sh --api-only --agents 100000 [--duration 120]
#
# Default mode: three simulated managers (`wazuh-nats-gateway simulate`, steady scenario, each with
# its own fleet and ground-truth log) read by one gateway — `file` reads global.db, `socket` reads
# wazuh-db's socket (`source: wazuh-db`), `api` reads the simulator's HTTPS REST API (`source: api`,
# default poll and rate limit) — delivering to a local JetStream nats-server. A NATS subscriber
# (latency.py, nats-py) stamps each status event when it arrives; it is matched to the simulator's
# ground truth by its event id (agent, database time, manager), so the latency is measured outside
# the gateway: simulator COMMIT (and, for the socket and API, the write into the open transaction)
# → event received from NATS. The gateway's CPU (utime+stime) and VmRSS/VmHWM are sampled from /proc
# over the duration after the warm-up.
#
# --api-only: one API manager with --agents agents and the gateway's default API settings (5 s poll,
# 10 000 agents per page, 240 requests/minute budget); the simulated API counts every request it
# answered (`simulate`'s closing line), divided by the minutes the gateway ran.
set -euo pipefail

agents=10000
warmup=20
duration=60
api_only=false
root="$(cd "$(dirname "$0")/../.." && pwd)"
here="$(cd "$(dirname "$0")" && pwd)"
. "$root/Benchmarks/lib.sh"
gateway="$root/.build/release/wazuh-nats-gateway"
while [ $# -gt 0 ]; do
    case "$1" in
        --agents) agents="$2"; shift 2 ;;
        --warmup) warmup="$2"; shift 2 ;;
        --duration) duration="$2"; shift 2 ;;
        --gateway) gateway="$2"; shift 2 ;;
        --api-only) api_only=true; shift ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
bench_require_gateway "$gateway"
nats_server="$(bench_nats_server)"
python3 -c 'import nats' 2>/dev/null || { echo "needs nats-py (pip install nats-py)" >&2; exit 2; }

bench_workdir /tmp/managers-bench.XXXXXX
nats_port="$(free_port)"
bench_start_nats "$nats_server" "$nats_port"
mkdir -m 700 "$work/keys"
"$gateway" keygen --out "$work/keys/signing.key" 2>/dev/null
printf 'Bench-Api-Passw0rd\n' > "$work/keys/api.password"
chmod 600 "$work/keys/api.password"
export WAZUH_SIMULATOR_API_PASSWORD=Bench-Api-Passw0rd

total=$((warmup + duration + 30))
api_port="$(free_port)"
simulators=()
start_simulator() { # name extra-arguments...
    local name="$1"; shift
    mkdir -p "$work/$name"
    "$gateway" simulate --db "$work/$name/global.db" --agents "$agents" --scenario steady \
        --commit-idle 200ms --commit-max 1s --duration "${total}s" --ground-truth "$work/$name/truth.jsonl" \
        "$@" > "$work/$name/simulate.log" 2>&1 &
    pids+=($!)
    simulators+=($!)
}
api_entry() {
    cat <<CONF
  - manager_node: "$1"
    source: api
    api_url: "https://localhost:$api_port"
    api_user: "wazuh-wui"
    api_password_file: "$work/keys/api.password"
    api_ca: "$work/$1/api-ca.pem"
CONF
}
if $api_only; then
    start_simulator api --no-socket --api-port "$api_port"
    managers="$(api_entry api)"
    names="api"
else
    start_simulator file --no-socket
    start_simulator socket --socket "$work/socket/wdb"
    start_simulator api --no-socket --api-port "$api_port"
    managers="  - manager_node: \"file\"
    source: file
    db_path: \"$work/file/global.db\"
  - manager_node: \"socket\"
    source: wazuh-db
    db_path: \"$work/socket/global.db\"
    socket_path: \"$work/socket/wdb\"
$(api_entry api)"
    names="file socket api"
fi
for name in $names; do
    wait_for 60 "the $name simulator's fleet" grep -qs '"initial"' "$work/$name/truth.jsonl"
done
wait_for 60 "the simulated API's certificate" test -f "$work/api/api-ca.pem"

cat > "$work/gateway.yaml" <<CONF
managers:
$managers
$(bench_gateway_config_tail "$nats_port" "$work/keys/signing.key" "$work/state/outbox.db")
CONF

python3 "$here/latency.py" listen "nats://127.0.0.1:$nats_port" "$work/received.jsonl" > "$work/listener.log" 2>&1 &
listener=$!
pids+=($listener)
sleep 1
gateway_started_ns="$(date +%s%N)"
bench_run_gateway "$gateway" "$work/gateway.yaml" "$work/gateway.log" 30
sleep "$warmup"
sample_process "$gw" "$duration"
curl -s "http://127.0.0.1:$http_port/readyz" > "$work/readyz.txt" || true
kill -TERM "$gw"
wait "$gw" || true
gateway_stopped_ns="$(date +%s%N)"
# Stop the simulators now (SIGINT: they commit and print their summary, with the API's request count).
for pid in "${simulators[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
for pid in "${simulators[@]}"; do wait "$pid" 2>/dev/null || true; done
sleep 1
kill -INT "$listener" 2>/dev/null || true
wait "$listener" 2>/dev/null || true

cpu="$(( end_ticks - start_ticks ))"
python3 - "$cpu" "$ticks_per_second" "$start_ns" "$end_ns" "$max_rss" "$hwm" "$agents" "$names" <<'PY'
import sys
cpu, hz, start, end, rss, hwm, agents, names = sys.argv[1:9]
seconds = (int(end) - int(start)) / 1e9
cpu_s = int(cpu) / int(hz)
print(f"managers: {names} × {agents} agents; measured over {seconds:.1f} s after the warm-up")
print(f"gateway CPU: {cpu_s:.2f} s = {cpu_s / seconds * 100:.1f} % of one core; VmRSS max {int(rss) / 1024:.1f} MiB, VmHWM {int(hwm) / 1024:.1f} MiB")
PY
echo "readyz: $(head -c 300 "$work/readyz.txt")"
grep -h "^simulated" "$work"/*/simulate.log || true
if $api_only; then
    python3 - "$work/api/simulate.log" "$gateway_started_ns" "$gateway_stopped_ns" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
match = re.search(r"(\d+) API requests \((\d+) answered 429\)", text)
minutes = (int(sys.argv[3]) - int(sys.argv[2])) / 60e9
if match:
    print(f"API: {match.group(1)} requests ({match.group(2)} answered 429) over {minutes:.2f} min of gateway = {int(match.group(1)) / minutes:.1f} requests/minute")
else:
    print("API: no request count in the simulator's summary")
PY
else
    python3 "$here/latency.py" match "$work/received.jsonl" "$work" $names
fi
