"""Scenario 6: logs from get_run_logger() are stored (POST /api/logs/) and read back by POST /api/logs/filter and
`prefect flow-run logs`."""

import uuid

import pytest


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
