#!/usr/bin/env python3
"""The UI's recorded calls against a SQLite file or PostgreSQL database, with the server's CPU time per call
(issue 10).

What `bench/ui_bench.py replay` does, with the standard library only (no .venv needed): starts build/osprey on
the database with the background services off, waits until the server's CPU is still, then sends each page's
recorded calls (bench/ui_calls.json) one after the other, 1 warm-up round + N. Prints per page the sum of its
calls (p50/p99) and the server's CPU per round, and per call p50/p99 wall ms and the server's CPU ms (utime +
stime from /proc/PID/stat, in clock ticks of 10 ms, averaged over the N rounds): on a loaded machine the CPU
figure moves less than the wall time (on PostgreSQL it leaves out the database server's own CPU). Linux only.

    bench/ui_replay_cpu.py --sqlite /tmp/osprey-big.db -n 5 --pages flow-run,flows,runs --json /tmp/after.json
"""
import argparse, json, os, re, shutil, socket, subprocess, sys, tempfile, time, urllib.error, urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def cpu_ticks(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])  # utime + stime

def db_ticks(postmaster):
    """CPU ticks of a PostgreSQL server's processes (the postmaster and its children, the backends)."""
    if not postmaster: return 0
    total = 0
    for d in os.listdir("/proc"):
        if not d.isdigit(): continue
        try:
            f = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(d) == postmaster or int(f[1]) == postmaster: total += int(f[11]) + int(f[12])
    return total

def pct(v, p):
    o = sorted(v); return o[min(len(o) - 1, int(round(p / 100 * (len(o) - 1))))]

def main():
    ap = argparse.ArgumentParser()
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--sqlite"); where.add_argument("--postgres", help="a database URL")
    ap.add_argument("--osprey", default=str(ROOT / "build" / "osprey"))
    ap.add_argument("--calls", default=str(ROOT / "bench" / "ui_calls.json")); ap.add_argument("--pages")
    ap.add_argument("-n", type=int, default=5); ap.add_argument("--json")
    ap.add_argument("--only", help="regex on call labels: only these calls are sent")
    ap.add_argument("--pg-data", help="--postgres: its data directory; adds the database server's CPU per call")
    a = ap.parse_args()
    pages = json.loads(Path(a.calls).read_text())
    wanted = a.pages.split(",") if a.pages else list(pages)
    home = tempfile.mkdtemp(prefix="uiperf-home-"); port = free_port()
    cfg = Path(home) / "config.yaml"
    url = a.postgres if a.postgres else f"sqlite:///{Path(a.sqlite).resolve()}"
    cfg.write_text(f'server:\n  port: {port}\n  ui:\n    enabled: false\ndatabase:\n  url: "{url}"\n'
                   'services:\n  scheduler:\n    enabled: false\n  late_runs:\n    enabled: false\n  foreman:\n    enabled: false\n')
    env = dict(os.environ, OSPREY_HOME=home)
    proc = subprocess.Popen([a.osprey, "--config", str(cfg), "server", "start"], env=env,
                            stdout=subprocess.DEVNULL, stderr=open(Path(home) / "server.log", "w"))
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(base + "/api/health", timeout=2).read(); break
        except Exception:
            if proc.poll() is not None: sys.exit("server exited: " + (Path(home) / "server.log").read_text()[-2000:])
            time.sleep(0.5)
    hz = os.sysconf("SC_CLK_TCK"); out = {}
    postmaster = int((Path(a.pg_data) / "postmaster.pid").read_text().split()[0]) if a.pg_data else 0
    for _ in range(120):  # let start-up work (replays, caches) finish: the server's CPU must be still for 1 s
        c = cpu_ticks(proc.pid); time.sleep(1)
        if cpu_ticks(proc.pid) == c: break
    try:
        for name in wanted:
            calls = pages[name]
            if a.only: calls = [c for c in calls if re.search(a.only, c["method"] + " " + c["path"] + json.dumps(c["body"]))]
            per = [[] for _ in calls]; cpu = [0] * len(calls); dbcpu = [0] * len(calls); totals = []; cpu_rounds = []
            fails = set()
            for i in range(a.n + 1):
                total = 0.0; c0 = cpu_ticks(proc.pid)
                for k, call in enumerate(calls):
                    data = json.dumps(call["body"]).encode() if call["body"] is not None else None
                    req = urllib.request.Request(base + call["path"], data=data, method=call["method"],
                                                 headers={"Content-Type": "application/json"})
                    t0 = cpu_ticks(proc.pid); d0 = db_ticks(postmaster); s = time.perf_counter()
                    try:
                        urllib.request.urlopen(req, timeout=300).read()
                    except urllib.error.HTTPError as e:
                        fails.add(f"{call['path']} -> {e.code}")
                    took = (time.perf_counter() - s) * 1000; t1 = cpu_ticks(proc.pid); d1 = db_ticks(postmaster)
                    if i: per[k].append(took); cpu[k] += t1 - t0; dbcpu[k] += d1 - d0
                    total += took
                if i: totals.append(total); cpu_rounds.append((cpu_ticks(proc.pid) - c0) * 1000 / hz)
            r = {"page_p50": pct(totals, 50), "page_p99": pct(totals, 99), "page_cpu_ms": sum(cpu_rounds) / len(cpu_rounds),
                 "failures": sorted(fails),
                 "calls": [{"call": f"#{k} {c['method']} {c['path'][:60]} {json.dumps(c['body'])[:150] if c['body'] else ''}",
                            "p50": pct(t, 50), "p99": pct(t, 99), "cpu_ms": cpu[k] * 1000 / hz / a.n,
                            "db_cpu_ms": dbcpu[k] * 1000 / hz / a.n}
                           for k, (c, t) in enumerate(zip(calls, per))]}
            out[name] = r
            print(f"\n{name}: page (sum of {len(calls)} calls) p50 {r['page_p50']:.0f} ms, p99 {r['page_p99']:.0f} ms, "
                  f"server CPU {r['page_cpu_ms']:.0f} ms/round; failures {r['failures']}", flush=True)
            for c in sorted(r["calls"], key=lambda c: -c["p99"])[:12]:
                db = f" {c['db_cpu_ms']:7.1f} db" if postmaster else ""
                print(f"  {c['p99']:8.1f} p99 {c['p50']:8.1f} p50 {c['cpu_ms']:7.1f} cpu{db}  {c['call']}", flush=True)
    finally:
        proc.terminate(); proc.wait(60); shutil.rmtree(home, ignore_errors=True)
    if a.json: Path(a.json).write_text(json.dumps(out, indent=1))

if __name__ == "__main__":
    main()
