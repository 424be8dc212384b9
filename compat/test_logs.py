"""Scenario 6: logs from get_run_logger() are stored (POST /api/logs/) and read back by POST /api/logs/filter and
`prefect flow-run logs`."""

import uuid
from datetime import datetime, timezone

import pytest

from harness import wait_until


@pytest.fixture(scope="module")
def run(prefect):
    marker = uuid.uuid4().hex
    return dict(prefect.run("run_logs", marker), marker=marker)


def test_logs_filter_returns_the_flow_and_task_logs(run, api):
    logs = api.post("/logs/filter", {"logs": {"flow_run_id": {"any_": [run["flow_run_id"]]}}})
    by_message = {log["message"]: log for log in logs}
    flow_log, task_log = by_message[f"flow says {run['marker']}"], by_message[f"task says {run['marker']}"]
    assert (flow_log["level"], flow_log["task_run_id"]) == (20, None)
    assert (task_log["level"], task_log["task_run_id"]) == (30, run["task_run_id"])
    assert {log["flow_run_id"] for log in logs} == {run["flow_run_id"]}
    assert [log["timestamp"] for log in logs] == sorted(log["timestamp"] for log in logs)


def test_prefect_flow_run_logs_prints_them(run, prefect):
    shown = prefect.cli("flow-run", "logs", run["flow_run_id"])
    assert f"flow says {run['marker']}" in shown
    assert f"task says {run['marker']}" in shown


def test_prefect_flow_run_watch_streams_live_logs_until_the_run_completes(prefect, api):
    """`prefect flow-run watch` follows WS /api/logs/out and /api/events/out until a terminal state."""
    flow = api.post("/flows/", {"name": f"watched-{uuid.uuid4().hex[:8]}"})
    run = api.post("/flow_runs/", {"flow_id": flow["id"], "state": {"type": "PENDING", "name": "Pending"}})
    watcher = prefect.start_cli("flow-run", "watch", run["id"])

    def log(message: str) -> None:
        api.post("/logs/", [{"name": "watched", "level": 20, "message": message,
                             "timestamp": datetime.now(timezone.utc).isoformat(), "flow_run_id": run["id"]}])

    # The stream is live only: tick until the watcher shows one, so it is subscribed before what follows.
    ticks = iter(range(1_000_000))

    def subscribed() -> bool:
        log(f"tick {next(ticks)}")
        assert watcher.proc.poll() is None, watcher.output()
        return "tick " in watcher.output()

    wait_until(subscribed, timeout=60, what="the watcher to print a live log")
    marker = uuid.uuid4().hex
    log(f"last words {marker}")
    for state in ("RUNNING", "COMPLETED"):
        assert api.post(f"/flow_runs/{run['id']}/set_state",
                        {"state": {"type": state, "name": state.title()}})["status"] == "ACCEPT"
    watcher.finish(timeout=60)
    shown = watcher.output()
    assert f"last words {marker}" in shown
    assert "Flow run finished successfully in 'Completed'" in shown
