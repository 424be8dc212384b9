"""Scenario 8: the prefect CLI's read paths (flow ls, flow-run ls, flow-run inspect) and flow-run delete."""

import json
import uuid

import pytest


@pytest.fixture(scope="module")
def run(prefect):
    flow_name = f"cli-flow-{uuid.uuid4().hex[:8]}"
    return dict(prefect.run("plain_flow", flow_name), flow_name=flow_name)


def test_prefect_flow_ls_lists_the_flow(run, prefect):
    assert run["flow_name"] in prefect.cli("flow", "ls")
    listed = json.loads(prefect.cli("flow", "ls", "--output", "json"))
    assert run["flow_name"] in [f["name"] for f in listed]


def test_prefect_flow_run_ls_lists_the_run(run, prefect):
    assert run["flow_run_id"] in prefect.cli("flow-run", "ls")
    listed = {r["id"]: r for r in json.loads(prefect.cli("flow-run", "ls", "--output", "json"))}
    assert listed[run["flow_run_id"]]["state"]["type"] == "COMPLETED"
    completed = json.loads(prefect.cli("flow-run", "ls", "--state-type", "COMPLETED", "--output", "json"))
    assert run["flow_run_id"] in [r["id"] for r in completed]


def test_prefect_flow_run_inspect_shows_the_run(run, prefect):
    shown = json.loads(prefect.cli("flow-run", "inspect", run["flow_run_id"], "--output", "json"))
    assert (shown["id"], shown["state_type"], shown["parameters"]) == (run["flow_run_id"], "COMPLETED", {})


def test_prefect_flow_run_inspect_of_an_unknown_run_fails_cleanly(prefect):
    unknown = str(uuid.uuid4())
    assert f"Flow run '{unknown}' not found!" in prefect.cli("flow-run", "inspect", unknown, expect_exit=1)


def test_prefect_flow_run_delete_removes_it(prefect, api):
    flow_run_id = prefect.run("plain_flow")["flow_run_id"]
    assert "Successfully deleted" in prefect.cli("flow-run", "delete", flow_run_id)
    assert api.status("GET", f"/flow_runs/{flow_run_id}") == 404
    assert f"Flow run '{flow_run_id}' not found!" in prefect.cli("flow-run", "delete", flow_run_id, expect_exit=1)
