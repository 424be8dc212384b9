#!/usr/bin/env python3
"""How fast the UI's pages are on a large database (issue 10, "Performance"). Three steps:

  record  Opens each page of the UI in headless Chromium (compat/browser.py) against a server and writes the API
          calls every page made, with their request bodies, to a JSON file: what the real UI asks for, not a guess.
  replay  Sends each page's recorded calls N times, one after the other as a page's first load does, to a
          server (Osprey or `prefect server start`) and prints p50/p99 per call and per page (the sum of its calls).
          With --parallel 6 the calls go over six connections at once, as a browser sends them (six per host),
          and the page's figure is the wall time: what the server's read concurrency makes of them.
  load    Times a page (the dashboard by default) in the browser: from navigation to the last network response
          before the page goes quiet (the UI polls, so "quiet" means no request in flight for 2.5 s; that wait is
          not counted), and to the end of its first round of distinct calls; splits the calls' time into the
          browser's queue, the server and the transfer (`waterfall`).

A Prefect server for --url must be told where its UI finds the API (PREFECT_UI_API_URL=http://HOST:PORT/api),
or its UI asks port 4200.

Every step either starts Osprey itself on --sqlite/--postgres (with the UI from scripts/prepare-ui.sh) or uses
the running server at --url. Run from the repository root with the venv's Python (it needs httpx and websockets):

    .venv/bin/python bench/ui_bench.py record --sqlite /tmp/ui-small.db --out bench/ui_calls.json
    .venv/bin/python bench/ui_bench.py replay --sqlite /tmp/ui-big.db --calls bench/ui_calls.json -n 20
    .venv/bin/python bench/ui_bench.py load --sqlite /tmp/ui-big.db -n 5

Ids in the recording are the generator's deterministic ones (bench/generate_big_db.py), so a recording made on a
small generated database replays against a big one. Time windows in the bodies are those of the recording.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "compat"))
from browser import Browser  # noqa: E402
from harness import Osprey  # noqa: E402

RUN = "00000002-0000-4000-8000-000000000000"  # bench-run-0, a Completed run with task runs and logs
TASK = "00000004-0000-4000-8000-000000000000"
FLOW = "00000001-0000-4000-8000-000000000000"
DEPLOYMENT = "00000007-0000-4000-8000-000000000000"
POOL = "bench-pool-0"

PAGES = [("dashboard", "/dashboard"), ("runs", "/runs"), ("flow-run", f"/runs/flow-run/{RUN}"),
         ("task-run", f"/runs/task-run/{TASK}"), ("flows", "/flows"), ("flow", f"/flows/flow/{FLOW}"),
         ("deployments", "/deployments"), ("deployment", f"/deployments/deployment/{DEPLOYMENT}"),
         ("work-pools", "/work-pools"), ("work-pool", f"/work-pools/work-pool/{POOL}"), ("events", "/events"),
         ("concurrency", "/concurrency-limits")]


@contextmanager
def server(a: argparse.Namespace):
    """The base URL of the server to measure: --url, or an Osprey started here on --sqlite/--postgres."""
    if a.url:
        yield a.url.rstrip("/")
        return
    binary = Path(a.osprey)
    with tempfile.TemporaryDirectory(prefix="ui-bench-") as tmp:
        home = Path(tmp)
        subprocess.run([str(ROOT / "scripts" / "prepare-ui.sh"), str(home / "ui")], check=True, capture_output=True)
        url = f"postgresql://{a.postgres.split('://', 1)[1]}" if a.postgres else f"sqlite:///{Path(a.sqlite).resolve()}"
        config = home / "config.yaml"
        # Only the API and the UI: the background services would change the data being measured.
        tuning = f"  readers: {a.readers}\n" if a.readers else ""
        serving = f"server:\n  io_threads: {a.io_threads}\n" if a.io_threads else ""
        config.write_text(f'{serving}database:\n  url: "{url}"\n{tuning}services:\n  scheduler:\n    enabled: false\n'
                          f'  late_runs:\n    enabled: false\n  foreman:\n    enabled: false\n')
        daemon = Osprey(binary, home, config=config)
        if a.postgres:
            daemon.database_url = a.postgres  # the harness checks the banner names the PostgreSQL database
        daemon.start(timeout=300)
        try:
            yield daemon.url
        finally:
            daemon.stop()


def page_url(base: str, path: str, v1: bool) -> str:
    """The default UI (v2, React, what `/` leads to) or the Vue one (v1)."""
    if v1:
        return base + path
    return base + ("/" if path == "/dashboard" else "/v2" + path)


def record(a: argparse.Namespace) -> None:
    out: dict[str, list[dict]] = {}
    with server(a) as base:
        b = Browser()
        try:
            for name, path in PAGES:
                report = b.open(page_url(base, path, a.v1))
                calls, seen = [], set()
                for event in b.events:
                    if event.get("method") != "Network.requestWillBeSent":
                        continue
                    req = event["params"]["request"]
                    parts = urlsplit(req["url"])
                    if not parts.path.startswith("/api/") or req["method"] == "OPTIONS":
                        continue
                    target = parts.path + (f"?{parts.query}" if parts.query else "")
                    key = (req["method"], target, req.get("postData"))
                    if key in seen:  # the UI's polling repeats calls: the first load is what counts
                        continue
                    seen.add(key)
                    body = json.loads(req["postData"]) if req.get("postData") else None
                    calls.append({"method": req["method"], "path": target, "body": body})
                out[name] = calls
                print(f"{name}: {len(calls)} calls, {len(report.problems)} problems", flush=True)
                for p in report.problems:
                    print(f"    {p}")
        finally:
            b.close()
    Path(a.out).write_text(json.dumps(out, indent=1) + "\n")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def label(call: dict) -> str:
    path = call["path"].split("?")[0]
    for value, name in ((RUN, "{run}"), (TASK, "{task}"), (FLOW, "{flow}"), (DEPLOYMENT, "{deployment}"), (POOL, "{pool}")):
        path = path.replace(value, name)
    return f"{call['method']} {path}"


def parallel_round(calls: list[dict], clients: list[httpx.Client]) -> tuple[float, list[float], set]:
    """Sends a page's calls over len(clients) connections at once, as a browser does (six per host): each
    connection takes the next call when its last one is answered. Returns the wall time (ms), each call's time
    and the failures."""
    took = [0.0] * len(calls)
    failures: set[str] = set()
    lock = threading.Lock()
    todo = iter(range(len(calls)))

    def worker(client: httpx.Client) -> None:
        while True:
            with lock:
                c = next(todo, None)
            if c is None:
                return
            started = time.perf_counter()
            r = client.request(calls[c]["method"], calls[c]["path"], json=calls[c]["body"])
            took[c] = (time.perf_counter() - started) * 1000
            if r.status_code >= 400:
                with lock:
                    failures.add(f"{label(calls[c])} -> {r.status_code} {r.text[:200]}")

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(client,)) for client in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return (time.perf_counter() - started) * 1000, took, failures


def replay(a: argparse.Namespace) -> None:
    pages = json.loads(Path(a.calls).read_text())
    wanted = set(a.pages.split(",")) if a.pages else None
    results = {}
    with server(a) as base, httpx.Client(base_url=base, timeout=120, trust_env=False) as client:
        clients = [httpx.Client(base_url=base, timeout=120, trust_env=False) for _ in range(a.parallel)]
        for name, calls in pages.items():
            if wanted and name not in wanted:
                continue
            per_call = [[] for _ in calls]
            totals, failures = [], set()
            for i in range(a.n + 1):  # the first round warms the caches and is not counted
                total = 0.0
                if a.parallel > 1:
                    total, took, failed = parallel_round(calls, clients)
                    failures |= failed
                    if i:
                        totals.append(total)
                        for c, t in enumerate(took):
                            per_call[c].append(t)
                    continue
                for c, call in enumerate(calls):
                    started = time.perf_counter()
                    r = client.request(call["method"], call["path"], json=call["body"])
                    took = (time.perf_counter() - started) * 1000
                    if r.status_code >= 400:
                        failures.add(f"{label(call)} -> {r.status_code} {r.text[:200]}")
                    if i:
                        per_call[c].append(took)
                    total += took
                if i:
                    totals.append(total)
            results[name] = {"page_p50": pct(totals, 50), "page_p99": pct(totals, 99), "failures": sorted(failures),
                             "calls": [{"call": f"#{c} {label(call)}", "p50": pct(t, 50), "p99": pct(t, 99)}
                                       for c, (call, t) in enumerate(zip(calls, per_call))]}
            r = results[name]
            how = f"{len(calls)} calls over {a.parallel} connections, wall time" if a.parallel > 1 else f"sum of {len(calls)} calls"
            print(f"\n{name}: page ({how}) p50 {r['page_p50']:.1f} ms, p99 {r['page_p99']:.1f} ms")
            for c in sorted(r["calls"], key=lambda c: -c["p99"]):
                flag = "  <-- over 100 ms" if c["p99"] > 100 else ""
                print(f"  {c['p99']:8.1f} p99 {c['p50']:8.1f} p50  {c['call']}{flag}")
            for f in r["failures"]:
                print(f"  FAILED: {f}")
        for extra in clients:
            extra.close()
    print(f"\nload average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1) + "\n")


def waterfall(events: list[dict]) -> dict:
    """What a browser load of a page spent its time on, from the DevTools events of one `Browser.open`.

    Every API call's life is split into the browser's queue (from requestWillBeSent until the request is sent:
    the six connections per host were busy), the server's time (sent until the response headers arrived) and
    the body's transfer. `first_round` ends when the last *distinct* call (method, URL, body) has finished: the
    UI refetches some calls on a timer, and those repeats are not what the page needs to show itself.
    `server_concurrency` is the mean number of calls the server held while it held any."""
    sent: dict[str, dict] = {}
    for e in events:
        method, p = e.get("method"), e.get("params", {})
        if method == "Network.requestWillBeSent" and "/api/" in p["request"]["url"]:
            r = p["request"]
            sent[p["requestId"]] = {"key": (r["method"], r["url"], r.get("postData")), "asked": p["timestamp"],
                                    "url": r["method"] + " " + urlsplit(r["url"]).path}
        elif p.get("requestId") in sent:
            call = sent[p["requestId"]]
            if method == "Network.responseReceived" and p["response"].get("timing"):
                t = p["response"]["timing"]
                call["sent"] = t["requestTime"] + t["sendEnd"] / 1000
                call["headers"] = t["requestTime"] + t["receiveHeadersEnd"] / 1000
            elif method in ("Network.loadingFinished", "Network.loadingFailed"):
                call["done"] = p["timestamp"]
    stamps = [e["params"]["timestamp"] for e in events
              if e.get("method", "").startswith("Network.") and "timestamp" in e.get("params", {})]
    start = min(stamps)
    calls = [c for c in sent.values() if "done" in c and "sent" in c]
    if not calls:  # e.g. a Prefect server whose UI asks another address (PREFECT_UI_API_URL unset)
        raise SystemExit("the page made no API call to this server")
    seen, first = set(), []
    for c in sorted(calls, key=lambda c: c["asked"]):
        if c["key"] not in seen:
            seen.add(c["key"])
            first.append(c)
    # The union of the server's intervals: how long it held at least one call.
    busy, end = 0.0, float("-inf")
    for a, b in sorted((c["sent"], c["headers"]) for c in calls):
        if b > end:
            busy += b - max(a, end)
            end = b
    server = [c["headers"] - c["sent"] for c in calls]
    queued = [max(0.0, c["sent"] - c["asked"]) for c in calls]
    slowest = sorted(first, key=lambda c: c["sent"] - c["headers"])[:5]
    return {"to_idle": max(stamps) - start, "first_round": max(c["done"] for c in first) - start,
            "calls": len(calls), "distinct": len(first), "server_sum": sum(server), "server_busy": busy,
            "server_concurrency": sum(server) / busy if busy else 0.0, "queued_sum": sum(queued),
            "first_api_call": min(c["asked"] for c in calls) - start,
            "slowest": [f"{c['url']} {1000 * (c['headers'] - c['sent']):.0f} ms at +{c['sent'] - start:.2f}s"
                        for c in slowest]}


def load(a: argparse.Namespace) -> None:
    with server(a) as base:
        b = Browser()
        try:
            times, rounds = [], []
            for i in range(a.n + 1):
                b.open(page_url(base, a.page, a.v1))
                w = waterfall(b.events)
                print(f"{a.page} load {'(warm-up) ' if not i else ''}{w['to_idle']:.2f}s to idle, first round of "
                      f"{w['distinct']} distinct calls {w['first_round']:.2f}s ({w['calls']} calls; first API call at "
                      f"+{w['first_api_call']:.2f}s; server: sum {w['server_sum']:.2f}s over {w['server_busy']:.2f}s "
                      f"busy = {w['server_concurrency']:.1f} at once; queued in the browser {w['queued_sum']:.2f}s)",
                      flush=True)
                if a.verbose:
                    for line in w["slowest"]:
                        print(f"    {line}")
                if i:
                    times.append(w["to_idle"])
                    rounds.append(w["first_round"])
            print(f"{a.page} to network idle: median {statistics.median(times):.2f}s, max {max(times):.2f}s; "
                  f"first round median {statistics.median(rounds):.2f}s, max {max(rounds):.2f}s; "
                  f"load average {os.getloadavg()[0]:.2f}")
        finally:
            b.close()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("step", choices=["record", "replay", "load"])
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--sqlite")
    where.add_argument("--postgres")
    where.add_argument("--url", help="a running server (Osprey or Prefect), e.g. http://127.0.0.1:4200")
    p.add_argument("--osprey", default=str(ROOT / "build" / "osprey"))
    p.add_argument("--v1", action="store_true", help="the Vue UI (v1) instead of the default React one (v2)")
    p.add_argument("--out", default="bench/ui_calls.json")
    p.add_argument("--calls", default=str(ROOT / "bench" / "ui_calls.json"))
    p.add_argument("--pages", help="comma-separated page names (default: all)")
    p.add_argument("--json", help="also write the replay's figures here")
    p.add_argument("-n", type=int, default=20)
    p.add_argument("--parallel", type=int, default=1,
                   help="replay: send each page's calls over this many connections at once (a browser uses 6)")
    p.add_argument("--readers", type=int, help="database.readers of the Osprey started here (default: its own)")
    p.add_argument("--io-threads", type=int, help="server.io_threads of the Osprey started here")
    p.add_argument("--page", default="/dashboard", help="load: the page's path (as in PAGES)")
    p.add_argument("-v", "--verbose", action="store_true", help="load: each load's five slowest calls")
    a = p.parse_args()
    {"record": record, "replay": replay, "load": load}[a.step](a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
