"""Scenario: deployments and the scheduler. `flow.serve(name=..., interval=3)` runs what Osprey's scheduler creates,
re-serving does not duplicate runs, `run_deployment` from a flow waits for its child, the CLI reads deployments
and schedules, and pausing a deployment stops new runs."""

import collections
import json
import time
import uuid

from harness import wait_until


def runs_of(api, deployment_id: str) -> list[dict]:
    return api.post("/flow_runs/filter", {"deployments": {"id": {"any_": [deployment_id]}}, "limit": 200})


def completed_scheduled(api, deployment_id: str) -> list[dict]:
    return [r for r in runs_of(api, deployment_id) if r["state_type"] == "COMPLETED" and r["auto_scheduled"]]


def serve(prefect, api, name: str):
    program = prefect.start("served_flow", name)
    program.wait_for("serving", timeout=60)
    deployment = wait_until(lambda: api.status("GET", f"/deployments/name/served/{name}") == 200
                            and api.get(f"/deployments/name/served/{name}"), timeout=60, what="the deployment")
    return program, deployment


def test_serve_runs_scheduled_runs_and_reserving_does_not_duplicate_them(prefect, api):
    name = f"every-3s-{uuid.uuid4().hex[:6]}"
    program, deployment = serve(prefect, api, name)
    assert [s["schedule"]["interval"] for s in deployment["schedules"]] == [3.0]
    done = wait_until(lambda: len(completed_scheduled(api, deployment["id"])) >= 2 and completed_scheduled(api, deployment["id"]),
                      timeout=120, what=lambda: f"two scheduled runs to complete:\n{program.output()}")
    assert all(r["created_by"]["type"] == "SCHEDULE" and "auto-scheduled" in r["tags"] for r in done)
    program.kill()

    program, again = serve(prefect, api, name)
    assert again["id"] == deployment["id"] and len(again["schedules"]) == 1
    before = len(completed_scheduled(api, deployment["id"]))
    wait_until(lambda: len(completed_scheduled(api, deployment["id"])) >= before + 2, timeout=120,
               what=lambda: f"runs after re-serving:\n{program.output()}")
    runs = runs_of(api, deployment["id"])
    keys = collections.Counter(r["idempotency_key"] for r in runs)
    times = collections.Counter(r["expected_start_time"] for r in runs)
    assert max(keys.values()) == 1 and max(times.values()) == 1, (keys.most_common(2), times.most_common(2))

    assert name in prefect.cli("deployment", "ls")
    shown = prefect.cli("deployment", "inspect", f"served/{name}")
    assert deployment["id"] in shown
    assert "interval" in prefect.cli("deployment", "schedule", "ls", f"served/{name}")

    # A flow calling run_deployment waits for the child run, which the serving process runs.
    parent = prefect.run("run_child_deployment", f"served/{name}", 7, timeout=180)
    assert parent["state"] == "COMPLETED" and parent["child_state"] == "COMPLETED"
    assert parent["child_parameters"] == {"x": 7}
    assert api.flow_run(parent["child_id"])["deployment_id"] == deployment["id"]

    # Pausing drops the runs still scheduled, and the scheduler makes no new ones.
    assert api.status("POST", f"/deployments/{deployment['id']}/pause_deployment") == 200
    assert api.get(f"/deployments/{deployment['id']}")["paused"] is True
    scheduled = lambda: [r for r in runs_of(api, deployment["id"]) if r["state_type"] == "SCHEDULED"]
    assert scheduled() == []
    count = len(runs_of(api, deployment["id"]))
    api.status("PATCH", f"/deployments/{deployment['id']}", {"description": "poke the scheduler"})
    time.sleep(4)  # not a synchronisation: the window in which a paused deployment must stay quiet
    assert scheduled() == [] and len(runs_of(api, deployment["id"])) == count
    program.kill()


def test_an_rrule_schedule_made_with_the_cli_is_read_back_and_scheduled(prefect, api):
    flow = api.post("/flows/", {"name": "rrule-flow"})
    name = f"weekdays-{uuid.uuid4().hex[:6]}"
    deployment = api.post("/deployments/", {"name": name, "flow_id": flow["id"]})
    rule = "DTSTART:20260105T093000\nRRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR"
    prefect.cli("deployment", "schedule", "create", f"rrule-flow/{name}", "--rrule", rule, "--timezone", "Asia/Kolkata")
    listed = prefect.cli("deployment", "schedule", "ls", f"rrule-flow/{name}")
    assert "FREQ=WEEKLY;BYDAY=MO,WE,FR" in listed, listed
    stored = api.get(f"/deployments/{deployment['id']}/schedules")
    assert [s["schedule"] for s in stored] == [{"rrule": rule, "timezone": "Asia/Kolkata"}]
    runs = wait_until(lambda: len(runs_of(api, deployment["id"])) >= 3 and runs_of(api, deployment["id"]), timeout=60,
                      what="three runs from the rrule schedule")
    for run in runs:
        # 09:30 in Kolkata (UTC+05:30) is 04:00 UTC, on a Monday, Wednesday or Friday.
        assert "T04:00:00" in run["expected_start_time"], run["expected_start_time"]
        assert run["created_by"]["display_value"] == "RRuleSchedule"
