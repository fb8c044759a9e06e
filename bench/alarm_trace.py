#!/usr/bin/env python3
"""Where the slow publish-to-alarm samples spend their time (issue 10; not a test).

Joins the simulator probe's samples (probe-samples.csv: crossing ts ms, device, latency us,
publish ns, read ns) with the gateway's alarm path trace (alarm-trace.csv, written when the
gateway runs with -Dsafegrid.trace.alarmPath=FILE: io.safegrid.alerting.trace.AlarmPathTrace) by
device + ts. Every time is System.nanoTime() = CLOCK_MONOTONIC, one clock for both JVMs. Prints,
for the slowest 5 % of samples against the median ones (p40-p60), the mean of each hop, then each
sample over 10 ms hop by hop with what overlapped it: the gateway's and the simulator's safepoints
(GC pauses are safepoints; -Xlog:safepoint:...:timenanos) and the SCHED_FIFO 1 ms sleeper's
overshoots (bench/hiccup.c: VM stalls).

The same crossings timed to their `event: annunciation` (the rule engine's decision on /api/live,
before the ledger's commit; probe-annunciation-samples.csv, same columns, from simulators of round
9 on) are reported apart: their figures next to the alarm's, and the mean of each of their hops
(publish -> decoded -> decided -> the probe's read of the annunciation) for the median and the
slowest 5 %. Without that file (an older simulator) or with it empty (a gateway without
annunciations) a line says so.

    bench/alarm_trace.py OUT_DIR...   (bench/alarm_path.sh runs it on its own; several: pooled)
"""
import os
import re
import sys

HOPS = [  # (name, from column, to column); 'pub' and 'read' are the probe's
    ("publish -> decoded", "pub", "decoded_ns"),
    ("decoded -> decided", "decoded_ns", "decided_ns"),
    ("decided -> writer", "decided_ns", "dequeued_ns"),
    ("writer -> connection", "dequeued_ns", "connected_ns"),
    ("connection -> sent", "connected_ns", "sent_ns"),
    ("sent -> committed (RT)", "sent_ns", "committed_ns"),
    ("committed -> told", "committed_ns", "told_ns"),
    ("told -> fan-out (JSON)", "told_ns", "fanout_ns"),
    ("fan-out -> frame write", "fanout_ns", "written_ns"),
    ("frame write -> probe read", "written_ns", "read"),
]
SLOW_MS = 10.0
ANN_HOPS = [  # the annunciation's path: no ledger in it
    ("publish -> decoded", "pub", "decoded_ns"),
    ("decoded -> decided", "decoded_ns", "decided_ns"),
    ("decided -> annunciation read", "decided_ns", "read"),
]


def read_trace(path):
    rows, base = {}, None
    if not os.path.exists(path):
        return rows, base
    with open(path) as f:
        header = None
        for line in f:
            line = line.strip()
            if not line:
                continue
            if line.startswith("#"):
                m = re.search(r"System.nanoTime\(\) (\d+) ns = epoch (\d+) us", line)
                if m:
                    base = (int(m.group(1)), int(m.group(2)))
                continue
            if header is None:
                header = line.split(",")
                continue
            r = dict(zip(header, line.split(",")))
            if r.get("kind") == "CLEAR":
                continue
            for k in header[3:]:
                r[k] = int(r[k])
            key = (r["device"], r["reading_ts_ms"])
            old = rows.get(key)
            if old is None or (r["written_ns"] and (not old["written_ns"] or r["written_ns"] < old["written_ns"])):
                rows[key] = r
    return rows, base


def read_samples(path):
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            p = line.strip().split(",")
            if len(p) >= 5:
                out.append({"ts": int(p[0]), "device": p[1], "ms": int(p[2]) / 1000.0, "pub": int(p[3]), "read": int(p[4])})
    return out


def read_safepoints(path):
    """[(start_ns, end_ns, what)] from an -Xlog:safepoint:file=...:timenanos log."""
    out = []
    if not os.path.exists(path):
        return out
    rx = re.compile(r'^\[(\d+)ns\].*Safepoint "([^"]+)".*Total: (\d+) ns')
    with open(path) as f:
        for line in f:
            m = rx.match(line)
            if m:
                end, total = int(m.group(1)), int(m.group(3))
                out.append((end - total, end, m.group(2)))
    return out


def read_hiccups(path):
    """[(start_ns, end_ns, overshoot_ms)] of the 1 ms sleeper's overshoots over 1 ms."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) == 2 and not line.startswith("#"):
                a, o = int(p[0]), float(p[1])
                out.append((a, a + int((1.0 + o) * 1e6), o))
    return out


def read_sched(path):
    """Waits for a core from `perf sched timehist` (perf sched record -k CLOCK_MONOTONIC): sorted
    [(woken_ns, running_ns, thread)] of every wake-up that waited >= 0.3 ms to run."""
    out = []
    if not os.path.exists(path):
        return out
    rx = re.compile(r"^\s*(\d+\.\d+)\s+\[\d+\]\s+(.+?)\s+(\d+\.\d+)\s+(\d+\.\d+)\s+(\d+\.\d+)\s*$")
    with open(path) as f:
        for line in f:
            m = rx.match(line)
            if not m:
                continue
            delay = float(m.group(4))
            if delay < 0.3:
                continue
            end = int(float(m.group(1)) * 1e9)
            run = int(float(m.group(5)) * 1e6)
            start = end - run
            out.append((start - int(delay * 1e6), start, re.sub(r"\[.*", "", m.group(2)).strip()))
    out.sort()
    return out


def overlap(spans, lo, hi):
    """Total ms of the spans inside [lo, hi], the longest one's ms and its label."""
    tot, longest, label = 0.0, 0.0, ""
    for s, e, what in spans:
        if e < lo or s > hi:
            continue
        ms = (min(e, hi) - max(s, lo)) / 1e6
        tot += ms
        if ms > longest:
            longest, label = ms, str(what)
    return tot, longest, label


def hop_values(s, t, hops=HOPS):
    v = dict(t)
    v["pub"], v["read"] = s["pub"], s["read"]
    out = []
    for _, a, b in hops:
        out.append((v[b] - v[a]) / 1e6 if v.get(a) and v.get(b) else None)
    return out


def mean(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs) if xs else float("nan")


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def figures(ms):
    return (f"{len(ms)} samples, p50 {pct(ms, 0.5):.2f} p90 {pct(ms, 0.9):.2f} p99 {pct(ms, 0.99):.2f} "
            f"max {max(ms) if ms else float('nan'):.1f} ms, {sum(1 for x in ms if x > SLOW_MS)} over 10 ms "
            f"({100.0 * sum(1 for x in ms if x > SLOW_MS) / max(1, len(ms)):.1f} %)")


def annunciation_report(ann, ann_joined, ann_files):
    """The annunciation samples (publish -> event: annunciation), apart from the alarm's."""
    if not ann_files:
        print("publish-to-annunciation: no probe-annunciation-samples.csv (a simulator before round 9)")
        return
    if not ann:
        print("publish-to-annunciation: no samples (a gateway without event: annunciation)")
        return
    print(f"publish-to-annunciation (event: annunciation, before the ledger): {figures([x['ms'] for x in ann])}")
    print(f"  {len(ann_joined)} joined with the gateway's trace (device + ts)")
    if len(ann_joined) < 20:
        return
    ann_joined.sort(key=lambda j: j[0]["ms"])
    n = len(ann_joined)
    med = ann_joined[int(n * 0.4):int(n * 0.6)]
    slow = ann_joined[n - max(1, round(n * 0.05)):]
    print(f"  mean ms per hop: median (p40-p60, n={len(med)}, {mean([j[0]['ms'] for j in med]):.2f}) against the "
          f"slowest 5 % (n={len(slow)}, {mean([j[0]['ms'] for j in slow]):.2f}):")
    for i, (name, _, _) in enumerate(ANN_HOPS):
        a, b = mean([j[2][i] for j in med]), mean([j[2][i] for j in slow])
        print(f"    {name:30s} {a:8.2f} {b:8.2f} {b - a:+8.2f}")


def main(outs):
    joined, samples, traced = [], [], 0
    ann, ann_joined, ann_files = [], [], 0
    for out in outs:
        ctx = {"gw": read_safepoints(os.path.join(out, "gateway-safepoints.log")),
               "sim": read_safepoints(os.path.join(out, "sim-safepoints.log"))  # the load's and, apart, the probe's JVM
               + read_safepoints(os.path.join(out, "probe-sim-safepoints.log")),
               "hic": read_hiccups(os.path.join(out, "hiccups.txt")),
               "sched": read_sched(os.path.join(out, "sched.txt"))}
        trace, ctx["base"] = read_trace(os.path.join(out, "alarm-trace.csv"))
        traced += len(trace)
        run = read_samples(os.path.join(out, "probe-samples.csv"))
        for s in run:
            s["ctx"] = ctx
            t = trace.get((s["device"], s["ts"]))
            if t is not None and t["written_ns"]:
                joined.append((s, t, hop_values(s, t)))
        samples += run
        ann_path = os.path.join(out, "probe-annunciation-samples.csv")
        ann_files += os.path.exists(ann_path)
        ann_run = read_samples(ann_path)
        for s in ann_run:
            s["ctx"] = ctx
            t = trace.get((s["device"], s["ts"]))
            if t is not None and t.get("decided_ns"):
                ann_joined.append((s, t, hop_values(s, t, ANN_HOPS)))
        ann += ann_run
        h = [x[2] for x in ctx["hic"]]
        if h:
            print(f"{out}: VM stalls (SCHED_FIFO 1 ms sleeper's overshoots): {sum(1 for x in h if x > 2)} over 2 ms, "
                  f"{sum(1 for x in h if x > 5)} over 5 ms, max {max(h):.1f} ms")
        if len(outs) > 1:
            ms = [x["ms"] for x in run]
            print(f"{out}: {len(ms)} samples, p50 {pct(ms, 0.5):.2f} p90 {pct(ms, 0.9):.2f} p99 {pct(ms, 0.99):.2f} "
                  f"max {max(ms) if ms else float('nan'):.1f} ms, {sum(1 for x in ms if x > SLOW_MS)} over 10 ms")
            if ann_run:
                print(f"{out}: publish-to-annunciation {figures([x['ms'] for x in ann_run])}")
    if len(outs) > 1:
        ms = [x["ms"] for x in samples]
        print(f"pooled: {len(ms)} samples, p50 {pct(ms, 0.5):.2f} p90 {pct(ms, 0.9):.2f} p99 {pct(ms, 0.99):.2f} ms, "
              f"{sum(1 for x in ms if x > SLOW_MS)} over 10 ms ({100.0 * sum(1 for x in ms if x > SLOW_MS) / max(1, len(ms)):.1f} %)")
    try:
        alarm_report(joined, samples, traced)
    finally:
        annunciation_report(ann, ann_joined, ann_files)


def alarm_report(joined, samples, traced):
    print(f"alarm path trace: {len(samples)} probe samples, {len(joined)} joined with the gateway's trace "
          f"(device + ts; {traced} hazard raises traced)")
    if len(joined) < 20:
        print("  too few joined samples (a gateway without the trace, or a simulator without nanoTime columns)")
        return
    joined.sort(key=lambda j: j[0]["ms"])
    n = len(joined)
    med = joined[int(n * 0.4):int(n * 0.6)]
    slow = joined[n - max(1, round(n * 0.05)):]
    print(f"mean ms per hop: median samples (p40-p60, n={len(med)}, publish-to-alarm {mean([j[0]['ms'] for j in med]):.2f}) "
          f"against the slowest 5 % (n={len(slow)}, {mean([j[0]['ms'] for j in slow]):.2f}):")
    print(f"  {'hop':30s} {'median':>8s} {'slowest':>8s} {'excess':>8s}")
    for i, (name, _, _) in enumerate(HOPS):
        a, b = mean([j[2][i] for j in med]), mean([j[2][i] for j in slow])
        print(f"  {name:30s} {a:8.2f} {b:8.2f} {b - a:+8.2f}")
    med_hop = [mean([j[2][i] for j in med]) for i in range(len(HOPS))]

    def stalls(s):
        c = s["ctx"]
        return overlap(c["gw"], s["pub"], s["read"]), overlap(c["sim"], s["pub"], s["read"]), overlap(c["hic"], s["pub"], s["read"])

    over = [j for j in joined if j[0]["ms"] > SLOW_MS] or slow
    label = f"over {SLOW_MS:.0f} ms" if over is not slow else "slowest 5 % (none over 10 ms)"
    print(f"samples {label} ({len(over)}): hops ms in the order above; overlapping pauses, ms: gateway safepoints (gw),"
          f" simulator safepoints (sim), VM stalls of the SCHED_FIFO 1 ms sleeper (vm)")
    dominant = {}
    for s, t, h in over:
        wall = ""
        base = s["ctx"]["base"]
        if base:
            us = base[1] + (s["pub"] - base[0]) // 1000
            wall = "%s.%03d" % (__import__("time").strftime("%H:%M:%S", __import__("time").gmtime(us // 1_000_000)), us // 1000 % 1000)
        (g, gl, gn), (m, ml, mn), (v, vl, _) = stalls(s)
        ex = [(h[i] - med_hop[i]) if h[i] is not None else -1e9 for i in range(len(HOPS))]
        k = max(range(len(HOPS)), key=lambda i: ex[i])
        dominant[HOPS[k][0]] = dominant.get(HOPS[k][0], 0) + 1
        hops = " ".join("-" if x is None else f"{x:.1f}" for x in h)
        print(f"  {wall} {s['device']} {s['ms']:5.1f} | {hops} | gw {g:.1f}{' ' + gn if gl >= 1 else ''}"
              f" sim {m:.1f}{' ' + mn if ml >= 1 else ''} vm {v:.1f} | most: {HOPS[k][0]}")
        sched = s["ctx"]["sched"]
        if sched:  # the longest waits for a core inside the hops that took > 1 ms over their median
            v = dict(t)
            v["pub"], v["read"] = s["pub"], s["read"]
            waits = []
            for i, (name, a, b) in enumerate(HOPS):
                if h[i] is None or ex[i] < 1.0:
                    continue
                lo, hi = v[a], v[b]
                w = [(min(r, hi) - max(wk, lo), th) for wk, r, th in sched if wk < hi and r > lo]
                w = [x for x in w if x[0] >= 300_000]
                w.sort(reverse=True)
                tot = sum(x[0] for x in w) / 1e6
                waits.append(f"{name}: waits {tot:.1f} ms (" + ", ".join(f"{th} {ms / 1e6:.1f}" for ms, th in w[:3]) + ")")
            if waits:
                print("      " + "; ".join(waits))
    print("  hop with the largest excess over its median, per sample: "
          + ", ".join(f"{k} {v}" for k, v in sorted(dominant.items(), key=lambda kv: -kv[1])))

    def share(group, i, thr):
        return sum(1 for s, _, _ in group if stalls(s)[i][1] >= thr)
    for name, i, thr in (("a gateway safepoint >= 1 ms", 0, 1.0), ("a simulator safepoint >= 1 ms", 1, 1.0),
                         ("a VM stall >= 2 ms", 2, 2.0)):
        print(f"  with {name} inside publish..read: {share(over, i, thr)} of {len(over)} {label.split(' (')[0]}, "
              f"{share(med, i, thr)} of {len(med)} median samples")


if __name__ == "__main__":
    main(sys.argv[1:] or ["bench/out/alarm-path"])
