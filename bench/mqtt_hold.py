#!/usr/bin/env python3
"""Holds N MQTT 3.1.1 device connections open from one process (bench/run, figure 3).

Why not the simulator: its Paho clients cost four threads each (receiver, sender, callback, ping
timer); 10,000 devices would need 40,000 threads, above this machine's kernel.pid_max (32768),
and would starve every other process of pids. This is one asyncio thread with a socket per device.

Each device: CONNECT (client id = username = device id, password = secret, clean session,
keepalive 60 s), waits for CONNACK, publishes one QoS 1 telemetry reading and waits for its
PUBACK, then sends PINGREQ every 30 s until the hold ends. Connects at most --concurrency at a
time, stops trying after --connect-budget-s, prints "READY connected=N acked=M failed=F" once,
holds for --hold-s seconds (or until stdin closes when --hold-s is 0... never: always bounded),
then disconnects everything and exits. Loopback only.

    mqtt_hold.py --port 1883 --ids-from site.yaml --prefix bench- --count 10000
"""
import argparse
import asyncio
import json
import re
import struct
import sys
import time


def enc_str(s):
    b = s.encode()
    return struct.pack("!H", len(b)) + b


def remaining_length(n):
    out = bytearray()
    while True:
        d = n % 128
        n //= 128
        if n:
            d |= 0x80
        out.append(d)
        if not n:
            return bytes(out)


def packet(first, body):
    return bytes([first]) + remaining_length(len(body)) + body


def connect_packet(client_id, user, password, keepalive):
    var = enc_str("MQTT") + bytes([4, 0xC2]) + struct.pack("!H", keepalive)
    return packet(0x10, var + enc_str(client_id) + enc_str(user) + enc_str(password))


def publish_qos1(topic, pid, payload):
    return packet(0x32, enc_str(topic) + struct.pack("!H", pid) + payload)


async def read_packet(reader):
    first = (await reader.readexactly(1))[0]
    mult, n = 1, 0
    while True:
        d = (await reader.readexactly(1))[0]
        n += (d & 0x7F) * mult
        if not d & 0x80:
            break
        mult *= 128
    body = await reader.readexactly(n) if n else b""
    return first, body


class Stats:
    connected = 0
    acked = 0
    failed = 0
    reasons = {}


async def device(host, port, dev_id, secret, stats, sem, stop, connect_deadline):
    writer = None
    is_connected = False
    try:
        async with sem:
            if time.monotonic() > connect_deadline:
                raise TimeoutError("connect budget spent")
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 30)
            writer.write(connect_packet(dev_id, dev_id, secret, 60))
            await writer.drain()
            first, body = await asyncio.wait_for(read_packet(reader), 60)
            if first >> 4 != 2 or len(body) < 2 or body[1] != 0:
                raise ConnectionError("CONNACK refused: %r" % body)
            stats.connected += 1
            is_connected = True
            ts = int(time.time() * 1000)
            payload = json.dumps({"ts": ts, "seq": 1, "values": {"gas_lel": 1.5}}).encode()
            writer.write(publish_qos1("devices/%s/telemetry" % dev_id, 1, payload))
            await writer.drain()
            first, body = await asyncio.wait_for(read_packet(reader), 60)
            if first >> 4 == 4:
                stats.acked += 1
        # hold: PINGREQ every 30 s, read PINGRESPs, until stop
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), 30)
            except asyncio.TimeoutError:
                writer.write(b"\xc0\x00")
                await writer.drain()
                await asyncio.wait_for(read_packet(reader), 30)
    except Exception as e:  # noqa: BLE001 - counted and reported
        stats.failed += 1
        key = type(e).__name__ + (": " + str(e)[:60] if str(e) else "")
        stats.reasons[key] = stats.reasons.get(key, 0) + 1
        if is_connected:
            stats.connected -= 1
    finally:
        if writer is not None:
            try:
                writer.write(b"\xe0\x00")  # DISCONNECT
                writer.close()
            except Exception:  # noqa: BLE001
                pass


def device_ids(path, prefix, count, dev_type):
    ids = []
    pat = re.compile(r"\{id: (" + re.escape(prefix) + r"[a-z0-9-]+),.*secret: ([^,}]+)")
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = pat.search(line)
            if m and (dev_type is None or "type: %s," % dev_type in line):
                ids.append((m.group(1), m.group(2).strip()))
                if len(ids) == count:
                    break
    return ids


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ids-from", required=True, help="site YAML with one device per line")
    ap.add_argument("--prefix", default="bench-", help="device ids starting with this ('' = any)")
    ap.add_argument("--type", default=None, help="only devices of this type, e.g. gas_alarm")
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--connect-budget-s", type=float, default=240)
    ap.add_argument("--hold-s", type=float, default=60)
    a = ap.parse_args()
    ids = device_ids(a.ids_from, a.prefix, a.count, a.type)
    if len(ids) < a.count:
        print("only %d devices with prefix %s in %s" % (len(ids), a.prefix, a.ids_from), flush=True)
    stats, sem, stop = Stats(), asyncio.Semaphore(a.concurrency), asyncio.Event()
    t0 = time.monotonic()
    deadline = t0 + a.connect_budget_s
    tasks = [asyncio.create_task(device(a.host, a.port, i, s, stats, sem, stop, deadline)) for i, s in ids]
    last = -1
    while time.monotonic() < deadline + 60:
        await asyncio.sleep(5)
        done = stats.connected + stats.failed
        print("[%5.0fs] connected %d failed %d acked %d" % (time.monotonic() - t0, stats.connected,
              stats.failed, stats.acked), flush=True)
        if done >= len(ids) or (done == last and time.monotonic() > deadline):
            break
        last = done
    print("READY connected=%d acked=%d failed=%d connect_s=%.1f reasons=%s" % (
        stats.connected, stats.acked, stats.failed, time.monotonic() - t0, json.dumps(stats.reasons)), flush=True)
    await asyncio.sleep(a.hold_s)
    print("STILL connected=%d failed=%d" % (stats.connected, stats.failed), flush=True)
    stop.set()
    await asyncio.wait(tasks, timeout=30)


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
