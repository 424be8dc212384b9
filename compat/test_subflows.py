"""Scenario 4: subflows. The parent records a tracking task run (POST /api/task_runs/) per subflow, finds or
creates the child run (POST /api/flow_runs/filter by parent_task_run_id), and the server copies each child state
onto its tracking task run."""

import pytest


@pytest.fixture(scope="module")
def concurrent(prefect):
    return prefect.run("subflows_concurrent")


@pytest.fixture(scope="module")
def parent_retry(prefect):
    return prefect.run("subflow_parent_retry")


def test_ten_concurrent_subflows_complete(concurrent, api):
    assert [c["total"] for c in concurrent["children"]] == [
        sum((10 * i + j) ** 2 for j in range(10)) for i in range(10)]
    assert api.flow_run(concurrent["flow_run_id"])["state_type"] == "COMPLETED"
    for child in concurrent["children"]:
        assert api.flow_run(child["flow_run_id"])["state_type"] == "COMPLETED"


def test_each_subflow_is_linked_to_a_tracking_task_run_of_the_parent(concurrent, api):
    for child in concurrent["children"]:
        tracking_id = api.flow_run(child["flow_run_id"])["parent_task_run_id"]
        tracking = api.task_run(tracking_id)
        assert tracking["flow_run_id"] == concurrent["flow_run_id"]
        assert tracking["state_type"] == "COMPLETED"
        assert tracking["state"]["state_details"]["child_flow_run_id"] == child["flow_run_id"]
        assert [r["id"] for r in api.child_flow_runs(tracking_id)] == [child["flow_run_id"]]


def test_the_tracking_task_run_mirrors_every_child_state(concurrent, parent_retry, api):
    tracking_id = api.flow_run(concurrent["children"][0]["flow_run_id"])["parent_task_run_id"]
    assert api.task_run_state_names(tracking_id) == ["Pending", "Pending", "Running", "Completed"]
    tracking_id = api.flow_run(parent_retry["children"][0])["parent_task_run_id"]
    assert api.task_run_state_names(tracking_id) == [
        "Pending", "Pending", "Running", "Failed", "Pending", "Running", "Completed"]


def test_the_tracking_task_run_keeps_run_bookkeeping(parent_retry, api):
    tracking_id = api.flow_run(parent_retry["children"][0])["parent_task_run_id"]
    tracking = api.task_run(tracking_id)
    states = api.get("/task_run_states/", task_run_id=tracking_id)
    running = [s["timestamp"] for s in states if s["type"] == "RUNNING"]
    assert tracking["run_count"] == 2
    assert tracking["start_time"] == running[0]
    assert tracking["end_time"] == states[-1]["timestamp"]
    assert tracking["total_run_time"] > 0


def test_each_subflow_ran_its_ten_tasks(concurrent, api):
    for child in concurrent["children"]:
        api.wait_for_task_runs(child["task_run_ids"])
        assert sorted(r["id"] for r in api.task_runs_of(child["flow_run_id"])) == sorted(child["task_run_ids"])


def test_parent_retry_reruns_the_failed_subflow_as_a_new_child_run(parent_retry, api):
    assert parent_retry["result"] == "child done"
    parent = api.flow_run(parent_retry["flow_run_id"])
    assert (parent["state_type"], parent["run_count"]) == ("COMPLETED", 2)
    first, second = (api.flow_run(i) for i in parent_retry["children"])
    assert (first["state_type"], second["state_type"]) == ("FAILED", "COMPLETED")
    assert first["parent_task_run_id"] == second["parent_task_run_id"]
    tracking = api.task_run(second["parent_task_run_id"])
    assert tracking["state_type"] == "COMPLETED"
    assert tracking["state"]["state_details"]["child_flow_run_id"] == second["id"]
