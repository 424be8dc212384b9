"""Scenario: work pools, queues and workers with the real CLI and worker. `prefect work-pool create --type process`
works offline (the process type is in the client's own registry; the collections view it also asks for is
optional), the pool and its queues read back through `ls`/`inspect`, a flow run the client puts into a queue is
what a poll returns, and `prefect worker start` heartbeats, shows in the pool's workers and runs it to Completed.
A long-running worker heartbeats over the worker channel (WS /api/work_pools/P/workers/connect) instead of REST.
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


def test_a_worker_heartbeats_over_the_worker_channel_and_still_runs_a_flow(prefect, api):
    """The worker's debug log shows the channel healthy (its REST heartbeats skipped, never disabled nor falling
    back), its heartbeats keep arriving all the same, and it runs a queued flow to Completed."""
    pool = new_pool(prefect)
    queued = prefect.run("queued_flow", pool, "", 4)
    worker = prefect.start_cli("worker", "start", "--pool", pool,
                               env={"PREFECT_LOGGING_LEVEL": "DEBUG", "PREFECT_WORKER_HEARTBEAT_SECONDS": "1",
                                    "PREFECT_WORKER_QUERY_SECONDS": "1"})
    healthy = "Skipping REST worker heartbeat because the worker channel is healthy"

    def log() -> str:  # the whole of it: debug logs are long
        return worker.output_path.read_text(errors="replace")

    wait_until(lambda: healthy in log(), timeout=60, what=lambda: f"a healthy channel:\n{worker.output()}")
    [first] = wait_until(lambda: api.post(f"/work_pools/{pool}/workers/filter", {}), timeout=30, what="the worker")
    assert first["status"] == "ONLINE" and first["heartbeat_interval_seconds"] == 1, first
    # Heartbeats every second, and none of them over REST: they come on the channel.
    wait_until(lambda: api.post(f"/work_pools/{pool}/workers/filter", {})[0]["last_heartbeat_time"]
               > first["last_heartbeat_time"], timeout=30, what="a later heartbeat")
    run = api.wait_for_flow_run(queued["flow_run_id"], "COMPLETED", timeout=120)
    assert run["work_pool_name"] == pool
    assert api.get(f"/work_pools/{pool}")["status"] == "READY"
    seen = log()
    assert "Worker channel disabled" not in seen and "REST fallback is active" not in seen, worker.output()
    worker.stop()
