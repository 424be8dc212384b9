"""Scenario 2: a flow calling @tasks directly, with .submit() and with .map() over 100 items. Task runs reach the
server only as events (WS /api/events/in → task-run recorder)."""

import pytest


@pytest.fixture(scope="module")
def run(prefect):
    run = prefect.run("tasks_fan_out")
    run["task_run_ids"] = run["direct"] + run["submitted"] + run["mapped"]
    return run


def test_the_flow_completes_with_every_task_result(run, api):
    assert len(run["direct"]) == 1 and len(run["submitted"]) == 5 and len(run["mapped"]) == 100
    assert run["result"] == 2 * (1 + sum(range(5)) + sum(range(100)))
    assert api.flow_run(run["flow_run_id"])["state_type"] == "COMPLETED"


def test_every_task_run_is_recorded_completed(run, api):
    recorded = api.wait_for_task_runs(run["task_run_ids"])
    assert {r["flow_run_id"] for r in recorded.values()} == {run["flow_run_id"]}
    assert {r["state_name"] for r in recorded.values()} == {"Completed"}


def test_every_task_run_has_its_full_state_history(run, api):
    api.wait_for_task_runs(run["task_run_ids"])
    for task_run_id in run["task_run_ids"]:
        assert api.task_run_state_names(task_run_id) == ["Pending", "Running", "Completed"], task_run_id


def test_task_runs_filter_by_flow_run_returns_them_all(run, api):
    api.wait_for_task_runs(run["task_run_ids"])
    assert sorted(r["id"] for r in api.task_runs_of(run["flow_run_id"])) == sorted(run["task_run_ids"])
