"""Scenario: background tasks with the real client. Runs delayed with `task.delay()` before any task worker is up
wait in Osprey; `prefect.task_worker.serve(task)` in another process subscribes over
WS /api/task_runs/subscriptions/scheduled, gets each run once, runs it to Completed, and the submitter's futures
return the results. POST /api/task_workers/filter lists the worker while it is subscribed."""

import asyncio
import json
import uuid

import pytest
import websockets

from harness import wait_until


def test_delayed_runs_wait_for_a_task_worker_that_then_runs_each_once(prefect, api):
    submitter = prefect.start("background_tasks", "submit", 1, 2, 3)
    run_ids = submitter.wait_for("task_run_ids")
    assert len(run_ids) == 3
    for run_id in run_ids:
        run = api.task_run(run_id)
        assert run["state"]["type"] == "SCHEDULED" and run["state"]["state_details"]["deferred"] is True, run
        assert run["flow_run_id"] is None
    task_key = api.task_run(run_ids[0])["task_key"]
    assert [w for w in api.post("/task_workers/filter", {"task_worker_filter": {"task_keys": [task_key]}})] == []

    worker = prefect.start("background_tasks", "serve")
    try:
        workers = wait_until(lambda: api.post("/task_workers/filter", {"task_worker_filter": {"task_keys": [task_key]}}),
                             timeout=60, what=lambda: f"the task worker to subscribe:\n{worker.output()}")
        assert workers[0]["task_keys"] == [task_key], workers
        assert submitter.finish(timeout=180)["results"] == [3, 4, 5]
        for run_id in run_ids:
            assert api.task_run_state_names(run_id)[-1] == "Completed", api.task_run_state_names(run_id)
            assert api.task_run_state_names(run_id).count("Running") == 1  # each run handed out once
        # Another delayed run, with the worker already waiting: handed over at once.
        assert prefect.run("background_tasks", "submit", 40, 2, 1)["results"] == [42]
    finally:
        worker.stop()
    wait_until(lambda: not api.post("/task_workers/filter", {}), timeout=30, what="the worker to be forgotten")


def test_the_worker_filter_checks_its_body(api):
    assert api.post("/task_workers/filter", {"task_worker_filter": {"task_keys": [f"none-{uuid.uuid4().hex}"]}}) == []
    assert api.status("POST", "/task_workers/filter", {"task_worker_filter": {"task_keys": "x"}}) == 422


async def _closed_after(url: str, messages: list[dict]) -> tuple[int, str]:
    async with websockets.connect(url, subprotocols=["prefect"]) as ws:
        await ws.send(json.dumps({"type": "auth", "token": None}))
        assert json.loads(await ws.recv()) == {"type": "auth_success"}
        for m in messages:
            await ws.send(json.dumps(m))
        with pytest.raises(websockets.exceptions.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), timeout=10)
        return ws.close_code, ws.close_reason


def test_a_worker_that_breaks_the_protocol_is_closed_with_prefects_reason(osprey):
    url = osprey.api_url.replace("http://", "ws://") + "/task_runs/subscriptions/scheduled"
    cases = [([{"type": "hello"}], "Protocol violation: expected 'subscribe' message"),
             ([{"type": "subscribe", "keys": []}], "Protocol violation: expected 'keys' in subscribe message"),
             ([{"type": "subscribe", "keys": ["k"]}], "Protocol violation: expected 'client_id' in subscribe message")]
    for messages, reason in cases:
        assert asyncio.run(_closed_after(url, messages)) == (4001, reason)
