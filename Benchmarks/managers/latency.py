#!/usr/bin/env python3
"""Detection latency per manager, measured outside the gateway (Benchmarks/managers/measure.sh).

listen URL OUT: subscribes (core NATS, nats-py) to `wazuh.agent.*.status` and writes one JSON line
per message: arrival wall clock (ms) and the Nats-Msg-Id header (the event id,
`evt_{agent}_{db_time}_{hash}@{manager}`), until SIGINT.

match RECEIVED WORK NAME...: joins the arrivals with each manager's ground-truth log
(WORK/NAME/truth.jsonl, written by `simulate --ground-truth` after each COMMIT) on (manager, agent,
database time), and prints per manager the latency from the simulator's COMMIT to the arrival
(and, where the simulator recorded it, from the write into the open transaction, which the socket
and the API can show before the commit), over the transitions committed after the first third of
the run (the baseline and start-up excluded).
"""
import asyncio
import json
import signal
import sys
import time


async def listen(url, out_path):
    import nats

    out = open(out_path, "w", buffering=1)
    connection = await nats.connect(url)

    async def received(message):
        now = time.time_ns() // 1_000_000
        headers = message.headers or {}
        out.write(json.dumps({"at": now, "id": headers.get("Nats-Msg-Id", "")}) + "\n")

    await connection.subscribe("wazuh.agent.*.status", cb=received)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop.set)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await connection.drain()
    out.close()


def percentile(values, q):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round((len(ordered) - 1) * q)))]


def match(received_path, work, names):
    arrivals = {}
    for line in open(received_path):
        record = json.loads(line)
        identifier = record["id"]
        if "@" not in identifier or not identifier.startswith("evt_"):
            continue
        body, manager = identifier.rsplit("@", 1)
        parts = body.split("_")
        key = (manager, int(parts[1]), int(parts[2]))
        arrivals.setdefault(key, record["at"])
    for name in names:
        truth = [json.loads(line) for line in open(f"{work}/{name}/truth.jsonl")]
        changes = [t for t in truth if t["kind"] == "status_change"]
        if not changes:
            print(f"{name}: no committed status changes")
            continue
        first, last = changes[0]["committed_at_ms"], changes[-1]["committed_at_ms"]
        considered = [t for t in changes if t["committed_at_ms"] >= first + (last - first) / 3]
        from_commit, from_write, missing = [], [], 0
        for t in considered:
            at = arrivals.get((name, t["agent_id"], t["db_time"]))
            if at is None:
                missing += 1
                continue
            from_commit.append(at - t["committed_at_ms"])
            if t.get("written_at_ms"):
                from_write.append(at - t["written_at_ms"])
        line = (f"{name}: {len(from_commit)} of {len(considered)} committed status changes matched; "
                f"commit → received p50 {percentile(from_commit, 0.5):.0f} ms, p95 {percentile(from_commit, 0.95):.0f} ms, "
                f"max {max(from_commit, default=float('nan')):.0f} ms")
        if from_write:
            line += (f"; write → received p50 {percentile(from_write, 0.5):.0f} ms, "
                     f"p95 {percentile(from_write, 0.95):.0f} ms")
        print(line)


if __name__ == "__main__":
    if sys.argv[1] == "listen":
        asyncio.run(listen(sys.argv[2], sys.argv[3]))
    elif sys.argv[1] == "match":
        match(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        sys.exit("usage: latency.py listen URL OUT | match RECEIVED WORK NAME...")
