"""Plumbing for the compatibility suite: the Osprey daemon, Prefect programs and the prefect CLI run against
it, the REST API as the tests read it, and polling with deadlines (never sleeping as synchronisation)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import httpx

SCENARIOS = Path(__file__).parent / "scenarios"
LOOPBACK = "127.0.0.1"


def wait_until(probe: Callable[[], Any], *, timeout: float = 30, what: str | Callable[[], str] = "a condition") -> Any:
    """Calls `probe` until it returns something truthy (returned) or `timeout` seconds pass (AssertionError naming
    `what`, a string or a function giving one)."""
    deadline = time.monotonic() + timeout
    interval = 0.02
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            what = what() if callable(what) else what
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last value: {value!r})")
        time.sleep(interval)
        interval = min(interval * 2, 0.25)


def tail(path: Path, chars: int = 4000) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "<no output>"
    return text[-chars:]


class Osprey:
    """One `osprey server start --port 0` daemon with its own OSPREY_HOME (and database and `--config` file when
    given)."""

    def __init__(self, binary: Path, home: Path, database_url: str | None = None, config: Path | None = None):
        self.binary, self.home, self.database_url, self.config = binary, home, database_url, config
        self.log_path = home / "osprey.log"
        self.proc: subprocess.Popen | None = None
        self.url = ""

    @property
    def api_url(self) -> str:
        return self.url + "/api"

    def start(self, timeout: float = 60) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "OSPREY_"))}
        env["OSPREY_HOME"] = str(self.home)
        if self.database_url:
            env["OSPREY_DATABASE_URL"] = self.database_url
        with open(self.log_path, "wb") as log:
            config = ["--config", str(self.config)] if self.config else []
            self.proc = subprocess.Popen([str(self.binary), "server", "start", "--port", "0", *config], env=env,
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        port = wait_until(self._printed_port, timeout=timeout, what="osprey to print its port")
        self.url = f"http://{LOOPBACK}:{port}"
        wait_until(self._healthy, timeout=timeout, what="GET /api/health to answer true")
        banner = re.search(r"^\s*database\s+(\S+)", tail(self.log_path, 100_000), re.MULTILINE)
        scheme = "postgres" if self.database_url else "sqlite"
        assert banner and banner.group(1).startswith(scheme), f"osprey is not on {scheme}:\n{self.output()}"
        self.database = banner.group(1)

    def _printed_port(self) -> str | None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"osprey exited with {self.proc.returncode}:\n{tail(self.log_path)}")
        found = re.search(rf"listening on http://{re.escape(LOOPBACK)}:(\d+)", tail(self.log_path, 100_000))
        return found.group(1) if found else None

    def _healthy(self) -> bool:
        try:
            return httpx.get(self.api_url + "/health", timeout=2, trust_env=False).json() is True
        except httpx.HTTPError:
            return False

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, then the exit status (killed and -9 after `timeout`)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return -9

    def output(self) -> str:
        return tail(self.log_path)


class Api:
    """The server's REST API as the assertions read it (plain httpx, no Prefect client involved)."""

    def __init__(self, api_url: str):
        self.http = httpx.Client(base_url=api_url, timeout=15, trust_env=False)

    def get(self, path: str, **params: Any) -> Any:
        r = self.http.get(path, params=params)
        assert r.status_code == 200, f"GET {path} -> {r.status_code} {r.text}"
        return r.json()

    def post(self, path: str, body: Any) -> Any:
        r = self.http.post(path, json=body)
        assert r.status_code in (200, 201), f"POST {path} {body} -> {r.status_code} {r.text}"
        return r.json()

    def status(self, method: str, path: str, body: Any = None) -> int:
        return self.http.request(method, path, json=body).status_code

    def flow_run(self, run_id: str) -> dict:
        return self.get(f"/flow_runs/{run_id}")

    def flow_run_state_names(self, run_id: str) -> list[str]:
        return [s["name"] for s in self.get("/flow_run_states/", flow_run_id=run_id)]

    def task_run(self, run_id: str) -> dict | None:
        r = self.http.get(f"/task_runs/{run_id}")
        assert r.status_code in (200, 404), f"GET /task_runs/{run_id} -> {r.status_code} {r.text}"
        return r.json() if r.status_code == 200 else None

    def task_run_state_names(self, run_id: str) -> list[str]:
        return [s["name"] for s in self.get("/task_run_states/", task_run_id=run_id)]

    def task_runs_of(self, flow_run_id: str) -> list[dict]:
        return self.post("/task_runs/filter", {"task_runs": {"flow_run_id": {"any_": [flow_run_id]}}, "limit": 200})

    def child_flow_runs(self, parent_task_run_id: str) -> list[dict]:
        return self.post("/flow_runs/filter", {"flow_runs": {"parent_task_run_id": {"any_": [parent_task_run_id]}},
                                               "sort": "EXPECTED_START_TIME_ASC"})

    def wait_for_flow_run(self, run_id: str, state_type: str, timeout: float = 30) -> dict:
        return wait_until(lambda: (run := self.flow_run(run_id))["state_type"] == state_type and run,
                          timeout=timeout, what=f"flow run {run_id} to reach {state_type}")

    def wait_for_task_runs(self, ids: list[str], state_type: str = "COMPLETED", timeout: float = 30) -> dict[str, dict]:
        """Waits until every task run exists in `state_type` (the recorder writes them asynchronously)."""
        found: dict[str, dict] = {}

        def all_recorded() -> bool:
            for run_id in ids:
                if run_id not in found and (run := self.task_run(run_id)) and run["state_type"] == state_type:
                    found[run_id] = run
            return len(found) == len(ids)

        wait_until(all_recorded, timeout=timeout,
                   what=lambda: f"{len(ids)} task runs in {state_type} ({len(found)} so far)")
        return found


class Program:
    """A Prefect program (compat/scenarios/<name>.py) running in its own process against Osprey. It reports
    values through a JSON file (scenarios/_report.py); `report()` reads what it has said so far."""

    def __init__(self, name: str, args: tuple, env: dict, workdir: Path, command: list[str] | None = None,
                 cwd: Path | None = None):
        self.name = name
        workdir.mkdir(parents=True, exist_ok=True)
        self.report_path = workdir / f"{name}.json"
        self.output_path = workdir / f"{name}.out"
        env = dict(env, OSPREY_COMPAT_REPORT=str(self.report_path))
        command = command or [sys.executable, str(SCENARIOS / f"{name}.py")]
        with open(self.output_path, "wb") as out:
            self.proc = subprocess.Popen([*command, *map(str, args)], env=env, cwd=cwd or workdir,
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)

    def report(self) -> dict:
        try:
            return json.loads(self.report_path.read_text())
        except FileNotFoundError:
            return {}

    def wait_for(self, key: str, timeout: float = 60) -> Any:
        def reported() -> Any:
            if key in (values := self.report()):
                return (values[key],)
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited ({self.proc.returncode}) without reporting {key!r}:\n"
                                     f"{tail(self.output_path)}")
            return None

        return wait_until(reported, timeout=timeout, what=f"{self.name} to report {key!r}")[0]

    def finish(self, timeout: float = 120, check: bool = True) -> dict:
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"{self.name} still running after {timeout}s:\n{tail(self.output_path)}")
        if check:
            assert code == 0, f"{self.name} exited with {code}:\n{tail(self.output_path)}"
        return self.report()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self, timeout: float = 30) -> None:
        """SIGINT (a worker then stops its runs and exits), SIGKILL after `timeout`."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return tail(self.output_path)


class Prefect:
    """Runs the real Prefect client against one Osprey: programs from compat/scenarios and the prefect CLI."""

    def __init__(self, api_url: str, home: Path, workdir: Path):
        self.workdir = workdir
        self.counter = 0
        self.programs: list[Program] = []
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "OSPREY_"))}
        self.env.update({
            "PREFECT_API_URL": api_url,
            "PREFECT_HOME": str(home),
            "PREFECT_SERVER_EPHEMERAL_ENABLED": "false",   # never let the client start a server of its own
            "PREFECT_LOGGING_TO_API_BATCH_INTERVAL": "0.3",
            "PREFECT_CLI_COLORS": "false",
            "PREFECT_CLI_WRAP_LINES": "false",
            "COLUMNS": "250",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
        })

    def start(self, name: str, *args: Any) -> Program:
        self.counter += 1
        program = Program(name, args, self.env, self.workdir / f"{self.counter:03d}-{name}")
        self.programs.append(program)
        return program

    def start_cli(self, *args: str, cwd: Path | None = None, env: dict | None = None,
                  outlives_test: bool = False) -> Program:
        """`prefect <args>` as a long-running process (a worker). It is killed with the test's leftovers unless
        `outlives_test` (then its owner stops it)."""
        self.counter += 1
        prefect = Path(sys.executable).with_name("prefect")
        program = Program(args[0], args, dict(self.env, **(env or {})),
                          self.workdir / f"{self.counter:03d}-cli-{args[0]}", command=[str(prefect)], cwd=cwd)
        if not outlives_test:
            self.programs.append(program)
        return program

    def kill_leftovers(self) -> None:
        """Kills programs a failed test left running."""
        for program in self.programs:
            program.kill()
        self.programs.clear()

    def run(self, name: str, *args: Any, timeout: float = 120) -> dict:
        """Runs a program to completion (exit 0 asserted) and returns its report."""
        return self.start(name, *args).finish(timeout=timeout)

    def cli(self, *args: str, timeout: float = 180, expect_exit: int = 0, env: dict | None = None,
            cwd: Path | None = None) -> str:
        """`prefect <args>` (with `env` added to the environment, run in `cwd`); asserts the exit status and
        returns stdout+stderr."""
        prefect = Path(sys.executable).with_name("prefect")
        done = subprocess.run([str(prefect), *args], env=dict(self.env, **(env or {})), stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout, cwd=cwd)
        output = done.stdout + done.stderr
        assert done.returncode == expect_exit, f"prefect {' '.join(args)} exited {done.returncode}:\n{output}"
        return output


def fresh_postgres_database(compat_url: str) -> tuple[str, str]:
    """Creates a new database on the server of `compat_url`; returns (its URL, its name)."""
    name = f"osprey_own_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    subprocess.run(["psql", compat_url, "-v", "ON_ERROR_STOP=1", "-qc", f"CREATE DATABASE {name}"], check=True,
                   capture_output=True, text=True, timeout=60)
    parts = urlsplit(compat_url)
    return urlunsplit(parts._replace(path="/" + name)), name


@contextmanager
def configured_osprey(home: Path, config_text: str) -> Iterator[Osprey]:
    """An Osprey of a test module's own, started with `config_text` as its config file, on a fresh database of
    the compat PostgreSQL server when the run is on PostgreSQL. Stopped after (exit 0 on SIGTERM asserted) and
    its database dropped."""
    binary = Path(os.environ.get("OSPREY_BINARY", Path(__file__).resolve().parent.parent / "build" / "osprey"))
    assert binary.is_file(), f"no osprey binary at {binary} (set OSPREY_BINARY)"
    compat_url = os.environ.get("OSPREY_COMPAT_DATABASE_URL")
    database_url, pg_name = fresh_postgres_database(compat_url) if compat_url else (None, None)
    config = home / "osprey.yaml"
    config.write_text(config_text)
    daemon = Osprey(binary, home, database_url, config=config)
    try:
        daemon.start()
        yield daemon
        code = daemon.stop()
        assert code == 0, f"osprey exited with {code} on SIGTERM:\n{daemon.output()}"
    finally:
        if daemon.proc and daemon.proc.poll() is None:
            daemon.proc.kill()
            daemon.proc.wait()
        if pg_name:
            subprocess.run(["psql", compat_url, "-qc", f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)"],
                           capture_output=True, timeout=60)
