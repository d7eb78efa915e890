#!/usr/bin/env bash
# Freshness: time from a status written in the simulated wazuh-db's open transaction to a NATS
# subscriber's receipt of the gateway's event (same host, same clock), for a gateway reading
# wazuh-db's socket and one reading global.db, watching the same simulated manager in the same run.
#
#   swift build -c release --product wazuh-nats-gateway          (from the repository root)
#   Benchmarks/wazuhdb/freshness.sh [--agents 1000] [--duration 180] [--warmup 20]
#       [--commit-idle 10s] [--commit-max 60s] [--socket-poll 500ms] [--gateway PATH]
#       [--rounds 1] [--record FILE]
#   --quick: --duration 60 --commit-idle 2s --commit-max 10s (for iteration; report the real timers)
#   --rounds N: N runs one after the other (each with its own simulator, gateways and server), each
#   round's figures appended to FILE (default: a temporary file), then the medians over the rounds.
#
# The simulator (`simulate --scenario steady`, wazuh-db's commit timers by default) writes global.db,
# serves queue/db/wdb and logs every committed transition with the time it was written
# (`--ground-truth`, `written_at_ms`). Only status changes written after the warm-up and before the
# end of the measured window count; the run goes on `commit-max` + 15 s longer so the file gateway
# gets the last commit.
set -euo pipefail

agents=1000; duration=180; warmup=20; idle=10s; max=60s; socket_poll=500ms; rounds=1; record=""
arguments=("$@")
root="$(cd "$(dirname "$0")/../.." && pwd)"
gateway="$root/.build/release/wazuh-nats-gateway"
while [ $# -gt 0 ]; do
    case "$1" in
        --agents) agents="$2"; shift 2 ;;
        --duration) duration="$2"; shift 2 ;;
        --warmup) warmup="$2"; shift 2 ;;
        --commit-idle) idle="$2"; shift 2 ;;
        --commit-max) max="$2"; shift 2 ;;
        --socket-poll) socket_poll="$2"; shift 2 ;;
        --gateway) gateway="$2"; shift 2 ;;
        --quick) duration=60; idle=2s; max=10s; shift ;;
        --rounds) rounds="$2"; shift 2 ;;
        --record) record="$2"; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/../lib.sh"
bench_require_gateway "$gateway"
nats_server="$(bench_nats_server)"
if [ "$rounds" -gt 1 ]; then
    [ -n "$record" ] || record="$(mktemp /tmp/freshness-rounds.XXXXXX)"
    for round in $(seq "$rounds"); do
        echo "## round $round of $rounds"
        "$0" "${arguments[@]}" --rounds 1 --record "$record"
    done
    echo "# medians over $rounds rounds ($record)"
    python3 "$here/freshness.py" medians --record "$record"
    exit 0
fi
seconds() { case "$1" in *ms) echo 1 ;; *s) echo "${1%s}" ;; *m) echo $(( ${1%m} * 60 )) ;; esac; }

bench_workdir /tmp/freshness.XXXXXX
nats_port="$(free_port)"
bench_start_nats "$nats_server" "$nats_port"
mkdir -p -m 700 "$work/keys" && mkdir -p "$work/ossec/queue/db"
"$gateway" keygen --out "$work/keys/signing.key" > /dev/null 2>&1
db="$work/ossec/queue/db/global.db"
total=$(( warmup + duration + $(seconds "$max") + 15 ))
"$gateway" simulate --db "$db" --agents "$agents" --scenario steady --commit-idle "$idle" --commit-max "$max" \
    --duration "${total}s" --ground-truth "$work/truth.jsonl" > "$work/simulate.log" 2>&1 &
simulator=$!
pids+=($simulator)
wait_for 60 "the simulated wazuh-db socket" test -S "$work/ossec/queue/db/wdb"
python3 "$here/freshness.py" subscribe --port "$nats_port" --out "$work/received.jsonl" &
subscriber=$!
pids+=($subscriber)

start_gateway() {  # name prefix source
    cat > "$work/$1.yaml" <<CONF
wazuh:
  install_root: "$work/ossec"
  db_path: "$db"
  poll_interval: "1s"
  source: $3
  socket_path: "$work/ossec/queue/db/wdb"
  socket_poll_interval: "$socket_poll"
  manager_node: "bench"
$(bench_gateway_config_tail "$nats_port" "$work/keys/signing.key" "$work/$1/outbox.db" "$2" "$(echo "$2" | tr a-z A-Z)")
CONF
    "$gateway" run --config "$work/$1.yaml" > "$work/$1.log" 2>&1 &
    pids+=($!)
}
start_gateway socket sock wazuh-db
start_gateway file file file
sleep "$warmup"
since_ms=$(( $(date +%s%3N) ))
sleep "$duration"
until_ms=$(( $(date +%s%3N) ))
wait "$simulator" || true
sleep 5
kill -TERM "$subscriber"; wait "$subscriber" 2>/dev/null || true
echo "# freshness: $agents agents, commit timers $idle idle / $max max, socket poll $socket_poll, window ${duration}s after ${warmup}s warm-up"
python3 "$here/freshness.py" report --truth "$work/truth.jsonl" --received "$work/received.jsonl" \
    --since-ms "$since_ms" --until-ms "$until_ms" ${record:+--record "$record"} \
    --label "$agents agents, poll $socket_poll, timers $idle/$max"
grep -h -i 'error\|warning' "$work/socket.log" "$work/file.log" | head -5 || true
