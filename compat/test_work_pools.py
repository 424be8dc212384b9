"""Scenario: work pools, queues and workers with the real CLI and worker. `prefect work-pool create --type process`
works offline (the process type is in the client's own registry; the collections view it also asks for is
optional), the pool and its queues read back through `ls`/`inspect`, a flow run the client puts into a queue is
what a poll returns, and `prefect worker start` heartbeats, shows in the pool's workers and runs it to Completed.
(Runs of deployments through a worker are the deployments work's tests.)"""

import json
import uuid

from harness import wait_until


def new_pool(prefect) -> str:
    name = f"pool-{uuid.uuid4().hex[:8]}"
    out = prefect.cli("work-pool", "create", name, "--type", "process")
    assert f"Created work pool '{name}'" in out, out
    return name


def test_cli_creates_lists_and_inspects_a_process_pool(prefect, api):
    pool = new_pool(prefect)
    stored = api.get(f"/work_pools/{pool}")
    assert (stored["type"], stored["status"], stored["is_paused"]) == ("process", "NOT_READY", False)
    assert "job_configuration" in stored["base_job_template"]  # the process worker's template, sent by the CLI
    assert pool in prefect.cli("work-pool", "ls")
    shown = json.loads(prefect.cli("work-pool", "inspect", pool, "--output", "json"))
    assert (shown["name"], shown["default_queue_id"]) == (pool, stored["default_queue_id"])
    assert "default" in prefect.cli("work-queue", "ls", "--pool", pool)
    assert "Created work queue" in prefect.cli("work-queue", "create", "urgent", "--pool", pool, "--priority", "1")
    queues = api.post(f"/work_pools/{pool}/queues/filter", {})
    assert [(q["name"], q["priority"]) for q in queues] == [("urgent", 1), ("default", 2)]
    assert queues[0]["id"] in prefect.cli("work-queue", "inspect", "urgent", "--pool", pool)
    assert "urgent" in prefect.cli("work-queue", "ls")
    assert "paused" in prefect.cli("work-queue", "pause", "urgent", "--pool", pool)
    assert api.get(f"/work_pools/{pool}/queues/urgent")["status"] == "PAUSED"
    prefect.cli("work-pool", "create", pool, "--type", "process", expect_exit=1)
    refused = prefect.cli("work-pool", "create", "prefect-mine", "--type", "process", expect_exit=1)
    assert "reserved for internal use" in refused
    assert "Paused work pool" in prefect.cli("work-pool", "pause", pool)
    assert api.get(f"/work_pools/{pool}")["status"] == "PAUSED"
    assert "Resumed work pool" in prefect.cli("work-pool", "resume", pool)
    assert api.get(f"/work_pools/{pool}")["status"] == "NOT_READY"
    assert "Deleted work pool" in prefect.cli("work-pool", "delete", pool)
    assert api.status("GET", f"/work_pools/{pool}") == 404


def test_a_queued_run_is_polled_by_priority_and_a_worker_runs_it(prefect, api):
    pool = new_pool(prefect)
    prefect.cli("work-queue", "create", "urgent", "--pool", pool, "--priority", "1")
    later = prefect.run("queued_flow", pool, "", 1)
    first = prefect.run("queued_flow", pool, "urgent", 21)
    assert (first["work_pool_name"], first["work_queue_name"], first["state"]) == (pool, "urgent", "SCHEDULED")
    assert later["work_queue_name"] == "default"
    polled = api.post(f"/work_pools/{pool}/get_scheduled_flow_runs", {})
    assert [p["flow_run"]["id"] for p in polled] == [first["flow_run_id"], later["flow_run_id"]]
    assert {q["status"] for q in api.post(f"/work_pools/{pool}/queues/filter", {})} == {"READY"}

    out = prefect.cli("worker", "start", "--pool", pool, "--work-queue", "urgent", "--run-once", timeout=180)
    run = api.wait_for_flow_run(first["flow_run_id"], "COMPLETED", timeout=60)
    assert run["work_pool_name"] == pool, out
    assert api.flow_run(later["flow_run_id"])["state_type"] == "SCHEDULED"  # not its queue
    workers = api.post(f"/work_pools/{pool}/workers/filter", {})
    assert len(workers) == 1 and workers[0]["status"] == "ONLINE", workers
    assert api.get(f"/work_pools/{pool}")["status"] == "READY"
    logs = api.post("/logs/filter", {"logs": {"flow_run_id": {"any_": [first["flow_run_id"]]}}})
    assert any("doubling 21" in log["message"] for log in logs), logs

    worker = workers[0]["name"]
    assert api.status("DELETE", f"/work_pools/{pool}/workers/{worker}") == 204
    assert api.post(f"/work_pools/{pool}/workers/filter", {}) == []
