"""Scenario 5: persisted results. The client writes the value to its result storage and puts the result record's
metadata into state.data; the server must hand it back verbatim so State.result() works from the API state."""

import pytest


@pytest.fixture(scope="module")
def run(prefect):
    return prefect.run("persisted_results")


def assert_result_record(data, storage_key):
    assert data["storage_key"] == storage_key
    assert data["serializer"]["type"] == "pickle"
    assert data["prefect_version"]


def test_flow_state_data_round_trips(run, api):
    state = api.flow_run(run["flow_run_id"])["state"]
    assert state["type"] == "COMPLETED"
    assert_result_record(state["data"], run["flow_storage_key"])


def test_flow_result_is_readable_from_the_api_state(run, prefect):
    read = prefect.run("read_result", "flow_run", run["flow_run_id"])
    assert read["result"] == run["flow_result"] == {"from": "flow", "answer": 42}


def test_task_state_data_round_trips(run, api):
    recorded = api.wait_for_task_runs([run["task_run_id"]])[run["task_run_id"]]
    assert_result_record(recorded["state"]["data"], run["task_storage_key"])


def test_task_result_is_readable_from_the_api_state(run, api, prefect):
    api.wait_for_task_runs([run["task_run_id"]])
    read = prefect.run("read_result", "task_run", run["task_run_id"])
    assert read["result"] == run["task_result"] == {"from": "task", "items": [1, 2, 3]}
