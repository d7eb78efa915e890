#!/usr/bin/env bash
# The end-to-end benchmark suite (`make bench`, `make bench-quick`): one run, one table in BENCHMARKS.md.
#
#   Benchmarks/suite.sh [--quick] [--no-write] [--keep]
#
#   --quick     fewer agents and rounds, shorter phases (under 5 minutes after the build)
#   --no-write  print the table, leave BENCHMARKS.md alone
#   --keep      keep the work directory (logs, ground truth, receipts) and print its path
#   --latency-only  only step 2 (latency and resources); implies --no-write
#
# Environment (for before/after comparisons): SUITE_LATENCY_RUNS ("AGENTS:RATE ..."), SUITE_ROUNDS,
# SUITE_GATEWAYS (space-separated gateway binaries, e.g. a build of the baseline and of the change: every
# configuration of every round runs each of them in turn, alternating, so both see the same load),
# SUITE_NO_BUILD=1 (use the release binaries already built).
#
# Steps (all on this machine, loopback only; results as JSON lines in WORK/results.jsonl):
#  1. builds the Benchmarks package in release (e2e-load, delivery-benchmark, NATSPublishBench and the
#     gateway itself, from the same build) and the C client benchmark (Debian's libnats);
#  2. latency and resources: starts one nats-server (JetStream, file storage, free port, temp dir); per
#     configuration (agents, change rate) and round, a simulated manager (`e2e-load`: keepalive churn
#     committed every second, then status changes at RATE/s), a release gateway watching its global.db
#     (fresh outbox, its own subject prefix and stream) and a subscriber on the same host receiving the
#     stored events from that stream (`wazuhdb/freshness.py subscribe --stream`); the latency of each
#     status change is the subscriber's receipt time minus the simulator's time right after its COMMIT
#     (ground-truth log); the gateway's CPU and RSS are sampled from /proc in the idle (churn only) and
#     load phases;
#  3. storms: `delivery-benchmark` (its own nats-server) at 20k (and 100k) agents: journal-then-deliver
#     and overlapped, beside our raw client and the C client publishing as many acknowledged 400-byte
#     messages with message ids in the same run;
#  4. the client comparison (`run.sh`, our client vs the C client, acknowledged and core publishes);
#  5. `suite_table.py` writes the table between the markers in BENCHMARKS.md.
set -euo pipefail

quick=0; write=1; keep=0; latency_only=0
for argument in "$@"; do
    case "$argument" in
        --quick) quick=1 ;;
        --latency-only) latency_only=1; write=0 ;;
        --no-write) write=0 ;;
        --keep) keep=1 ;;
        *) echo "unknown argument $argument" >&2; exit 2 ;;
    esac
done
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
. "$here/lib.sh"
started="$(date +%s)"

if [ "$quick" = 1 ]; then
    rounds=1; warmup=5; idle=15; load=20
    latency_runs="1000:10 10000:1 10000:10 10000:100"
    storm_agents="20000"; storm_rounds=1; storm_paths=context; c_pending="4000"
    client_args=(1 20000 256); client_modes="js"
else
    rounds=2; warmup=10; idle=30; load=45
    latency_runs="1000:10 10000:1 10000:10 10000:100 100000:10"
    storm_agents="20000 100000"; storm_rounds=3; storm_paths=both; c_pending="4000 256"
    client_args=(3 50000 "256 1024"); client_modes="js js-batch"
fi
latency_runs="${SUITE_LATENCY_RUNS:-$latency_runs}"
rounds="${SUITE_ROUNDS:-$rounds}"

if [ -z "${SUITE_NO_BUILD:-}" ]; then
    echo "== building (release)" >&2
    (cd "$here" && swift build -c release 2>&1 | tail -3 >&2)
    # The gateway too, from the same release build of the Benchmarks package (one build instead of two).
    (cd "$here" && swift build -c release --product wazuh-nats-gateway 2>&1 | tail -1 >&2)
fi
bin="$(cd "$here" && swift build -c release --show-bin-path)"
gateway="$bin/wazuh-nats-gateway"
gateways="${SUITE_GATEWAYS:-$gateway}"
mkdir -p "$here/bin"
cc -O2 -Wall -Wextra -o "$here/bin/js_bench" "$here/c/js_bench.c" $(pkg-config --cflags --libs libnats)
built="$(date +%s)"

nats_server="$(bench_nats_server)"
bench_workdir /tmp/bench-suite.XXXXXX
results="$work/results.jsonl"
: > "$results"

# The machine, recorded before anything runs.
python3 - "$results" "$nats_server" "$root" "$quick" <<'PY'
import json, os, platform, subprocess, sys
results, server, root, quick = sys.argv[1:5]
def run(*command):
    try:
        return subprocess.run(command, capture_output=True, text=True, cwd=root).stdout.strip()
    except OSError:
        return "?"
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
memory = next((int(l.split()[1]) // 1024 for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
swift = run("swift", "--version").splitlines()
row = {"kind": "machine", "cpu": cpu, "cores": os.cpu_count(), "memory_mib": memory, "kernel": platform.release(),
       "swift": swift[0] if swift else "?", "nats_server": run(server, "--version"),
       "commit": run("git", "rev-parse", "--short", "HEAD") + (" (modified)" if run("git", "status", "--porcelain", "-uno") else ""),
       "loadavg_start": open("/proc/loadavg").read().split()[:3], "quick": quick == "1"}
open(results, "a").write(json.dumps(row) + "\n")
PY

echo "== latency and resources" >&2
port="$(free_port)"
bench_start_nats "$nats_server" "$port" "max_payload: 1048576"
mkdir -p -m 700 "$work/keys"
"$gateway" keygen --out "$work/keys/signing.key" > /dev/null 2>&1

run_number=0
for round in $(seq "$rounds"); do
    for configuration in $latency_runs; do
      for gateway_under_test in $gateways; do
        agents="${configuration%%:*}"; rate="${configuration##*:}"
        run_number=$((run_number + 1))
        run="$work/run$run_number"; mkdir -p "$run/state"
        prefix="e2e$run_number"; stream="E2E$run_number"
        run_warmup=$warmup; [ "$agents" -ge 100000 ] && run_warmup=$((warmup + 15))
        run_idle=$idle; [ "$agents" -ge 100000 ] || [ "$rate" != 10 ] && run_idle=0
        echo "-- round $round: $agents agents, $rate changes/s ($gateway_under_test)" >&2
        "$bin/e2e-load" --db "$run/global.db" --agents "$agents" --truth "$run/truth.jsonl" \
            --start-file "$run/gateway.pid" --warmup-seconds "$run_warmup" --idle-seconds "$run_idle" \
            --seconds "$load" --rate "$rate" --seed "$run_number" > "$run/load.out" 2> "$run/load.err" &
        load_pid=$!
        pids+=($load_pid)
        wait_for 300 "the simulated fleet" grep -qs '^ready' "$run/load.out"
        cat > "$run/gateway.yaml" <<CONF
wazuh:
  db_path: "$run/global.db"
  poll_interval: "5s"
  manager_node: "bench-manager"
$(bench_gateway_config_tail "$port" "$work/keys/signing.key" "$run/state/outbox.db" "$prefix" "$stream")
CONF
        python3 "$here/wazuhdb/freshness.py" subscribe --port "$port" --out "$run/received.jsonl" \
            --prefixes "$prefix" --stream "$stream" > "$run/subscriber.out" 2>&1 &
        subscriber=$!
        pids+=($subscriber)
        "$gateway_under_test" run --config "$run/gateway.yaml" 2> "$run/gateway.log" > /dev/null &
        gateway_pid=$!
        pids+=($gateway_pid)
        wait_for 120 "the gateway's metrics endpoint" grep -q '"http.port"' "$run/gateway.log"
        wait_for 120 "the subscriber" grep -q '^subscribed' "$run/subscriber.out"
        echo "$gateway_pid" > "$run/gateway.pid"
        wait "$load_pid"
        # The last commit's events: give the gateway a moment past the end of the measured window.
        sleep 3
        kill -TERM "$gateway_pid"; wait "$gateway_pid" || true
        kill -TERM "$subscriber"; wait "$subscriber" 2>/dev/null || true
        outbox_bytes="$(du -sb "$run/state" | cut -f1)"
        python3 - "$run" "$round" "$outbox_bytes" "$here/wazuhdb/freshness.py" "$prefix" "$gateway_under_test" "$gateway" \
            >> "$results" <<'PY'
import json, subprocess, sys
run, round_, outbox_bytes, freshness, prefix, under_test, default = sys.argv[1:8]
load = json.loads(open(f"{run}/load.out").read().splitlines()[-1])
window = load["load"]
latency = subprocess.run(
    [sys.executable, freshness, "report", "--truth", f"{run}/truth.jsonl", "--received", f"{run}/received.jsonl",
     "--since-ms", str(window["start_ms"]), "--until-ms", str(window["end_ms"]), "--prefixes", prefix,
     "--time-field", "committed_at_ms", "--json"], capture_output=True, text=True, check=True).stdout
row = {"kind": "e2e", "round": int(round_), "outbox_bytes": int(outbox_bytes), **load,
       "latency": json.loads(latency), "loadavg": open("/proc/loadavg").read().split()[:3]}
if under_test != default:
    row["gateway"] = under_test
print(json.dumps(row))
PY
        tail -1 "$results" >&2
        rm -rf "$run/global.db" "$run/state"
      done
    done
done
kill "$nats_pid" 2>/dev/null || true
if [ "$latency_only" = 1 ]; then
    cp "$results" "$here/last-latency-results.jsonl"
    python3 "$here/suite_table.py" "$results" || true
    exit 0
fi

echo "== storms" >&2
for agents in $storm_agents; do
    paths_env=""; [ "$storm_paths" = context ] && paths_env=context
    agent_rounds=$storm_rounds
    if [ "$agents" -ge 100000 ]; then paths_env=context; agent_rounds=$(( storm_rounds < 2 ? storm_rounds : 2 )); fi
    DELIVERY_PATHS="$paths_env" C_PENDING="$c_pending" BENCH_JSON="$results" \
        "$bin/delivery-benchmark" "$agents" "$agent_rounds" same "$here/bin/js_bench" | tee "$work/storm-$agents.txt" >&2
done

echo "== client comparison (run.sh)" >&2
MODES="$client_modes" "$here/run.sh" "${client_args[@]}" 2>"$work/clients.err" | tee "$work/clients.txt" >&2
python3 - "$work/clients.txt" >> "$results" <<'PY'
import json, re, sys
rows = []
for line in open(sys.argv[1]):
    match = re.match(r"^(.+?)\s{2,}(\d+)\s+(\S+)\s*$", line.rstrip())
    if match and not line.startswith("configuration"):
        rows.append({"configuration": match.group(1).strip(), "rate": int(match.group(2)), "ratio": match.group(3)})
print(json.dumps({"kind": "clients", "rows": rows}))
PY

python3 - "$results" "$started" "$built" <<'PY' >> "$results"
import json, sys, time
print(json.dumps({"kind": "end", "loadavg_end": open("/proc/loadavg").read().split()[:3],
                  "minutes_total": (time.time() - int(sys.argv[2])) / 60,
                  "minutes_after_build": (time.time() - int(sys.argv[3])) / 60}))
PY
cp "$results" "$here/last-results.jsonl"
if [ "$write" = 1 ]; then
    python3 "$here/suite_table.py" "$results" --write "$root/BENCHMARKS.md"
else
    python3 "$here/suite_table.py" "$results"
fi
