#!/usr/bin/env python3
"""Freshness of agent status: time from the simulator writing a status (in its open transaction,
as wazuh-db does) to a NATS subscriber receiving the gateway's event, for two gateways watching the
same simulated manager in the same run: one reading wazuh-db's socket, one reading global.db.

  freshness.py subscribe --port P --out FILE      # records every event (until SIGTERM)
  freshness.py report --truth FILE --received FILE --since-ms T --until-ms T

The subscriber runs on the same host as the simulator, so both clocks are the same clock.
Matching: each committed status change of the ground-truth log (agent, new status, written_at_ms)
is paired with the first event of each gateway for that agent entering that status, received at
or after the write and not paired before.
"""
import argparse, asyncio, json, signal, sys, time


async def subscribe(port, out):
    import nats
    connection = await nats.connect(f"nats://127.0.0.1:{port}")
    sink = open(out, "w", buffering=1)

    async def handler(message):
        received = int(time.time() * 1000)
        prefix = message.subject.split(".", 1)[0]
        try:
            event = json.loads(message.data)
        except ValueError:
            return
        sink.write(json.dumps({"gateway": prefix, "agent_id": event.get("agent_id"),
                               "current": event.get("current_status"), "type": event.get("event_type"),
                               "received_ms": received}) + "\n")

    for prefix in ("sock", "file"):
        await connection.subscribe(f"{prefix}.agent.*.status", cb=handler)
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


def report(truth_path, received_path, since_ms, until_ms):
    truth = []
    with open(truth_path) as handle:
        for line in handle:
            if not line.endswith("\n"):
                continue
            row = json.loads(line)
            if row["kind"] != "status_change" or "written_at_ms" not in row:
                continue
            if since_ms <= row["written_at_ms"] <= until_ms:
                truth.append(row)
    events = {}
    with open(received_path) as handle:
        for line in handle:
            if line.endswith("\n"):
                row = json.loads(line)
                events.setdefault((row["gateway"], int(row["agent_id"])), []).append(row)
    result = {}
    for gateway in ("sock", "file"):
        latencies, missing = [], 0
        used = {}
        for row in sorted(truth, key=lambda r: r["written_at_ms"]):
            key = (gateway, row["agent_id"])
            candidates = events.get(key, [])
            taken = used.setdefault(key, set())
            match = next((i for i, event in enumerate(candidates)
                          if i not in taken and event["current"] == row["current"]
                          and event["received_ms"] >= row["written_at_ms"] - 1), None)
            if match is None:
                missing += 1
                continue
            taken.add(match)
            latencies.append(candidates[match]["received_ms"] - row["written_at_ms"])
        result[gateway] = latencies, missing
    print(f"status changes written in the window: {len(truth)}")
    print("| source | events matched | missing | p50 ms | p90 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for gateway, label in (("sock", "wazuh-db socket"), ("file", "global.db file")):
        latencies, missing = result[gateway]
        print(f"| {label} | {len(latencies)} | {missing} | {quantile(latencies, .5):.0f} | "
              f"{quantile(latencies, .9):.0f} | {quantile(latencies, .99):.0f} | "
              f"{max(latencies) if latencies else float('nan'):.0f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["subscribe", "report"])
    parser.add_argument("--port", type=int)
    parser.add_argument("--out")
    parser.add_argument("--truth")
    parser.add_argument("--received")
    parser.add_argument("--since-ms", type=int, default=0)
    parser.add_argument("--until-ms", type=int, default=2**62)
    arguments = parser.parse_args()
    if arguments.mode == "subscribe":
        asyncio.run(subscribe(arguments.port, arguments.out))
    else:
        report(arguments.truth, arguments.received, arguments.since_ms, arguments.until_ms)
