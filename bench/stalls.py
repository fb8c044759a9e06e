#!/usr/bin/env python3
"""Stall forensics for bench/stalls.sh (issue 10; not a test).

  stalls.py sample OUT SITE DURATION_S PSQL_URI STALL_URI    samples until OUT/stop appears
  stalls.py report OUT STALL_MS                              lines the slow samples up with them

`sample` writes, under OUT:
  seconds.jsonl   once a second: /proc/stat (CPU, steal, iowait, run queue), PSI cpu/io, vda's
                  writes/flushes/discards (/proc/diskstats), Dirty/Writeback, load average, every
                  gateway thread's and PostgreSQL process's CPU and run-queue wait (schedstat),
                  the simulator's, pg_stat_wal / pg_stat_checkpointer / pg_stat_bgwriter
  waits.jsonl     10 times a second: pg_stat_activity rows that are not idle (wait events)
  alarms.jsonl    every `event: alarm` on the gateway's /api/live, with the receive time: publish-
                  to-alarm per sample = received - evidence.reading_time_ms (one host, one clock)
  pgbench.log     a side probe: 20 one-row INSERT commits and 20 `SELECT 1` a second on database
                  safegrid_stalls (pgbench --rate --log): WAL flush vs plain scheduling, per second
`report` reads those, the gateway's GC log (gc.log) and the PostgreSQL log lines of the window.
Loopback only; standard library only.
"""
import glob
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime, timezone

TICK = os.sysconf("SC_CLK_TCK")
PG_WAL = os.environ.get("SAFEGRID_PG_WAL", "/var/cache/safegrid/trixie-root/var/lib/safegrid/pgdata/pg_wal")


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def cmdline(pid):
    return read(f"/proc/{pid}/cmdline").replace("\0", " ").strip()


def find_pids(site, allcpu):
    gw = sim = None
    pg = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        c = cmdline(d)
        if not c:
            continue
        st = read(f"/proc/{d}/stat")
        if st:
            f = st[st.rindex(")") + 2:].split()
            allcpu[d] = [c[:70], int(f[11]) + int(f[12])]
        if c.startswith("postgres") or "/bin/postgres" in c:
            pg.append(int(d))
        elif "java" in c and site in c:
            if f"--config {site}" in c:
                gw = int(d)
            elif f"--site {site}" in c:
                sim = int(d)
    return gw, sim, pg


def task_stats(pid):
    """{tid: [comm, cpu_ticks, run_ns, wait_ns]} for every thread of pid."""
    out = {}
    for t in glob.glob(f"/proc/{pid}/task/*"):
        st = read(t + "/stat")
        ss = read(t + "/schedstat").split()
        if not st or len(ss) < 2:
            continue
        r = st.rindex(")")
        comm = st[st.index("(") + 1:r]
        f = st[r + 2:].split()
        out[t.rsplit("/", 1)[1]] = [comm, int(f[11]) + int(f[12]), int(ss[0]), int(ss[1])]
    return out


def proc_stats(pid):
    st = read(f"/proc/{pid}/stat")
    ss = read(f"/proc/{pid}/schedstat").split()
    if not st or len(ss) < 2:
        return None
    r = st.rindex(")")
    f = st[r + 2:].split()
    return [cmdline(pid)[:60], int(f[11]) + int(f[12]), int(ss[0]), int(ss[1])]


def machine():
    m = {}
    for line in read("/proc/stat").splitlines():
        p = line.split()
        if p[0] == "cpu":
            m["cpu"] = [int(x) for x in p[1:9]]  # user nice system idle iowait irq softirq steal
        elif p[0] in ("procs_running", "procs_blocked", "ctxt"):
            m[p[0]] = int(p[1])
    for kind in ("cpu", "io"):
        for line in read(f"/proc/pressure/{kind}").splitlines():
            p = line.split()
            m[f"psi_{kind}_{p[0]}_us"] = int(p[-1].split("=")[1])
    for line in read("/proc/diskstats").splitlines():
        p = line.split()
        if p[2] == "vda":
            v = [int(x) for x in p[3:]]
            m["disk"] = {"w": v[4], "w_ms": v[7], "inflight": v[8], "io_ms": v[9], "wt_ms": v[10],
                         "disc": v[11] if len(v) > 11 else 0, "disc_ms": v[14] if len(v) > 14 else 0,
                         "fl": v[15] if len(v) > 15 else 0, "fl_ms": v[16] if len(v) > 16 else 0}
    for line in read("/proc/meminfo").splitlines():
        if line.startswith(("Dirty:", "Writeback:")):
            m[line.split(":")[0]] = int(line.split()[1])
    m["load"] = read("/proc/loadavg").split()[:3]
    try:  # WAL segments on disk: a new one (not recycled) is written full of zeros and fsync'd
        names = [n for n in os.listdir(PG_WAL) if len(n) == 24]
        m["wal_files"] = len(names)
        m["wal_newest_ctime"] = max((os.stat(os.path.join(PG_WAL, n)).st_ctime for n in names), default=0)
    except OSError:
        pass
    return m


class Psql:
    """One long-lived psql: a query per call, rows as lists of strings."""

    def __init__(self, uri):
        self.p = subprocess.Popen(["psql", "-X", "-q", "-At", "-F", "\x1f", uri], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)

    def rows(self, sql):
        self.p.stdin.write(sql.rstrip(";") + ";\n\\echo @@END\n")
        self.p.stdin.flush()
        out = []
        for line in self.p.stdout:
            line = line.rstrip("\n")
            if line == "@@END":
                return out
            out.append(line.split("\x1f"))
        raise EOFError("psql ended")

    def close(self):
        try:
            self.p.stdin.close()
            self.p.wait(5)
        except Exception:
            self.p.kill()


PG_SECOND = """SELECT json_build_object(
 'wal', (SELECT row_to_json(w) FROM (SELECT wal_records, wal_fpi, wal_bytes::bigint, wal_buffers_full, wal_write,
         wal_sync, wal_write_time, wal_sync_time FROM pg_stat_wal) w),
 'ckpt', (SELECT row_to_json(c) FROM (SELECT num_timed, num_requested, buffers_written, write_time, sync_time
          FROM pg_stat_checkpointer) c),
 'bgw', (SELECT row_to_json(b) FROM (SELECT buffers_clean, maxwritten_clean FROM pg_stat_bgwriter) b),
 'io', (SELECT json_object_agg(backend_type || '/' || object || '/' || context,
         json_build_object('writes', writes, 'write_time', write_time, 'fsyncs', fsyncs, 'fsync_time', fsync_time,
                           'extends', extends))
        FROM pg_stat_io WHERE coalesce(writes, 0) + coalesce(fsyncs, 0) + coalesce(extends, 0) > 0))"""

PG_WAITS = """SELECT json_agg(json_build_object('pid', pid, 'bt', backend_type, 'db', datname, 'st', state,
  'wt', wait_event_type, 'we', wait_event, 'q', left(regexp_replace(query, '\\s+', ' ', 'g'), 60),
  'xact_ms', round(extract(epoch FROM clock_timestamp() - xact_start) * 1000)))
 FROM pg_stat_activity WHERE pid <> pg_backend_pid()
  AND (state IS NULL OR state NOT IN ('idle')) AND backend_type NOT IN ('archiver')"""


def sse(out, port_file_log, stop):
    """Every alarm event on /api/live with its receive time (ms since the epoch)."""
    port = None
    while not stop.is_set() and port is None:
        m = re.search(r"SafeGrid listening: .*http=(\d+)", read(port_file_log))
        if m:
            port = m.group(1)
        else:
            time.sleep(0.2)
    if port is None:
        return
    with open(os.path.join(out, "alarms.jsonl"), "a") as f:
        while not stop.is_set():
            try:
                req = urllib.request.Request(f"http://127.0.0.1:{port}/api/live",
                                             headers={"Authorization": "Bearer demo-viewer-token",
                                                      "Accept": "text/event-stream"})
                with urllib.request.urlopen(req, timeout=5) as r:
                    event = None
                    for raw in r:
                        line = raw.decode("utf-8", "replace").rstrip("\r\n")
                        if line.startswith("event:"):
                            event = line[6:].strip()
                        elif line.startswith("data:") and event == "alarm":
                            now = time.time() * 1000
                            try:
                                d = json.loads(line[5:])
                                a = d.get("alarm", {})
                                rt = a.get("evidence", {}).get("reading_time_ms")
                                f.write(json.dumps({"recv_ms": round(now, 1), "type": d.get("type"),
                                                    "device": a.get("deviceId"), "reading_ms": rt}) + "\n")
                                f.flush()
                            except ValueError:
                                pass
                        elif not line:
                            event = None
                        if stop.is_set():
                            return
            except Exception:
                time.sleep(0.5)


def sample(out, site, duration, psql_uri, stall_uri):
    stop = threading.Event()
    gw_log = os.path.join(out, "alarm-path", "gateway.log")
    threading.Thread(target=sse, args=(out, gw_log, stop), daemon=True).start()
    waits = Psql(psql_uri)
    pgs = Psql(psql_uri)

    def wait_sampler():
        with open(os.path.join(out, "waits.jsonl"), "w") as f:
            while not stop.is_set():
                t = time.time()
                try:
                    r = waits.rows(PG_WAITS)
                    f.write(json.dumps({"t": round(t, 3), "rows": json.loads(r[0][0]) if r and r[0][0] else []}) + "\n")
                except Exception as e:  # keep sampling
                    f.write(json.dumps({"t": t, "error": str(e)}) + "\n")
                    if isinstance(e, EOFError):
                        return
                time.sleep(max(0.0, 0.1 - (time.time() - t)))

    threading.Thread(target=wait_sampler, daemon=True).start()
    bench = None
    bench_started = False
    with open(os.path.join(out, "seconds.jsonl"), "w") as f:
        nxt = int(time.time()) + 1
        while not os.path.exists(os.path.join(out, "stop")):
            time.sleep(max(0.0, nxt - time.time()))
            t = time.time()
            nxt += 1
            allcpu = {}
            gw, sim, pg = find_pids(site, allcpu)
            rec = {"t": round(t, 3), "m": machine(), "gw": gw and task_stats(gw), "sim": sim and task_stats(sim),
                   "pg": {p: proc_stats(p) for p in pg}, "all": allcpu, "self": os.getpid(),
                   "gw_pid": gw, "sim_pid": sim}
            try:
                r = pgs.rows(PG_SECOND)
                rec["pgstat"] = json.loads(r[0][0])
            except Exception as e:
                rec["pgstat_error"] = str(e)
            f.write(json.dumps(rec) + "\n")
            f.flush()
            if not bench_started and "alarm path warm-up:" in read(gw_log):
                bench_started = True
                # the side probe: the sim starts right after the warm-up line
                bench = subprocess.Popen(
                    ["pgbench", "-n", "-R", "40", "-T", str(duration + 5), "-l", "--log-prefix",
                     os.path.join(out, "pgbench"), "-f", os.path.join(out, "commit.sql") + "@1",
                     "-f", os.path.join(out, "select.sql") + "@1", stall_uri],
                    stdout=open(os.path.join(out, "pgbench.out"), "w"), stderr=subprocess.STDOUT, cwd=out)
    stop.set()
    if bench and bench.poll() is None:
        bench.terminate()
    waits.close()
    pgs.close()


# ----------------------------------------------------------------------------- report
def pct(xs, q):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def ts_of_pglog(line):
    m = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) UTC", line)
    if not m:
        return None
    return datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=timezone.utc).timestamp()


def gc_events(path):
    """[(end_s, duration_ms, text)] of every pause and safepoint in a -Xlog:...:time gc log."""
    ev = []
    for line in read(path).splitlines():
        m = re.match(r"\[(\d{4}-\d\d-\d\dT[\d:.]+)([+-]\d{4})\]", line)
        if not m:
            continue
        end = datetime.strptime(m.group(1) + m.group(2), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
        p = re.search(r"(Pause .*?) (\d+\.\d+)ms$", line)
        if p:
            ev.append((end, float(p.group(2)), "GC " + p.group(1)[:60]))
            continue
        s = re.search(r'Safepoint "([^"]+)".*Reaching safepoint: (\d+) ns.*Total: (\d+) ns', line)
        if s and int(s.group(3)) > 2_000_000:
            ev.append((end, int(s.group(3)) / 1e6, f"safepoint {s.group(1)} (reaching {int(s.group(2)) / 1e6:.1f} ms)"))
    return ev


def report(out, stall_ms):
    secs = [json.loads(l) for l in open(os.path.join(out, "seconds.jsonl")) if l.strip()]
    alarms = [json.loads(l) for l in open(os.path.join(out, "alarms.jsonl"))] if os.path.exists(
        os.path.join(out, "alarms.jsonl")) else []
    probe = [a for a in alarms if a.get("reading_ms") and a.get("type") in ("raised", "reopened", "repeated", "severity_changed")]
    for a in probe:
        a["lat"] = a["recv_ms"] - a["reading_ms"]
    waits = []
    if os.path.exists(os.path.join(out, "waits.jsonl")):
        waits = [json.loads(l) for l in open(os.path.join(out, "waits.jsonl")) if l.strip()]
    bench = []  # (end_s, script, exec_ms, lag_ms)
    for p in glob.glob(os.path.join(out, "pgbench*.log*")) + glob.glob(os.path.join(out, "pgbench.[0-9]*")):
        for line in read(p).splitlines():
            f = line.split()
            if len(f) >= 6 and f[0].isdigit():
                lat_us, lag_us = int(f[2]), int(f[6]) if len(f) > 6 else 0
                end = int(f[4]) + int(f[5]) / 1e6
                bench.append((end, int(f[3]), (lat_us - lag_us) / 1000, lag_us / 1000))
    gcs = gc_events(os.path.join(out, "gc.log"))
    pglog = [(ts_of_pglog(l), l) for l in read(os.path.join(out, "pg.log")).splitlines()]
    pglog = [(t, l) for t, l in pglog if t]

    def d(a, b, *k):
        x, y = a, b
        for kk in k:
            x, y = (x or {}).get(kk), (y or {}).get(kk)
        return (y or 0) - (x or 0)

    # per-second rows (deltas over the second that ends at t)
    rows = []
    for a, b in zip(secs, secs[1:]):
        ma, mb = a["m"], b["m"]
        cpu = [y - x for x, y in zip(ma["cpu"], mb["cpu"])]
        tot = sum(cpu) or 1
        r = {"t": b["t"], "busy": 100 * (tot - cpu[3] - cpu[4]) / tot, "iowait": 100 * cpu[4] / tot,
             "steal": 100 * cpu[7] / tot, "runq": mb.get("procs_running"), "blocked": mb.get("procs_blocked"),
             "psi_cpu_ms": (mb["psi_cpu_some_us"] - ma["psi_cpu_some_us"]) / 1000,
             "psi_io_ms": (mb["psi_io_some_us"] - ma["psi_io_some_us"]) / 1000,
             "w": d(ma, mb, "disk", "w"), "w_ms": d(ma, mb, "disk", "w_ms"), "fl": d(ma, mb, "disk", "fl"),
             "fl_ms": d(ma, mb, "disk", "fl_ms"), "disc": d(ma, mb, "disk", "disc"),
             "disc_ms": d(ma, mb, "disk", "disc_ms"), "dirty_kb": mb.get("Dirty"), "load": mb["load"][0],
             "walf": mb.get("wal_files", 0) - ma.get("wal_files", 0)}
        pa, pb = a.get("pgstat") or {}, b.get("pgstat") or {}
        r["wal_sync"] = d(pa, pb, "wal", "wal_sync")
        r["wal_sync_ms"] = d(pa, pb, "wal", "wal_sync_time")
        r["wal_write_ms"] = d(pa, pb, "wal", "wal_write_time")
        r["wal_kb"] = d(pa, pb, "wal", "wal_bytes") / 1024
        r["wal_fpi"] = d(pa, pb, "wal", "wal_fpi")
        r["wal_full"] = d(pa, pb, "wal", "wal_buffers_full")
        r["ckpt_buf"] = d(pa, pb, "ckpt", "buffers_written")
        r["bgw_buf"] = d(pa, pb, "bgw", "buffers_clean")
        # threads: CPU ms and run-queue wait ms in this second
        for key in ("gw", "sim"):
            ta, tb = a.get(key) or {}, b.get(key) or {}
            th = []
            for tid, v in tb.items():
                u = ta.get(tid)
                if u:
                    th.append((v[0], (v[1] - u[1]) * 1000 / TICK, (v[3] - u[3]) / 1e6))
            r[key + "_cpu_ms"] = sum(x[1] for x in th)
            r[key + "_wait_ms"] = sum(x[2] for x in th)
            r[key + "_top"] = sorted(th, key=lambda x: -x[2])[:4]
            r[key + "_jit_ms"] = sum(x[1] for x in th if "CompilerThre" in x[0])
        ga, gb = a.get("pg") or {}, b.get("pg") or {}
        pth = []
        for pid, v in gb.items():
            u = ga.get(pid)
            if u and v:
                pth.append((v[0], (v[1] - u[1]) * 1000 / TICK, (v[3] - u[3]) / 1e6))
        r["pg_cpu_ms"] = sum(x[1] for x in pth)
        r["pg_wait_ms"] = sum(x[2] for x in pth)
        r["pg_top"] = sorted(pth, key=lambda x: -x[2])[:4]
        # everything else on the machine (other engineers' builds and tests, this sampler)
        aa, ab = a.get("all") or {}, b.get("all") or {}
        gw_pid, sim_pid = b.get("gw_pid"), b.get("sim_pid")
        mine = {str(x) for x in list((b.get("pg") or {}).keys())}
        oth = []
        for pid, v in ab.items():
            u = aa.get(pid)
            if pid in mine or pid == str(gw_pid) or pid == str(sim_pid):
                continue
            cpu_ms = (v[1] - (u[1] if u else v[1])) * 1000 / TICK
            if cpu_ms > 0:
                oth.append((("SAMPLER " if pid == str(b.get("self")) else "") + v[0], cpu_ms))
        r["other_cpu_ms"] = sum(x[1] for x in oth)
        r["other_top"] = sorted(oth, key=lambda x: -x[1])[:3]
        bs = [x for x in bench if b["t"] - 1 < x[0] <= b["t"]]
        r["commit_max"] = max([x[2] for x in bs if x[1] == 0], default=0)
        r["select_max"] = max([x[2] for x in bs if x[1] == 1], default=0)
        rows.append(r)

    p = print
    p(f"# stall forensics: {out}")
    lats = [a["lat"] for a in probe]
    p(f"publish-to-alarm (own SSE listener, {len(lats)} samples): p50 {pct(lats, .5):.1f} p90 {pct(lats, .9):.1f} "
      f"p99 {pct(lats, .99):.1f} max {max(lats, default=0):.1f} ms")
    if probe:  # the gateway JIT-compiles its ingest path under the load's first seconds
        t0 = min(a["reading_ms"] for a in probe)
        for name, sel in (("first 15 s of probes", lambda a: a["reading_ms"] - t0 < 15000),
                          ("after 15 s          ", lambda a: a["reading_ms"] - t0 >= 15000)):
            xs = [a["lat"] for a in probe if sel(a)]
            p(f"  {name}: n {len(xs)} p50 {pct(xs, .5):.1f} p90 {pct(xs, .9):.1f} p99 {pct(xs, .99):.1f} "
              f"max {max(xs, default=0):.1f} ms")
    for s in (0, 1):
        xs = [x[2] for x in bench if x[1] == s]
        p(f"side probe {'1-row INSERT commit' if s == 0 else 'SELECT 1          '}: n {len(xs)} p50 {pct(xs, .5):.2f} "
          f"p99 {pct(xs, .99):.2f} max {max(xs, default=0):.1f} ms; > {stall_ms} ms: {sum(1 for x in xs if x > stall_ms)}")
    p(f"GC pauses/safepoints > 2 ms: {len(gcs)}, max {max([g[1] for g in gcs], default=0):.1f} ms")
    p()
    p("## every second (deltas): busy/iowait/steal %, run queue, PSI cpu/io stall ms, disk writes w_ms flushes fl_ms "
      "discards, Dirty kB, WAL kB/fpi/syncs/sync ms, gateway cpu/wait ms, postgres cpu/wait ms, side-probe max commit/select ms, "
      "probe samples (ms) that started in the second")
    p(" time     busy iow stl rq  psiC  psiI   w  w_ms  fl fl_ms disc  dirty  walkB  fpi sync syncms  gwCPU gwJIT gwWait pgCPU pgWait other  cmax  smax walf  samples")
    for r in rows:
        ss = [a["lat"] for a in probe if r["t"] - 1 < a["reading_ms"] / 1000 <= r["t"]]
        ts = datetime.fromtimestamp(r["t"], timezone.utc).strftime("%H:%M:%S")
        p(f"{ts} {r['busy']:5.0f} {r['iowait']:3.0f} {r['steal']:3.0f} {r['runq'] or 0:2d} {r['psi_cpu_ms']:5.0f} {r['psi_io_ms']:5.0f} "
          f"{r['w']:4d} {r['w_ms']:5d} {r['fl']:3d} {r['fl_ms']:5d} {r['disc']:4d} {r['dirty_kb'] or 0:6d} {r['wal_kb']:6.0f} {r['wal_fpi']:4d} "
          f"{r['wal_sync']:4d} {r['wal_sync_ms']:6.0f} {r['gw_cpu_ms']:6.0f} {r['gw_jit_ms']:5.0f} {r['gw_wait_ms']:6.0f} {r['pg_cpu_ms']:5.0f} {r['pg_wait_ms']:6.0f} {r['other_cpu_ms']:5.0f} "
          f"{r['commit_max']:5.0f} {r['select_max']:5.0f} {r['walf']:4d}  {' '.join(f'{x:.0f}' for x in sorted(ss, reverse=True)[:5])}")
    p()
    slow = sorted([a for a in probe if a["lat"] > stall_ms], key=lambda a: -a["lat"])
    p(f"## the {min(len(slow), 15)} slowest samples over {stall_ms} ms (of {len(slow)}), with what happened in their window")
    for a in slow[:15]:
        t0, t1 = a["reading_ms"] / 1000, a["recv_ms"] / 1000
        p(f"\n### {a['device']} {a['type']}: {a['lat']:.0f} ms, published {datetime.fromtimestamp(t0, timezone.utc).strftime('%H:%M:%S.%f')[:-3]}")
        for r in rows:
            if r["t"] - 1 < t1 and r["t"] > t0:
                p(f"  second to {datetime.fromtimestamp(r['t'], timezone.utc).strftime('%H:%M:%S')}: busy {r['busy']:.0f} % runq {r['runq']} "
                  f"PSI cpu {r['psi_cpu_ms']:.0f} io {r['psi_io_ms']:.0f} ms; disk fl {r['fl']} ({r['fl_ms']} ms) w_ms {r['w_ms']} disc {r['disc']}; "
                  f"WAL sync {r['wal_sync']} ({r['wal_sync_ms']:.0f} ms) fpi {r['wal_fpi']}; side commit max {r['commit_max']:.0f} select max {r['select_max']:.0f}")
                p(f"    gateway wait {r['gw_wait_ms']:.0f} ms: " + ", ".join(f"{n} {c:.0f}cpu/{w:.0f}wait" for n, c, w in r["gw_top"]))
                p(f"    postgres wait {r['pg_wait_ms']:.0f} ms: " + ", ".join(f"{n[:40]} {c:.0f}cpu/{w:.0f}wait" for n, c, w in r["pg_top"]))
                p(f"    simulator cpu {r['sim_cpu_ms']:.0f} wait {r['sim_wait_ms']:.0f} ms; others cpu {r['other_cpu_ms']:.0f} ms: "
                  + ", ".join(f"{n[:50]} {c:.0f}" for n, c in r["other_top"]))
        for e in gcs:
            if t0 - 0.05 <= e[0] <= t1 + 0.05:
                p(f"  JVM: {e[2]} {e[1]:.1f} ms ending {datetime.fromtimestamp(e[0], timezone.utc).strftime('%H:%M:%S.%f')[:-3]}")
        for t, l in pglog:
            if t0 - 1 <= t <= t1 + 0.5:
                p(f"  pg.log: {l[:200]}")
        bs = [x for x in bench if t0 <= x[0] - x[2] / 1000 and x[0] <= t1 + 0.01 and x[2] > 5]
        for x in bs[:6]:
            p(f"  side probe {'commit' if x[1] == 0 else 'select'} {x[2]:.1f} ms ending {datetime.fromtimestamp(x[0], timezone.utc).strftime('%H:%M:%S.%f')[:-3]}")
        ws = {}
        for w in waits:
            if t0 <= w["t"] <= t1:
                for row in w.get("rows") or []:
                    if row.get("wt") in ("Activity", "Extension") or row.get("st") == "idle":
                        continue
                    if row.get("wt") or row.get("st") == "active":
                        k = f"{row.get('bt')}/{row.get('db') or '-'}: {row.get('wt') or 'CPU'}:{row.get('we') or '-'}"
                        if row.get("bt") == "client backend":
                            k += f" [{(row.get('q') or '')[:30]}]"
                        ws[k] = ws.get(k, 0) + 1
        if ws:
            p("  pg_stat_activity (10 Hz) in the window: " + "; ".join(f"{k} x{n}" for k, n in sorted(ws.items(), key=lambda x: -x[1])[:8]))
    p()
    p("## PostgreSQL log in the window (autovacuum, checkpoints, slow statements)")
    if rows:
        for t, l in pglog:
            if rows[0]["t"] - 5 <= t <= rows[-1]["t"] + 1 and "job" not in l:
                p("  " + l[:220])
    p()
    p("## GC pauses / safepoints > 2 ms in the window")
    for e in gcs:
        if rows and rows[0]["t"] <= e[0] <= rows[-1]["t"]:
            p(f"  {datetime.fromtimestamp(e[0], timezone.utc).strftime('%H:%M:%S.%f')[:-3]} {e[1]:6.1f} ms {e[2]}")


if __name__ == "__main__":
    if sys.argv[1] == "sample":
        sample(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6])
    else:
        report(sys.argv[2], float(sys.argv[3]))
