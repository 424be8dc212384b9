"""Scenario: deployments end to end with the real CLI and worker. `prefect work-pool create --type process`, `prefect
deploy` of a prefect.yaml whose flows live in a local directory (pull step `set_working_directory`), and `prefect
worker start --pool P` (no --work-queue: it polls every queue of the pool). `prefect deployment run` is run by the
worker to Completed with its logs stored; `prefect flow-run cancel` makes the worker's runner kill the flow's
process and the run ends Cancelled; a flow calling `run_deployment` waits for the child the worker runs; a
deployment with `concurrency_limit: 1` runs its runs one after the other (ENQUEUE), or cancels the newcomer
(CANCEL_NEW). An automation's run-deployment action starts a run, with a parameter rendered from its triggering
event, that the worker completes."""

import os
import re
import textwrap
import uuid

import pytest

from harness import wait_until

FLOWS = '''
import time
from prefect import flow, get_run_logger

@flow
def adder(x: int) -> int:
    get_run_logger().info("adding one to %s", x)
    return x + 1

@flow
def sleeper(seconds: float = 600) -> None:
    get_run_logger().info("sleeping %s", seconds)
    time.sleep(seconds)
'''

PROJECT = '''
name: e2e
prefect-version: 3.9.1
build: null
push: null
pull:
- prefect.deployments.steps.set_working_directory:
    directory: {directory}
deployments:
- name: plain
  entrypoint: flows.py:adder
  work_pool: {{name: {pool}}}
- name: sleepy
  entrypoint: flows.py:sleeper
  work_pool: {{name: {pool}}}
- name: one-at-a-time
  entrypoint: flows.py:sleeper
  parameters: {{seconds: 2}}
  concurrency_limit: 1
  work_pool: {{name: {pool}}}
- name: no-overlap
  entrypoint: flows.py:sleeper
  concurrency_limit: {{limit: 1, collision_strategy: CANCEL_NEW}}
  work_pool: {{name: {pool}}}
'''


@pytest.fixture(scope="module")
def deployed(prefect, api, tmp_path_factory):
    """A process pool, the project's deployments and a worker serving the pool (stopped at the end)."""
    pool = f"pool-{uuid.uuid4().hex[:8]}"
    project = tmp_path_factory.mktemp("project")
    (project / "flows.py").write_text(textwrap.dedent(FLOWS))
    (project / "prefect.yaml").write_text(PROJECT.format(directory=project, pool=pool))
    assert f"Created work pool '{pool}'" in prefect.cli("work-pool", "create", pool, "--type", "process")
    out = prefect.cli("--no-prompt", "deploy", "--all", cwd=project, timeout=120)
    for name in ("adder/plain", "sleeper/sleepy", "sleeper/one-at-a-time", "sleeper/no-overlap"):
        assert f"Deployment '{name}' successfully created" in out, out
    worker = prefect.start_cli("worker", "start", "--pool", pool, cwd=project, outlives_test=True,
                               env={"PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_WORKER_PREFETCH_SECONDS": "1"})
    wait_until(lambda: api.post(f"/work_pools/{pool}/workers/filter", {}), timeout=60,
               what=lambda: f"the worker's heartbeat:\n{worker.output()}")
    yield pool, worker
    worker.stop()


def run_deployment_cli(prefect, name: str, *params: str) -> str:
    args = [arg for p in params for arg in ("--param", p)]
    out = prefect.cli("deployment", "run", name, *args)
    return re.search(r"UUID: ([0-9a-f-]{36})", out).group(1)


def logs_of(api, run_id: str) -> list[str]:
    return [log["message"] for log in api.post("/logs/filter", {"logs": {"flow_run_id": {"any_": [run_id]}}})]


def pid_of(run: dict) -> int:
    return int(str(run["infrastructure_pid"]).rsplit(":", 1)[-1])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_worker_runs_a_deployment_run_to_completed_with_its_logs(prefect, api, deployed):
    pool, worker = deployed
    run_id = run_deployment_cli(prefect, "adder/plain", "x=1")
    run = api.wait_for_flow_run(run_id, "COMPLETED", timeout=120)
    assert (run["parameters"], run["work_pool_name"], run["work_queue_name"]) == ({"x": 1}, pool, "default")
    assert run["infrastructure_pid"], run
    assert "Running" in api.flow_run_state_names(run_id)
    messages = wait_until(lambda: (m := logs_of(api, run_id)) and "adding one to 1" in m and m, timeout=30,
                          what=lambda: f"the run's logs:\n{worker.output()}")
    assert any("set_working_directory" in m for m in messages), messages  # the pull step ran
    assert "COMPLETED" in prefect.cli("flow-run", "inspect", run_id)


def test_deployment_run_watch_streams_the_runs_logs_until_the_worker_completes_it(prefect, api, deployed):
    """`prefect deployment run --watch` follows the run over WS /api/logs/out and /api/events/out."""
    out = prefect.cli("deployment", "run", "adder/plain", "--param", "x=41", "--watch", "--watch-timeout", "120")
    run_id = re.search(r"UUID: ([0-9a-f-]{36})", out).group(1)
    assert "adding one to 41" in out, out  # the flow's own log, streamed while it ran
    assert api.flow_run(run_id)["state"]["type"] == "COMPLETED"


def test_cancelling_a_running_worker_run_kills_its_process(prefect, api, deployed):
    pool, worker = deployed
    run_id = run_deployment_cli(prefect, "sleeper/sleepy")
    running = api.wait_for_flow_run(run_id, "RUNNING", timeout=120)
    wait_until(lambda: "sleeping 600.0" in logs_of(api, run_id), timeout=30, what="the flow to start sleeping")
    pid = pid_of(running)
    assert alive(pid)
    assert "successfully scheduled for cancellation" in prefect.cli("flow-run", "cancel", run_id)
    run = api.wait_for_flow_run(run_id, "CANCELLED", timeout=60)
    assert "Cancelling" in api.flow_run_state_names(run_id)
    wait_until(lambda: not alive(pid), timeout=30, what=f"the flow's process {pid} to end")
    assert run["end_time"], run


def test_a_flow_calling_run_deployment_waits_for_the_child_the_worker_runs(prefect, api, deployed):
    parent = prefect.run("run_child_deployment", "adder/plain", 7, timeout=180)
    assert parent["state"] == "COMPLETED" and parent["child_state"] == "COMPLETED"
    assert parent["child_parameters"] == {"x": 7}
    child = api.flow_run(parent["child_id"])
    assert child["deployment_id"] == api.get("/deployments/name/adder/plain")["id"]
    assert child["parent_task_run_id"] is not None  # run_deployment links the child into the parent's run graph


def test_a_deployment_limited_to_one_runs_its_runs_one_after_the_other(prefect, api, deployed):
    deployment = api.get("/deployments/name/sleeper/one-at-a-time")
    limit = deployment["global_concurrency_limit"]
    assert (limit["limit"], limit["name"]) == (1, f"deployment:{deployment['id']}"), deployment
    # Both created at once through the API (a CLI call can take longer than the first run on a busy machine).
    first, second = (api.post(f"/deployments/{deployment['id']}/create_flow_run", {})["id"] for _ in range(2))
    runs = [api.wait_for_flow_run(r, "COMPLETED", timeout=180) for r in (first, second)]
    runs.sort(key=lambda r: r["start_time"])
    assert runs[0]["end_time"] <= runs[1]["start_time"], runs
    waited = [api.flow_run_state_names(r["id"]) for r in runs]
    assert any("AwaitingConcurrencySlot" in names for names in waited), waited
    wait_until(lambda: api.get(f"/v2/concurrency_limits/{limit['id']}")["active_slots"] == 0, timeout=30,
               what="the deployment's slot to be given back")


def test_cancel_new_cancels_a_run_arriving_while_the_slot_is_taken(prefect, api, deployed):
    first = run_deployment_cli(prefect, "sleeper/no-overlap")
    api.wait_for_flow_run(first, "RUNNING", timeout=120)
    second = run_deployment_cli(prefect, "sleeper/no-overlap")
    refused = api.wait_for_flow_run(second, "CANCELLED", timeout=120)
    assert api.flow_run_state_names(second) == ["Scheduled", "Cancelled"], refused  # never Pending nor Running
    assert refused["state"]["message"] == "Deployment concurrency limit reached."
    prefect.cli("flow-run", "cancel", first)
    api.wait_for_flow_run(first, "CANCELLED", timeout=60)


def test_an_automations_run_deployment_action_starts_a_run_the_worker_completes(prefect, api, deployed):
    name = f"auto-run-{uuid.uuid4().hex[:8]}"
    deployment_id = api.get("/deployments/name/adder/plain")["id"]
    automation_id = prefect.run("automation_run_deployment", "create", name, deployment_id)["automation_id"]
    prefect.run("automation_run_deployment", "emit", name, 41)

    def started() -> list[dict]:
        runs = api.post("/flow_runs/filter", {"deployments": {"id": {"any_": [deployment_id]}}, "limit": 200})
        return [r for r in runs if (r["idempotency_key"] or "").startswith(f"automation {automation_id}, action 0")]

    [run] = wait_until(started, timeout=60, what="the automation to start a run")
    assert run["parameters"] == {"x": 41}  # "{{ event.payload.n }}" keeps the payload's int
    done = api.wait_for_flow_run(run["id"], "COMPLETED", timeout=120)
    assert done["work_pool_name"] == deployed[0]
    executed = api.post("/events/filter", {"filter": {"event": {"name": ["prefect.automation.action.executed"]},
                                                      "resource": {"id": [f"prefect.automation.{automation_id}"]}}})
    [event] = executed["events"]
    flow_run = next(r for r in event["related"] if r["prefect.resource.role"] == "flow-run")
    assert flow_run["prefect.resource.id"] == f"prefect.flow-run.{run['id']}"
