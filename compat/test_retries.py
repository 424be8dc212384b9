"""Scenario 3: flow retries (decided by the server), task retries (decided by the client, recorded from events)
and task caching across a flow retry."""

import uuid

import pytest


@pytest.fixture(scope="module")
def flow_retries(prefect):
    return prefect.run("flow_retries")


@pytest.fixture(scope="module")
def task_retries(prefect):
    return prefect.run("task_retries")


@pytest.fixture(scope="module")
def cached(prefect):
    return prefect.run("cache_across_retry", uuid.uuid4().hex)


def test_flow_retried_twice_completes_on_the_third_run(flow_retries, api):
    assert flow_retries["result"] == 3
    flow_run = api.flow_run(flow_retries["flow_run_id"])
    assert flow_run["state_type"] == "COMPLETED"
    assert flow_run["run_count"] == 3


def test_flow_retry_history_goes_through_awaiting_retry(flow_retries, api):
    assert api.flow_run_state_names(flow_retries["flow_run_id"]) == [
        "Pending", "Running", "AwaitingRetry", "Running", "AwaitingRetry", "Running", "Completed"]


def test_task_retries_happen_in_the_client(task_retries, api):
    assert task_retries["task_result"] == 3 and task_retries["attempts"] == 3
    assert api.flow_run(task_retries["flow_run_id"])["state_type"] == "COMPLETED"


def test_task_retry_history_is_recorded(task_retries, api):
    task_run_id = task_retries["task_run_id"]
    api.wait_for_task_runs([task_run_id])
    assert api.task_run_state_names(task_run_id) == ["Pending", "Running", "Retrying", "Retrying", "Completed"]


def test_second_flow_attempt_gets_the_cached_task_result(cached, api):
    first, second = cached["attempts"]
    assert (first["state_name"], second["state_name"]) == ("Completed", "Cached")
    assert cached["executions"] == 1 and first["result"] == second["result"] == cached["result"]
    flow_run = api.flow_run(cached["flow_run_id"])
    assert (flow_run["state_type"], flow_run["run_count"]) == ("COMPLETED", 2)


def test_cached_task_run_is_recorded_as_cached(cached, api):
    first, second = cached["attempts"]
    recorded = api.wait_for_task_runs([first["task_run_id"], second["task_run_id"]])
    assert recorded[first["task_run_id"]]["state_name"] == "Completed"
    assert recorded[second["task_run_id"]]["state_name"] == "Cached"
    assert recorded[second["task_run_id"]]["state_type"] == "COMPLETED"
