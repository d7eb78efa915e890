#!/usr/bin/env python3
"""A consumer of wazuh-nats-gateway events in a second language.

Subscribes to the gateway's subjects, and for every message: decrypts (AES-256-GCM, the subject as
additional authenticated data) when `Wazuh-Encryption: aes-256-gcm` is set, decompresses (one LZ4
frame) when `Content-Encoding: lz4` is set, then verifies the HMAC-SHA256 signature over the
canonical JSON of the object without its `signature` member — for a batch also each event's own.

    pip install nats-py lz4 cryptography
    python3 examples/verify_consumer.py --url nats://127.0.0.1:4222 \
        --signing-key /etc/wazuh-nats-gateway/signing.key \
        [--encryption-key /etc/wazuh-nats-gateway/encryption.key] [--prefix wazuh] [--count N]

Prints one JSON line per message with "verified": true/false; exits 1 if any failed verification.
"""
import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import sys


def read_key(path):
    with open(path, "rb") as f:
        return base64.b64decode(f.read().strip(), validate=True)


def canonical(obj):
    # RFC 8785 for the value types the gateway emits (strings, integers, booleans, null).
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def verify(obj, key):
    if not isinstance(obj, dict) or "signature" not in obj:
        return False
    body = {k: v for k, v in obj.items() if k != "signature"}
    expected = base64.b64encode(hmac.new(key, canonical(body), hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(expected, obj["signature"] or ""):
        return False
    for event in obj.get("events", []) or []:
        if not verify(event, key):
            return False
    return True


def open_payload(subject, headers, data, enc_key):
    headers = headers or {}
    if headers.get("Wazuh-Encryption") == "aes-256-gcm":
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if enc_key is None:
            raise ValueError("message is encrypted and no --encryption-key was given")
        data = AESGCM(enc_key).decrypt(data[:12], data[12:], subject.encode("utf-8"))
    if headers.get("Content-Encoding") == "lz4":
        import lz4.frame

        data = lz4.frame.decompress(data)
    return json.loads(data)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="nats://127.0.0.1:4222")
    ap.add_argument("--prefix", default="wazuh")
    ap.add_argument("--signing-key", required=True)
    ap.add_argument("--encryption-key")
    ap.add_argument("--count", type=int, default=0, help="stop after N messages (0 = run until interrupted)")
    ap.add_argument("--timeout", type=float, default=0, help="give up after this many seconds (0 = never)")
    args = ap.parse_args()

    import nats

    sign_key = read_key(args.signing_key)
    enc_key = read_key(args.encryption_key) if args.encryption_key else None
    nc = await nats.connect(args.url)
    done = asyncio.Event()
    seen = 0
    failed = 0

    async def on_message(msg):
        nonlocal seen, failed
        try:
            obj = open_payload(msg.subject, msg.headers, msg.data, enc_key)
            ok = verify(obj, sign_key)
        except Exception as error:  # a hostile or broken message is reported, never fatal
            obj, ok = {"error": str(error)}, False
        seen += 1
        failed += 0 if ok else 1
        print(json.dumps({"subject": msg.subject, "verified": ok, "message": obj}, ensure_ascii=False), flush=True)
        if args.count and seen >= args.count:
            done.set()

    await nc.subscribe(args.prefix + ".>", cb=on_message)
    try:
        if args.timeout:
            await asyncio.wait_for(done.wait(), args.timeout)
        else:
            await done.wait()
    except asyncio.TimeoutError:
        pass
    await nc.drain()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    asyncio.run(main())
