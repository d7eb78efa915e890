#!/usr/bin/env python3
"""Freshness of agent status: time from the simulator writing a status (in its open transaction,
as wazuh-db does) to a NATS subscriber receiving the gateway's event, for two gateways watching the
same simulated manager in the same run: one reading wazuh-db's socket, one reading global.db.

  freshness.py subscribe --port P --out FILE      # records every event (until SIGTERM)
  freshness.py report --truth FILE --received FILE --since-ms T --until-ms T [--record FILE]
  freshness.py medians --record FILE              # medians over the rounds recorded in FILE

The end-to-end suite (`Benchmarks/suite.sh`) uses the same two steps for one gateway:
`subscribe --prefixes bench --stream BENCH` receives from the stream (an ordered push consumer from
new messages: each event once it is stored), and `report --prefixes bench --time-field committed_at_ms
--json` measures from the simulator's COMMIT and prints one JSON object.

The subscriber runs on the same host as the simulator, so both clocks are the same clock.
Matching: each committed status change of the ground-truth log (agent, new status, written_at_ms)
is paired with the first event of each gateway for that agent entering that status, received at
or after the write and not paired before.
"""
import argparse, asyncio, json, signal, sys, time


async def subscribe(port, out, prefixes, stream):
    import nats
    connection = await nats.connect(f"nats://127.0.0.1:{port}")
    sink = open(out, "w", buffering=1)

    async def handler(message):
        received = time.time() * 1000
        prefix = message.subject.split(".", 1)[0]
        try:
            event = json.loads(message.data)
        except ValueError:
            return
        sink.write(json.dumps({"gateway": prefix, "agent_id": event.get("agent_id"),
                               "current": event.get("current_status"), "type": event.get("event_type"),
                               "received_ms": received}) + "\n")

    if stream:
        from nats.js.api import DeliverPolicy
        jetstream = connection.jetstream()
        for _ in range(600):  # the gateway creates the stream when it starts
            try:
                await jetstream.stream_info(stream)
                break
            except Exception:
                await asyncio.sleep(0.1)
        for prefix in prefixes:
            await jetstream.subscribe(f"{prefix}.agent.*.status", stream=stream, cb=handler, ordered_consumer=True,
                                      deliver_policy=DeliverPolicy.NEW)
    else:
        for prefix in prefixes:
            await connection.subscribe(f"{prefix}.agent.*.status", cb=handler)
    print("subscribed", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    await stop.wait()
    await connection.drain()
    sink.close()


def quantile(values, fraction):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round((len(ordered) - 1) * fraction)))]


def report(truth_path, received_path, since_ms, until_ms, prefixes=("sock", "file"), field="written_at_ms",
           as_json=False, record=None, label=None):
    truth = []
    with open(truth_path) as handle:
        for line in handle:
            if not line.endswith("\n"):
                continue
            row = json.loads(line)
            if row["kind"] != "status_change" or field not in row:
                continue
            if since_ms <= row[field] <= until_ms:
                truth.append(row)
    events = {}
    with open(received_path) as handle:
        for line in handle:
            if line.endswith("\n"):
                row = json.loads(line)
                events.setdefault((row["gateway"], int(row["agent_id"])), []).append(row)
    result = {}
    for gateway in prefixes:
        latencies, missing = [], 0
        used = {}
        for row in sorted(truth, key=lambda r: r[field]):
            key = (gateway, row["agent_id"])
            candidates = events.get(key, [])
            taken = used.setdefault(key, set())
            match = next((i for i, event in enumerate(candidates)
                          if i not in taken and event["current"] == row["current"]
                          and event["received_ms"] >= row[field] - 1), None)
            if match is None:
                missing += 1
                continue
            taken.add(match)
            latencies.append(candidates[match]["received_ms"] - row[field])
        result[gateway] = latencies, missing
    if as_json:
        latencies, missing = result[prefixes[0]]
        print(json.dumps({"changes": len(truth), "matched": len(latencies), "missing": missing,
                          "p50_ms": quantile(latencies, .5), "p90_ms": quantile(latencies, .9),
                          "p99_ms": quantile(latencies, .99), "max_ms": max(latencies) if latencies else None}))
        return
    if record:
        row = {"label": label, "changes": len(truth)}
        for gateway in prefixes:
            latencies, missing = result[gateway]
            row[gateway] = {"matched": len(latencies), "missing": missing, "p50_ms": quantile(latencies, .5),
                            "p90_ms": quantile(latencies, .9), "p99_ms": quantile(latencies, .99),
                            "max_ms": max(latencies) if latencies else None}
        with open(record, "a") as handle:
            handle.write(json.dumps(row) + "\n")
    print(f"status changes written in the window: {len(truth)}")
    print("| source | events matched | missing | p50 ms | p90 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for gateway, label in (("sock", "wazuh-db socket"), ("file", "global.db file")):
        latencies, missing = result[gateway]
        print(f"| {label} | {len(latencies)} | {missing} | {quantile(latencies, .5):.0f} | "
              f"{quantile(latencies, .9):.0f} | {quantile(latencies, .99):.0f} | "
              f"{max(latencies) if latencies else float('nan'):.0f} |")


def medians(record):
    """One line per configuration (label): the median over its rounds of each figure, and the range."""
    rounds = {}
    with open(record) as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                rounds.setdefault(row["label"], []).append(row)
    print("| configuration | rounds | changes | source | p50 ms | p99 ms | max ms | missing | p99 range ms |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---|")
    for label, rows in rounds.items():
        changes = quantile([row["changes"] for row in rows], .5)
        for gateway, name in (("sock", "socket"), ("file", "file")):
            figures = [row[gateway] for row in rows if gateway in row]
            if not figures:
                continue
            median = lambda key: quantile([f[key] for f in figures if f[key] is not None], .5)
            p99s = sorted(f["p99_ms"] for f in figures)
            print(f"| {label} | {len(figures)} | {changes} | {name} | {median('p50_ms'):.0f} | "
                  f"{median('p99_ms'):.0f} | {median('max_ms'):.0f} | {sum(f['missing'] for f in figures)} | "
                  f"{p99s[0]:.0f}–{p99s[-1]:.0f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["subscribe", "report", "medians"])
    parser.add_argument("--port", type=int)
    parser.add_argument("--out")
    parser.add_argument("--truth")
    parser.add_argument("--received")
    parser.add_argument("--since-ms", type=int, default=0)
    parser.add_argument("--until-ms", type=int, default=2**62)
    parser.add_argument("--prefixes", default="sock file", help="subject prefixes, one per gateway")
    parser.add_argument("--stream", help="receive from this stream (ordered consumer) instead of core subjects")
    parser.add_argument("--time-field", default="written_at_ms", help="ground-truth time: written_at_ms or committed_at_ms")
    parser.add_argument("--json", action="store_true", help="report the first prefix as one JSON object")
    parser.add_argument("--record", help="append this round's figures (every prefix) as a JSON line to FILE")
    parser.add_argument("--label", help="the configuration the recorded round belongs to")
    arguments = parser.parse_args()
    prefixes = tuple(arguments.prefixes.split())
    if arguments.mode == "subscribe":
        asyncio.run(subscribe(arguments.port, arguments.out, prefixes, arguments.stream))
    elif arguments.mode == "medians":
        medians(arguments.record)
    else:
        report(arguments.truth, arguments.received, arguments.since_ms, arguments.until_ms, prefixes,
               arguments.time_field, arguments.json, arguments.record, arguments.label)
