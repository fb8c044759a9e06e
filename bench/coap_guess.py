#!/usr/bin/env python3
"""Plain CoAP secret guessing (newcomer7 F8's /tmp/nc7run/coapguess.py, with the port given).

One raw UDP CON POST /devices/DEVICE/telemetry after the other, the secret in option 65003:
guess0, guess1, ..., the last one the device's demo secret (demo-DEVICE). Prints how long the N
requests took and the response codes (2.04 stored, 4.01 refused, 5.03 busy).

  coap_guess.py PORT N [DEVICE]        (DEVICE default gas-045)
"""
import socket, struct, sys, time

def opt(delta, val):
    def nib(x):
        if x < 13: return x, b''
        if x < 269: return 13, bytes([x - 13])
        return 14, struct.pack('>H', x - 269)
    d, de = nib(delta); l, le = nib(len(val))
    return bytes([(d << 4) | l]) + de + le + val

def req(mid, dev, secret, body):
    h = bytes([0x40, 0x02]) + struct.pack('>H', mid)  # CON, token length 0, POST
    o = opt(11, b'devices') + opt(0, dev.encode()) + opt(0, b'telemetry') + opt(1, b'')  # Uri-Path, Content-Format 0
    o += opt(65003 - 12, secret.encode())
    return h + o + b'\xff' + body

port, n = int(sys.argv[1]), int(sys.argv[2])
dev = sys.argv[3] if len(sys.argv) > 3 else 'gas-045'
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(10)
t0 = time.time(); codes = {}
for i in range(n):
    sec = 'demo-' + dev if i == n - 1 else 'guess%d' % i
    s.sendto(req(i + 1, dev, sec, b'{"values":{"gas_lel":1.0}}'), ('127.0.0.1', port))
    while True:
        d, _ = s.recvfrom(2000)
        if len(d) >= 2 and d[1] != 0: break  # skip an empty ACK
    c = '%d.%02d' % (d[1] >> 5, d[1] & 31); codes[c] = codes.get(c, 0) + 1
print(n, 'requests in %.2f s' % (time.time() - t0), codes)
