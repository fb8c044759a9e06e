#!/usr/bin/env python3
"""CONNECT flood (newcomer7 F7's /tmp/nc7run/flood.py, with the port and the answers counted).

N threads, each in a loop until SECONDS have passed: TCP connect, MQTT 3.1.1 CONNECT as gas-0xx
(thread i: gas-(i % 99 + 1)) with password 'wrong', read the CONNACK (5 s timeout), close.
Prints the CONNACK return codes received (0 accepted, 3 server unavailable, 4 bad user name or
password) and the errors (timeouts, resets).

  connect_flood.py PORT N SECONDS
"""
import socket, struct, sys, threading, time

def s(x):
    x = x.encode()
    return struct.pack('>H', len(x)) + x

def pkt(t, body):
    n, out = len(body), b''
    while True:
        b, n = n % 128, n // 128
        out += bytes([b | (128 if n else 0)])
        if not n:
            return bytes([t]) + out + body

port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
stop = time.time() + secs
codes, lock = {}, threading.Lock()

def count(k):
    with lock:
        codes[k] = codes.get(k, 0) + 1

def bad(i):
    while time.time() < stop:
        try:
            c = socket.create_connection(('127.0.0.1', port))
            c.settimeout(5)
            vh = s('MQTT') + bytes([4, 0xC2]) + struct.pack('>H', 60)
            c.sendall(pkt(0x10, vh + s('flood%d' % i) + s('gas-0%02d' % (i % 99 + 1)) + s('wrong')))
            r = c.recv(10)
            count(r[3] if len(r) >= 4 else 'short')
            c.close()
        except Exception as e:
            count(type(e).__name__)

ts = [threading.Thread(target=bad, args=(i,), daemon=True) for i in range(n)]
[t.start() for t in ts]
[t.join() for t in ts]
print('flood answers (CONNACK code or error -> count):', dict(sorted(codes.items(), key=str)))
