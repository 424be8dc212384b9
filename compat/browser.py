"""A headless Chromium (Debian's `chromium`) driven over the Chrome DevTools Protocol: open a page, wait until
its network is quiet, and collect what went wrong (console errors, uncaught exceptions, failed loads, responses
4xx/5xx). No driver binary and no extra package: the protocol is JSON over the websocket Chromium opens, and the
`websockets` client comes with the Prefect client."""

from __future__ import annotations

import base64
import itertools
import json
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from websockets.sync.client import connect

from harness import wait_until


LOOPBACK = re.compile(r"^(https?|wss?)://127\.0\.0\.1[:/]")


@dataclass
class PageReport:
    url: str
    problems: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)  # requests beyond loopback (refused, not counted as problems)
    api_calls: list[str] = field(default_factory=list)  # "POST /api/flow_runs/filter 200"
    text: str = ""


class Browser:
    """One Chromium process with one tab. `open(url)` navigates and returns a PageReport."""

    def __init__(self, binary: str | None = None, width: int = 1400, height: int = 900):
        binary = binary or shutil.which("chromium") or shutil.which("chromium-browser")
        assert binary, "no chromium on PATH (scripts/install-deps.sh installs it)"
        self.profile = tempfile.mkdtemp(prefix="osprey-chromium-")
        self.log_path = Path(self.profile) / "chromium.log"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
             "--no-default-browser-check", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
             # Tests reach nothing beyond loopback: the UI's analytics and logo fetches fail at once, here.
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
             f"--user-data-dir={self.profile}", f"--window-size={width},{height}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        port = wait_until(self._devtools_port, timeout=30, what="chromium to open its DevTools port")
        pages = wait_until(lambda: [t for t in httpx.get(f"http://127.0.0.1:{port}/json/list", trust_env=False).json()
                                    if t["type"] == "page"], timeout=15, what="chromium's first tab")
        self.ws = connect(pages[0]["webSocketDebuggerUrl"], max_size=None, open_timeout=15)
        self.ids = itertools.count(1)
        self.events: list[dict] = []
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")

    def _devtools_port(self) -> str | None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"chromium exited with {self.proc.returncode}:\n{self.log_path.read_text(errors='replace')}")
        found = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", self.log_path.read_text(errors="replace"))
        return found.group(1) if found else None

    def call(self, method: str, timeout: float = 30, **params) -> dict:
        """Sends one command and returns its result; events that arrive meanwhile are kept in self.events."""
        call_id = next(self.ids)
        self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.ws.recv(timeout=max(0.01, deadline - time.monotonic())))
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def _pump(self, until: float) -> None:
        """Collects events until `until` (monotonic) or until none arrive for a moment."""
        try:
            while time.monotonic() < until:
                self.events.append(json.loads(self.ws.recv(timeout=max(0.01, until - time.monotonic()))))
        except TimeoutError:
            pass

    def open(self, url: str, settle: float = 2.5, timeout: float = 60) -> PageReport:
        """Navigates to `url` and waits for the load event and the page's first API answer, then until no request
        has been in flight for `settle` seconds (the UI polls every few seconds, so "never idle" is not an
        option), at most `timeout` seconds. A page that does not settle is reported as a problem."""
        self.events.clear()
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        in_flight: dict[str, str] = {}
        loaded = api_answered = False
        quiet_since = time.monotonic()
        seen = 0
        while time.monotonic() < deadline:
            self._pump(min(deadline, time.monotonic() + 0.2))
            for event in self.events[seen:]:
                method, params = event.get("method"), event.get("params", {})
                if method == "Page.loadEventFired":
                    loaded = True
                elif method == "Network.requestWillBeSent" and params["request"]["url"].startswith("http"):
                    in_flight[params["requestId"]] = params["request"]["method"] + " " + params["request"]["url"]
                elif method in ("Network.loadingFinished", "Network.loadingFailed"):
                    api_answered = api_answered or "/api/" in in_flight.get(params["requestId"], "")
                    in_flight.pop(params["requestId"], None)
                if method and method.startswith("Network."):
                    quiet_since = time.monotonic()
            seen = len(self.events)
            if loaded and api_answered and not in_flight and time.monotonic() - quiet_since >= settle:
                break
        report = self._report(url)
        if not loaded or in_flight:
            report.problems.append(f"did not settle in {timeout}s: loaded={loaded}, in flight: {sorted(in_flight.values())}")
        return report

    def _report(self, url: str) -> PageReport:
        report = PageReport(url)
        requests: dict[str, tuple[str, str]] = {}
        for event in self.events:
            method, p = event.get("method"), event.get("params", {})
            target = (p.get("request") or p.get("response") or p.get("entry") or {}).get("url", "")
            if method and target.startswith("http") and not LOOPBACK.match(target):
                if method == "Network.requestWillBeSent":
                    report.external.append(target)
                continue
            if method == "Network.loadingFailed" and not LOOPBACK.match(requests.get(p["requestId"], ("", ""))[1]):
                continue
            if method == "Network.requestWillBeSent":
                requests[p["requestId"]] = (p["request"]["method"], p["request"]["url"])
            elif method == "Network.responseReceived":
                verb, target = requests.get(p["requestId"], ("?", p["response"]["url"]))
                status = p["response"]["status"]
                if "/api/" in target:
                    report.api_calls.append(f"{verb} {target} {status}")
                if status >= 400:
                    report.problems.append(f"{verb} {target} answered {status}")
            elif method == "Network.loadingFailed" and not p.get("canceled"):
                verb, target = requests.get(p["requestId"], ("?", "?"))
                report.problems.append(f"{verb} {target} failed: {p.get('errorText')}")
            elif method == "Runtime.exceptionThrown":
                details = p["exceptionDetails"]
                report.problems.append("uncaught: " + (details.get("exception", {}).get("description") or details.get("text", "")))
            elif method == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
                report.problems.append("console.error: " + " ".join(
                    str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
            elif method == "Log.entryAdded" and p["entry"]["level"] == "error":
                report.problems.append(f"log: {p['entry'].get('text')} {p['entry'].get('url', '')}")
        report.text = self.call("Runtime.evaluate", expression="document.body ? document.body.innerText : ''",
                                returnByValue=True)["result"].get("value", "")
        return report

    def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"]))

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.log.close()
            shutil.rmtree(self.profile, ignore_errors=True)
