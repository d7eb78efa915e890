#!/usr/bin/env python3
"""Security signals from wazuh-nats-gateway (wire contract 1.1): anomaly alerts and audit-head watch.

Subscribes to `{prefix}.security.anomaly` and `{prefix}.manager.*.heartbeat`, opens and verifies each
message exactly as verify_consumer.py does, and
- prints one line per anomaly (`mass_disconnection`, `agent_stopped`, `flapping`, `reregistration`,
  `fleet_silent`) with its explanation; an anomaly id seen twice is printed once;
- remembers each gateway's `audit_head` from its heartbeats and warns when a head goes backwards or the
  same sequence comes with another hash: the gateway's audit history was rewritten (check it with
  `wazuh-nats-gateway audit export` against the heads printed here).

    pip install nats-py lz4 cryptography
    python3 examples/anomaly_alerts.py --signing-key /etc/wazuh-nats-gateway/signing.key \
        [--encryption-key FILE] [--url nats://127.0.0.1:4222] [--prefix wazuh]
"""
import argparse
import asyncio
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from verify_consumer import open_payload, read_key, verify  # noqa: E402


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="nats://127.0.0.1:4222")
    ap.add_argument("--prefix", default="wazuh")
    ap.add_argument("--signing-key", required=True)
    ap.add_argument("--encryption-key")
    args = ap.parse_args()

    import nats

    sign_key = read_key(args.signing_key)
    enc_key = read_key(args.encryption_key) if args.encryption_key else None
    nc = await nats.connect(args.url)
    seen_ids = set()
    heads = {}  # manager_node -> {sequence: hash}

    async def on_message(msg):
        try:
            obj = open_payload(msg.subject, msg.headers, msg.data, enc_key)
        except Exception as error:  # a hostile or broken message is reported, never fatal
            print(f"!! {msg.subject}: cannot open: {error}", flush=True)
            return
        if not verify(obj, sign_key):
            print(f"!! {msg.subject}: signature does not verify; ignored", flush=True)
            return
        if obj.get("event_type") == "anomaly":
            if obj["event_id"] in seen_ids:
                return
            seen_ids.add(obj["event_id"])
            who = f"agent {obj['agent_id']} {obj['agent_name']!r}" if obj.get("agent_id") else "fleet"
            print(f"[{obj['severity'].upper()}] {obj['anomaly_type']} on {obj['manager_node']} "
                  f"({obj.get('node_name') or '-'}), {who}: {obj['explanation']}", flush=True)
            return
        head = obj.get("audit_head")
        if head:
            node = obj["manager_node"]
            known = heads.setdefault(node, {})
            latest = max(known) if known else 0
            if head["sequence"] < latest:
                print(f"!! {node}: audit head went back from {latest} to {head['sequence']}", flush=True)
            elif known.get(head["sequence"], head["hash"]) != head["hash"]:
                print(f"!! {node}: audit record {head['sequence']} changed hash", flush=True)
            known[head["sequence"]] = head["hash"]
            print(json.dumps({"manager_node": node, "audit_head": head}), flush=True)

    await nc.subscribe(args.prefix + ".security.anomaly", cb=on_message)
    await nc.subscribe(args.prefix + ".manager.*.heartbeat", cb=on_message)
    try:
        await asyncio.Event().wait()
    finally:
        await nc.drain()


if __name__ == "__main__":
    asyncio.run(main())
