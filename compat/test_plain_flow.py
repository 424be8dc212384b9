"""Scenario 1: a plain @flow returning a value."""

import json

import pytest


@pytest.fixture(scope="module")
def run(prefect):
    return prefect.run("plain_flow")


def test_the_flow_returns_its_value_and_completes(run, api):
    assert run["result"] == 42
    flow_run = api.flow_run(run["flow_run_id"])
    assert flow_run["state_type"] == "COMPLETED"
    assert flow_run["run_count"] == 1
    assert api.flow_run_state_names(run["flow_run_id"]) == ["Pending", "Running", "Completed"]


def test_prefect_flow_run_inspect_shows_it(run, prefect):
    shown = json.loads(prefect.cli("flow-run", "inspect", run["flow_run_id"], "--output", "json"))
    assert shown["id"] == run["flow_run_id"]
    assert shown["state"]["type"] == "COMPLETED"
    assert run["flow_run_id"] in prefect.cli("flow-run", "inspect", run["flow_run_id"])
